import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/config/config-file.ts';
import { loadConfigFile, parseConfig } from '../../functions/config/load.ts';
import { testConfig } from '../helpers/config.ts';

function problemsOf(document: unknown): string[] {
  try {
    parseConfig(document);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('the config was accepted');
}

describe('tenant configuration', () => {
  it('accepts the documented example and fills documented defaults', () => {
    const config = parseConfig(testConfig());
    const employees = config.realms.find((realm) => realm.name === 'employees');
    expect(employees?.bruteForce).toEqual({ maxConsecutiveFailures: 10, blockSeconds: 900 });
    expect(employees?.passwordPolicy).toEqual({ minLength: 8 });
    expect(config.apis[1]?.allowOfflineAccess).toBe(false);
    expect(Object.isFrozen(config.clients[0])).toBe(true);
  });

  it('takes a realm MFA policy (off by default) and the MFA grant type URIs, and names a bad policy', () => {
    const base = testConfig();
    const config = parseConfig({
      ...base,
      realms: [{ name: 'customers', mfa: { policy: 'required' } }, { name: 'employees' }],
      clients: [
        {
          clientId: 'mobile-app',
          name: 'Mobile app',
          grantTypes: [
            'password',
            'http://auth0.com/oauth/grant-type/mfa-otp',
            'http://auth0.com/oauth/grant-type/mfa-recovery-code',
          ],
          realms: ['customers'],
        },
      ],
    });
    expect(config.realms.map((realm) => realm.mfa.policy)).toEqual(['required', 'off']);
    expect(
      problemsOf({
        ...base,
        realms: [{ name: 'customers', mfa: { policy: 'always' } }, { name: 'employees' }],
      }),
    ).toEqual(['realms[0].mfa.policy: Invalid option: expected one of "off"|"enrolled"|"required"']);
  });

  it('leaves DPoP optional by default: no client requires it, no nonces, proofs a minute old at most', () => {
    const config = parseConfig(testConfig());
    expect(config.clients.map((client) => client.requireDpop)).toEqual([false, false, false]);
    expect(config.dpop).toEqual({ requireNonce: false, proofMaxAgeSeconds: 60 });
    expect(problemsOf({ ...testConfig(), dpop: { proofMaxAgeSeconds: 301, requireNonce: 'yes' } })).toEqual([
      expect.stringMatching(/^dpop\.requireNonce: /),
      expect.stringMatching(/^dpop\.proofMaxAgeSeconds: /),
    ]);
  });

  it('leaves sign-up off and sends no mail by default; a realm that sends mail needs the sender', () => {
    const config = parseConfig(testConfig());
    expect(config.realms[0]?.signup).toEqual({ enabled: false, requireUsername: false, maxPerIpPerHour: 20 });
    expect(config.realms[0]?.emailVerification).toBe('off');
    expect(config.email).toBeUndefined();
    const [customers, employees] = testConfig().realms;
    const verifying = {
      ...testConfig(),
      realms: [{ ...customers, signup: { enabled: true }, emailVerification: 'required' }, employees],
    };
    expect(problemsOf(verifying)).toEqual([
      'email.from: required: realm "customers" (realms[0]) sends mail (emailVerification "required")',
    ]);
    const withSender = parseConfig({ ...verifying, email: { from: 'no-reply@example.com' }, name: 'Shop' });
    expect(withSender.email).toEqual({ from: 'no-reply@example.com' });
    expect(problemsOf({ ...verifying, email: { from: 'nobody', replyTo: 'x' } })).toEqual([
      expect.stringMatching(/^email\.from: Invalid email/),
      expect.stringMatching(/^email\.replyTo: Invalid email/),
    ]);
    expect(
      problemsOf({
        ...testConfig(),
        realms: [
          { ...customers, signup: { enabled: 'yes', maxPerIpPerHour: 0 }, emailVerification: 'always' },
          employees,
        ],
      }),
    ).toEqual([
      'realms[0].signup.enabled: Invalid input: expected boolean, received string',
      'realms[0].signup.maxPerIpPerHour: Too small: expected number to be >0',
      'realms[0].emailVerification: Invalid option: expected one of "off"|"optional"|"required"',
    ]);
  });

  it('accepts the shipped passgate.config.json', () => {
    expect(loadConfigFile(join(import.meta.dirname, '../../passgate.config.json')).defaultRealm).toBe(
      'customers',
    );
  });

  it('reports every problem at once, each by field path', () => {
    const config = testConfig();
    const problems = problemsOf({
      ...config,
      defaultAudience: 'https://nowhere.example.com/',
      realms: [...(config.realms ?? []), { name: 'customers' }],
      clients: [
        ...(config.clients ?? []),
        { clientId: 'mobile-app', name: 'Dup', grantTypes: ['password'], realms: ['staff'] },
        { clientId: 'x', name: 'X', grantTypes: ['implicit'], realms: ['customers'] },
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'realms[2].name: duplicate realm "customers"',
        'defaultAudience: "https://nowhere.example.com/" is not the identifier of an API in apis',
        'clients[3].clientId: duplicate client "mobile-app"',
        'clients[3].realms[0]: unknown realm "staff"',
        // The password grant signs into defaultRealm, which this client may not use: never works.
        'clients[3].realms: the password grant signs into defaultRealm "customers", which these realms leave out',
        expect.stringMatching(/^clients\[4\]\.grantTypes\[0\]: /),
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  it('refuses unknown fields, a bad CIDR, a /0 block and a trusted public client', () => {
    const config = testConfig();
    const problems = problemsOf({
      ...config,
      extra: true,
      ipThrottling: { allowlist: ['300.1.1.1/0', '0.0.0.0/0', '::/0', '10.0.0.0/8', '2001:db8::/32'] },
      clients: [
        {
          clientId: 'pub',
          name: 'Pub',
          grantTypes: ['password'],
          realms: ['customers'],
          trustForwardedFor: true,
        },
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\(root\): .*extra/),
        'ipThrottling.allowlist[0]: must be an IP address or CIDR block',
        'ipThrottling.allowlist[1]: must not be a /0 block (AWS WAF refuses it); to exempt every IP, raise maxFailuresPerDay instead',
        'ipThrottling.allowlist[2]: must not be a /0 block (AWS WAF refuses it); to exempt every IP, raise maxFailuresPerDay instead',
        'clients[0].trustForwardedFor: only a confidential client (with clientSecretHash) may be trusted',
      ]),
    );
    expect(problems.filter((problem) => problem.startsWith('ipThrottling'))).toHaveLength(3);
  });

  it('accepts exact origins and explains, by field path, every origin a browser would never send', () => {
    const client = (allowedOrigins: string[]) => ({
      clientId: 'web',
      name: 'Web',
      grantTypes: ['password' as const],
      realms: ['customers'],
      allowedOrigins,
    });
    const good = [
      'https://app.example.com',
      'http://localhost:5173',
      'http://127.0.0.1:8080',
      'http://[::1]:3000',
    ];
    expect(parseConfig(testConfig({ clients: [client(good)] })).clients[0]?.allowedOrigins).toEqual(good);
    expect(parseConfig(testConfig()).clients[0]?.allowedOrigins).toEqual([]);
    const problems = problemsOf(
      testConfig({
        clients: [
          client([
            'https://app.example.com/',
            'https://app.example.com/login',
            'https://*.example.com',
            'null',
            'http://app.example.com',
            'HTTPS://App.Example.com',
            'https://app.example.com:443',
            'ftp://files.example.com',
          ]),
        ],
      }),
    );
    expect(problems).toEqual([
      'clients[0].allowedOrigins[0]: must be exactly scheme://host[:port] with no path or trailing "/" (did you mean "https://app.example.com"?)',
      'clients[0].allowedOrigins[1]: must be exactly scheme://host[:port] with no path or trailing "/" (did you mean "https://app.example.com"?)',
      'clients[0].allowedOrigins[2]: must be one exact origin: wildcards are not allowed',
      'clients[0].allowedOrigins[3]: must be an origin like "https://app.example.com"',
      'clients[0].allowedOrigins[4]: must use https: (plain http: only for localhost, 127.0.0.1 and [::1])',
      'clients[0].allowedOrigins[5]: must be exactly scheme://host[:port] with no path or trailing "/" (did you mean "https://app.example.com"?)',
      'clients[0].allowedOrigins[6]: must be exactly scheme://host[:port] with no path or trailing "/" (did you mean "https://app.example.com"?)',
      'clients[0].allowedOrigins[7]: must be an http(s) origin',
    ]);
  });

  it("takes a client's own refresh token lifetimes, each falling back to the tenant's", () => {
    const config = parseConfig(
      testConfig({
        clients: [
          {
            clientId: 'web',
            name: 'Web',
            grantTypes: ['password' as const],
            realms: ['customers'],
            refreshTokens: { idleTtlSeconds: 86_400 },
          },
        ],
      }),
    );
    expect(config.clients[0]?.refreshTokens).toEqual({ idleTtlSeconds: 86_400 });
    const webClient = {
      clientId: 'web',
      name: 'Web',
      grantTypes: ['password'],
      realms: ['customers'],
      // The leeway is the tenant's alone: it is about races between a client's own requests.
      refreshTokens: { idleTtlSeconds: 0, reuseLeewaySeconds: 5 },
    };
    expect(problemsOf({ ...testConfig(), clients: [webClient] })).toEqual(
      expect.arrayContaining([
        'clients[0].refreshTokens.idleTtlSeconds: Too small: expected number to be >0',
        expect.stringMatching(/^clients\[0\]\.refreshTokens: .*reuseLeewaySeconds/),
      ]),
    );
  });

  it('names the file and the reason when it cannot be read or parsed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'passgate-config-'));
    writeFileSync(join(dir, 'bom.json'), `\uFEFF${JSON.stringify(testConfig())}`);
    expect(loadConfigFile(join(dir, 'bom.json')).defaultRealm).toBe(testConfig().defaultRealm);
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(() => loadConfigFile(join(dir, 'bad.json'))).toThrow(/bad\.json: .*not valid JSON/s);
    expect(() => loadConfigFile(join(dir, 'missing.json'))).toThrow(
      /missing\.json: .*cannot read the file \(ENOENT\)/s,
    );
  });
});
