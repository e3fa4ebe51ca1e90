import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runningStoreEndpoint } from '../../functions/local/embedded-store.ts';
import { runCli } from '../helpers/cli.ts';
import { API, testConfig } from '../helpers/config.ts';
import { json } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';

let server: TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  env = { PASSGATE_DATA_DIR: server.dataDir, PASSGATE_CONFIG: server.configPath };
});
afterAll(() => server.stop());

const login = (username: string, password: string, extra: Record<string, string> = {}) =>
  server.token({ grant_type: 'password', client_id: 'mobile-app', username, password, ...extra });

/** A raw request to the running server's embedded store, with the headers a browser would add. */
function storeRequest(method: string, headers: Record<string, string>) {
  const endpoint = new URL(runningStoreEndpoint(server.dataDir) as string);
  return new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
    const sent = request(
      endpoint,
      {
        method,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          ...headers,
        },
      },
      (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, headers: response.headers });
      },
    );
    sent.on('error', reject);
    sent.end(method === 'POST' ? '{}' : undefined);
  });
}

describe("the running server's embedded store", () => {
  it('refuses what a web page could send: an Origin, a preflight, another Host', async () => {
    for (const [method, headers] of [
      ['POST', { origin: 'https://evil.example' }],
      ['OPTIONS', { origin: 'https://evil.example', 'access-control-request-method': 'POST' }],
      ['POST', { host: 'rebound.evil.example' }],
    ] as const) {
      const reply = await storeRequest(method, headers);
      expect(reply.status).toBe(403);
      expect(reply.headers['access-control-allow-origin']).toBeUndefined();
    }
    // The same request without them is an SDK client's, and is served (the CLI tests below use it).
    expect((await storeRequest('POST', {})).status).toBe(400); // unsigned: dynalite's own answer
  });
});

describe('passgate CLI while the server runs', () => {
  it('creates a user from --password-stdin who can then log in', async () => {
    const created = await runCli(
      [
        'users',
        'create',
        '--realm',
        'customers',
        '--username',
        'zoe',
        '--email',
        'zoe@example.com',
        '--password-stdin',
      ],
      { env, stdin: 'a long enough password\n' },
    );
    // Which store it used, on stderr (PASSGATE_DATA_DIR is set here); the result on stdout.
    expect(created.stderr).toBe(`passgate: local store ${server.dataDir} (PASSGATE_DATA_DIR)\n`);
    expect(created.code).toBe(0);
    expect(created.stdout.trim()).toMatch(/^created user zoe in realm customers \(id [0-9a-f]{24}\)$/);
    const response = await login('zoe', 'a long enough password');
    expect(response.status).toBe(200);
  });

  it('prints one JSON document with --json and never the password hash', async () => {
    const result = await runCli(['users', 'get', '--realm', 'customers', '--username', 'ZOE', '--json'], {
      env,
    });
    expect(result.code).toBe(0);
    const user = JSON.parse(result.stdout);
    expect(user).toMatchObject({
      username: 'zoe',
      email: 'zoe@example.com',
      realm: 'customers',
      logins_count: 1,
    });
    expect(result.stdout).not.toMatch(/argon2|password_hash/);
  });

  it('refuses with a message and a non-zero status: unknown realm, existing user, weak password, missing user', async () => {
    const cases = [
      [
        ['users', 'create', '--realm', 'staff', '--username', 'x', '--password-stdin'],
        'long enough password',
        /unknown realm "staff"/,
      ],
      [
        ['users', 'create', '--realm', 'customers', '--username', 'Zoe', '--password-stdin'],
        'long enough password',
        /already exists/,
      ],
      [
        ['users', 'create', '--realm', 'customers', '--username', 'yan', '--password-stdin'],
        'short',
        /weak password: password must be at least 8 characters/,
      ],
      [
        ['users', 'create', '--realm', 'customers', '--username', 'yan', '--password-stdin'],
        'Password123',
        /weak password: password is one of the most common passwords in realm "customers"/,
      ],
      [
        ['users', 'set-password', '--realm', 'customers', '--username', 'zoe', '--password-stdin'],
        'iloveyou2',
        /weak password: password is one of the most common passwords in realm "customers"/,
      ],
      [
        ['users', 'block', '--realm', 'customers', '--username', 'nobody'],
        '',
        /no user "nobody" in realm "customers"/,
      ],
    ] as const;
    for (const [args, stdin, message] of cases) {
      const result = await runCli([...args], { env, stdin });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    }
    const usage = await runCli(['users', 'create', '--realm', 'customers'], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--username is required/);
  });

  it('refuses input that is not UTF-8 instead of storing passwords nobody can type', async () => {
    const latin1 = Buffer.from('caf\xe9 au lait 1234', 'latin1');
    const created = await runCli(
      ['users', 'create', '--realm', 'customers', '--username', 'latin', '--password-stdin'],
      { env, stdin: latin1 },
    );
    expect([created.code, created.stdout]).toEqual([1, '']);
    expect(created.stderr).toBe(
      'passgate: the password on stdin is not UTF-8 text; convert it to UTF-8 first\n',
    );
    const file = join(mkdtempSync(join(tmpdir(), 'passgate-latin1-')), 'users.json');
    writeFileSync(
      file,
      Buffer.concat([Buffer.from('[{"email":"latin@example.com","password":"'), latin1, Buffer.from('"}]')]),
    );
    const imported = await runCli(['users', 'import', '--realm', 'customers', file], { env });
    expect(imported.code).toBe(1);
    expect(imported.stderr).toMatch(/users\.json is not UTF-8 text/);
    expect(
      (await runCli(['users', 'get', '--realm', 'customers', '--username', 'latin'], { env })).code,
    ).toBe(1);
  });

  // Nine CLI processes: on a busy machine each takes seconds to start.
  it('blocks, unblocks, changes the password, grants permissions, lists and deletes', {
    timeout: 120_000,
  }, async () => {
    const block = await runCli(['users', 'block', '--realm', 'customers', '--username', 'zoe'], { env });
    expect(block.code).toBe(0);
    expect((await login('zoe', 'a long enough password')).status).toBe(403);
    await runCli(['users', 'unblock', '--realm', 'customers', '--username', 'zoe'], { env });
    expect((await login('zoe', 'a long enough password')).status).toBe(200);

    const changed = await runCli(
      ['users', 'set-password', '--realm', 'customers', '--username', 'zoe', '--password-stdin'],
      {
        env,
        stdin: 'the new password\n',
      },
    );
    expect(changed.code).toBe(0);
    expect((await login('zoe', 'a long enough password')).status).toBe(400);
    expect((await login('zoe', 'the new password')).status).toBe(200);

    const grant = (api: string, scopes: string) =>
      runCli(
        ['users', 'grant', '--realm', 'customers', '--username', 'zoe', '--api', api, '--scopes', scopes],
        {
          env,
        },
      );
    const granted = await grant('https://strict.example.com/', 'read:reports');
    expect(granted.code).toBe(0);
    const strict = await json(
      await login('zoe', 'the new password', {
        audience: 'https://strict.example.com/',
        scope: 'read:reports admin:reports',
      }),
    );
    expect(strict.scope).toBe('read:reports');
    const badScope = await grant(API, 'fly:planes');
    expect(badScope.code).toBe(1);
    // An empty list takes the last permission back.
    const revoked = await grant('https://strict.example.com/', '');
    expect([revoked.code, revoked.stdout.trim()]).toEqual([
      0,
      'zoe now holds on https://strict.example.com/: (none)',
    ]);
    const none = await json(
      await login('zoe', 'the new password', {
        audience: 'https://strict.example.com/',
        scope: 'read:reports',
      }),
    );
    expect(none.scope).toBe('');

    const listed = await runCli(['users', 'list', '--realm', 'customers', '--json'], { env });
    expect(JSON.parse(listed.stdout).map((user: { username: string }) => user.username)).toEqual(['zoe']);

    const deleted = await runCli(['users', 'delete', '--realm', 'customers', '--username', 'zoe'], { env });
    expect(deleted.code).toBe(0);
    expect((await login('zoe', 'the new password')).status).toBe(400);
  });
});

describe('passgate CLI without a running server', () => {
  it('opens the data dir itself, and prints a client secret with its hash', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'passgate-cli-'));
    const configPath = join(dataDir, 'config.json');
    writeFileSync(configPath, JSON.stringify(testConfig()));
    const offline = { PASSGATE_DATA_DIR: dataDir, PASSGATE_CONFIG: configPath };
    try {
      const created = await runCli(
        ['users', 'create', '--realm', 'employees', '--username', 'eve', '--password-stdin'],
        {
          env: offline,
          stdin: 'eight chars',
        },
      );
      expect(created.code).toBe(0);
      const listed = await runCli(['users', 'list', '--realm', 'employees'], { env: offline });
      expect(listed.stdout).toMatch(/^eve \(employees\|[0-9a-f]{24}\), 0 login\(s\)/);

      const secret = await runCli(['clients', 'secret', '--json'], { env: offline });
      const { client_secret, clientSecretHash } = JSON.parse(secret.stdout);
      const { hashClientSecret } = await import('../../functions/oauth/client-auth.ts');
      expect(hashClientSecret(client_secret)).toBe(clientSecretHash);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to run on a bad config with one line per problem', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'passgate-cli-'));
    const configPath = join(dataDir, 'config.json');
    writeFileSync(configPath, JSON.stringify({ ...testConfig(), defaultRealm: 'staff' }));
    const result = await runCli(['users', 'list', '--realm', 'customers'], {
      env: { PASSGATE_DATA_DIR: dataDir, PASSGATE_CONFIG: configPath },
    });
    rmSync(dataDir, { recursive: true, force: true });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/defaultRealm: unknown realm "staff"/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
