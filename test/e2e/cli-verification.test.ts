import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import type { TenantConfigInput } from '../../functions/config/schema.ts';
import { runCli } from '../helpers/cli.ts';
import { testConfig } from '../helpers/config.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { outboxMails } from '../helpers/outbox.ts';

/** Customers require verified addresses; employees send no mail. */
function verifyingConfig(): TenantConfigInput {
  const base = testConfig();
  const [customers, ...others] = base.realms;
  return {
    ...base,
    email: { from: 'no-reply@shop.example' },
    realms: [{ ...customers, emailVerification: 'required' } as never, ...others],
  };
}

let server: TestServer;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startTestServer({ config: verifyingConfig() });
  // PORT: the links point where the local server listens.
  env = { PASSGATE_DATA_DIR: server.dataDir, PASSGATE_CONFIG: server.configPath, PORT: String(server.port) };
});
afterAll(() => server?.stop());

const PASSWORD = 'walnut lantern quietly drifts';
const login = (username: string, realm = 'customers') =>
  server.token({
    grant_type: GRANT_PASSWORD_REALM,
    client_id: 'realm-only',
    username,
    password: PASSWORD,
    realm,
  });

async function createUser(username: string, email: string, realm = 'customers') {
  const run = await runCli(
    [
      'users',
      'create',
      '--realm',
      realm,
      '--username',
      username,
      '--email',
      email,
      '--password-stdin',
      '--quiet',
    ],
    { env, stdin: PASSWORD },
  );
  expect(run.code, run.stderr).toBe(0);
}

// Several CLI processes each: on a busy machine each start takes seconds.
describe('email verification by hand (the CLI)', { timeout: 120_000 }, () => {
  it('mails a new link on resend-verification (the outbox, its link on stderr) that verifies the address', async () => {
    await createUser('ines', 'ines@example.com');
    expect((await login('ines')).status).toBe(403);
    const run = await runCli(['users', 'resend-verification', '--realm', 'customers', '--username', 'ines'], {
      env,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^sent a new verification link to ines@example\.com for ines \(customers\|[0-9a-f]{24}\)/,
    );
    const [mail] = outboxMails(server.dataDir).filter((m) => m.to === 'ines@example.com');
    expect(mail?.link).toMatch(new RegExp(`^${server.issuer}verify-email\\?ticket=`));
    expect(run.stderr).toContain(`link: ${mail?.link}`);
    expect((await fetch(mail?.link as string)).status).toBe(200);
    expect((await login('ines')).status).toBe(200);
    const again = await runCli(
      ['users', 'resend-verification', '--realm', 'customers', '--username', 'ines'],
      { env },
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('the address of user "ines" is verified already');
  });

  it('marks the address verified on verify-email, and says why it cannot', async () => {
    await createUser('omar', 'omar@example.com');
    const run = await runCli(
      ['users', 'verify-email', '--realm', 'customers', '--username', 'omar', '--json'],
      { env },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      username: 'omar',
      email: 'omar@example.com',
      email_verified: true,
    });
    expect((await login('omar')).status).toBe(200);
    const noAddress = await runCli(
      ['users', 'create', '--realm', 'customers', '--username', 'pia', '--password-stdin', '--quiet'],
      {
        env,
        stdin: PASSWORD,
      },
    );
    expect(noAddress.code).toBe(0);
    const refused = await runCli(['users', 'verify-email', '--realm', 'customers', '--username', 'pia'], {
      env,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('user "pia" has no email address');
  });

  it('refuses to mail from a realm that does not verify addresses', async () => {
    await createUser('eva', 'eva@example.com', 'employees');
    const run = await runCli(['users', 'resend-verification', '--realm', 'employees', '--username', 'eva'], {
      env,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('realm "employees" does not verify addresses (emailVerification "off")');
    expect(outboxMails(server.dataDir).filter((m) => m.to === 'eva@example.com')).toEqual([]);
  });
});
