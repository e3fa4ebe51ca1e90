import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../functions/local/paths.ts';
import { testConfig } from '../helpers/config.ts';

const workDir = mkdtempSync(join(tmpdir(), 'passgate-cdk-app-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** The environment of an operator's shell with no AWS account configured. */
function noAwsEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return { ...env, CDK_DISABLE_CLI_TELEMETRY: '1', ...extra };
}

/** `bin/app.ts` as the CDK CLI runs it (cdk.json "app"), with the context the CLI would pass. */
function runApp(configPath: string, context: Record<string, unknown> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: noAwsEnvironment({
      PASSGATE_CONFIG: configPath,
      CDK_OUTDIR: join(workDir, 'out'),
      CDK_CONTEXT_JSON: JSON.stringify(context),
    }),
  });
}

describe('the CDK app', () => {
  it('stops synth on a bad tenant config with one line per problem, no stack trace', () => {
    const configPath = join(workDir, 'bad.config.json');
    const bad = testConfig({ defaultRealm: 'staff' });
    bad.clients[0] = { ...(bad.clients[0] as (typeof bad.clients)[0]), realms: ['nowhere'] };
    writeFileSync(configPath, JSON.stringify(bad));
    const result = runApp(configPath);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `${configPath}: 2 problem(s) in the passgate configuration:\n` +
        '  defaultRealm: unknown realm "staff"\n' +
        '  clients[0].realms[0]: unknown realm "nowhere"\n',
    );
  });

  it('stops synth on bad deployment settings in cdk.json, naming each field', () => {
    const configPath = join(workDir, 'good.config.json');
    writeFileSync(configPath, JSON.stringify(testConfig()));
    const result = runApp(configPath, {
      passgate: { stackName: '1st', wafs: false, logRetentionDays: 42, signingKey: 7 },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      '4 problem(s) in the passgate stack settings:\n' +
        '  stackName: must start with a letter; letters, digits and "-" only\n' +
        '  signingKey: Invalid input: expected string, received number\n' +
        '  logRetentionDays: must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, …)\n' +
        '  (root): Unrecognized key: "wafs"\n',
    );
  });

  it('refuses the example config, naming each example value, unless -c demo=true', () => {
    const example = join(repoRoot, 'passgate.config.json');
    const refused = runApp(example);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      `${example} still holds 4 example value(s); replace them before a real deployment (see docs/deploying.md), or synthesize a demo with -c demo=true:\n` +
        '  defaultAudience: "https://api.example.com/" is a documentation domain (RFC 2606)\n' +
        '  apis[0].identifier: "https://api.example.com/" is a documentation domain (RFC 2606)\n' +
        "  clients[1].clientSecretHash: the example's, which every copy of passgate has; make one with `npx passgate clients secret`\n" +
        '  ipThrottling.allowlist[0]: 192.0.2.0/24 is a documentation address range (RFC 5737, RFC 3849)\n',
    );
    // A custom domain under example.com in cdk.json is one too.
    const domain = runApp(example, {
      passgate: {
        customDomain: {
          domainName: 'auth.example.com',
          certificateArn: 'arn:aws:acm:eu-west-1:1:certificate/x',
        },
      },
    });
    expect(domain.stderr).toContain(
      '  customDomain.domainName (cdk.json): "auth.example.com" is a documentation domain (RFC 2606)\n',
    );
    // A config with its own values passes; so does the example, said to be a demo.
    const ownPath = join(workDir, 'own.config.json');
    const own = testConfig({
      defaultAudience: 'https://api.shop.test/',
      apis: [{ identifier: 'https://api.shop.test/', scopes: ['read:orders'] }],
      ipThrottling: { maxFailuresPerDay: 100, allowlist: ['10.1.0.0/16'] },
    });
    own.clients = own.clients.filter((client) => client.realms.includes('customers'));
    writeFileSync(ownPath, JSON.stringify(own));
    expect(runApp(ownPath).stderr).not.toMatch(/example value/);
    expect(runApp(example, { demo: true }).stderr).not.toMatch(/example value/);
  }, 120_000);

  it('synthesizes with `npx cdk synth`: no AWS credentials, no Docker', { timeout: 240_000 }, () => {
    const out = join(workDir, 'cdk.out');
    const result = spawnSync(
      process.execPath,
      [
        join(repoRoot, 'node_modules/aws-cdk/bin/cdk'),
        'synth',
        '--quiet',
        '--no-notices',
        '--output',
        out,
        '-c',
        'demo=true',
      ],
      { cwd: repoRoot, encoding: 'utf8', env: noAwsEnvironment({ PATH: process.env.PATH ?? '' }) },
    );
    expect(result.stderr).not.toMatch(/docker/i);
    expect(result.status).toBe(0);
    const template = JSON.parse(readFileSync(join(out, 'Passgate.template.json'), 'utf8'));
    expect(Object.keys(template.Outputs)).toEqual(
      expect.arrayContaining(['Issuer', 'TokenEndpoint', 'JwksUri', 'UsersTableName', 'CounterKeySecretArn']),
    );
    expect(existsSync(join(repoRoot, 'dist/functions/token/index.mjs'))).toBe(true);
  });
});
