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
