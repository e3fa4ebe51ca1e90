import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import { jsonLogger } from '../../functions/logging.ts';
import { BACKOFFICE_SECRET } from '../helpers/config.ts';
import { json, postFormFrom } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser } from '../helpers/users.ts';

const lines: string[] = [];
const secrets = new Set<string>([BACKOFFICE_SECRET]);
let server: TestServer;

const PASSWORD = 'audit: correct horse battery staple';

beforeAll(async () => {
  server = await startTestServer({ logger: jsonLogger((line) => lines.push(line)) });
  const alice = await addUser(server, { username: 'alice', password: PASSWORD });
  const erin = await addUser(server, { realm: 'employees', username: 'erin', password: PASSWORD });
  for (const user of [alice, erin]) secrets.add(user.password_hash);
  secrets.add(PASSWORD);
});
afterAll(() => server.stop());

/** Every line the server wrote, parsed: each must be one JSON object. */
const events = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
const auditEvents = () => events().filter((event) => event.audit === true);

describe('audit events', () => {
  it('writes one structured line per authentication event, and never a secret', async () => {
    const token = (
      params: Record<string, string>,
      from = '127.0.0.1',
      headers: Record<string, string> = {},
    ) =>
      postFormFrom(from, `${server.issuer}oauth/token`, params, {
        'user-agent': 'AuditTest/1.0',
        ...headers,
      });
    const ok = await token({
      grant_type: 'password',
      client_id: 'mobile-app',
      username: 'alice',
      password: PASSWORD,
      scope: 'openid',
    });
    secrets.add(ok.body.access_token).add(ok.body.id_token);
    const wrongPasswords = Array.from({ length: 10 }, (_, i) => `audit: wrong password ${i}`);
    for (const password of wrongPasswords) {
      secrets.add(password);
      await token(
        { grant_type: 'password', client_id: 'mobile-app', username: 'alice', password },
        '127.0.0.2',
      );
    }
    await token(
      { grant_type: 'password', client_id: 'mobile-app', username: 'alice', password: PASSWORD },
      '127.0.0.2',
    );
    await token({ grant_type: 'password', client_id: 'mobile-app', username: 'nobody', password: PASSWORD });
    const realm = await token(
      {
        grant_type: GRANT_PASSWORD_REALM,
        realm: 'employees',
        username: 'erin',
        password: PASSWORD,
        client_id: 'backoffice',
        client_secret: BACKOFFICE_SECRET,
      },
      '127.0.0.1',
      { 'auth0-forwarded-for': '203.0.113.50' },
    );
    secrets.add(realm.body.access_token);
    await token({
      grant_type: 'password',
      client_id: 'backoffice',
      client_secret: 'audit: a wrong client secret',
    });
    secrets.add('audit: a wrong client secret');

    const audit = auditEvents();
    expect(audit.map((event) => event.type)).toEqual(['s', ...Array(10).fill('fp'), 'limit_wc', 'fu', 's']);
    expect(audit[0]).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      level: 'info',
      message: 'auth event',
      audit: true,
      type: 's',
      description: 'Successful login',
      realm: 'customers',
      client_id: 'mobile-app',
      user_id: expect.stringMatching(/^[0-9a-f]{24}$/),
      ip: '127.0.0.1',
      user_agent: 'AuditTest/1.0',
      request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(audit[11]).toMatchObject({ type: 'limit_wc', ip: '127.0.0.2', user_id: audit[0]?.user_id });
    expect(audit[12]).toMatchObject({ type: 'fu', realm: 'customers' });
    expect(audit[12]).not.toHaveProperty('user_id');
    expect(audit[13]).toMatchObject({
      type: 's',
      realm: 'employees',
      client_id: 'backoffice',
      ip: '203.0.113.50',
    });
    // One line per login, its audit event: a refused login is not logged a second time. The
    // wrong client secret, which no audit event covers, is the one other line.
    expect(events().filter((event) => event.audit !== true)).toEqual([
      expect.objectContaining({ message: 'request refused', status: 401, error: 'invalid_client' }),
    ]);

    const everything = lines.join('\n');
    for (const secret of secrets) expect(everything).not.toContain(secret);
    expect(everything).not.toMatch(/eyJ[A-Za-z0-9_-]+\./); // no JWT of any kind
    expect(everything).not.toMatch(/\$argon2/);
    expect(everything).not.toContain('alice'); // usernames are not logged either
  });

  it('audits refresh exchanges, reuse and revocation without any token in the log', async () => {
    const before = auditEvents().length;
    const post = (path: string, params: Record<string, string>) =>
      postFormFrom('127.0.0.9', `${server.issuer}${path}`, params);
    const login = await post('oauth/token', {
      grant_type: 'password',
      client_id: 'mobile-app',
      username: 'alice',
      password: PASSWORD,
      scope: 'offline_access read:orders',
    });
    const first = login.body.refresh_token as string;
    const refreshed = await post('oauth/token', {
      grant_type: 'refresh_token',
      client_id: 'mobile-app',
      refresh_token: first,
    });
    const second = refreshed.body.refresh_token as string;
    await post('oauth/token', { grant_type: 'refresh_token', client_id: 'mobile-app', refresh_token: first });
    const again = await post('oauth/token', {
      grant_type: 'password',
      client_id: 'mobile-app',
      username: 'alice',
      password: PASSWORD,
      scope: 'offline_access',
    });
    await post('oauth/revoke', { client_id: 'mobile-app', token: again.body.refresh_token });
    for (const value of [
      first,
      second,
      again.body.refresh_token,
      login.body.access_token,
      refreshed.body.access_token,
    ]) {
      expect(value).toEqual(expect.any(String));
      secrets.add(value);
    }
    expect(
      auditEvents()
        .slice(before)
        .map((event) => [event.type, event.level]),
    ).toEqual([
      ['s', 'info'],
      ['sertft', 'info'],
      ['ferrt', 'warn'],
      ['fertft', 'info'],
      ['s', 'info'],
      ['srrt', 'info'],
    ]);
    const everything = lines.join('\n');
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });

  it('logs a malformed request at most once, and only as JSON', async () => {
    const before = lines.length;
    const response = await fetch(`${server.issuer}oauth/token`, {
      method: 'POST',
      body: 'x',
      headers: { 'content-type': 'text/plain' },
    });
    expect((await json(response)).error).toBe('invalid_request');
    expect(lines.length - before).toBeLessThanOrEqual(1);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });
});
