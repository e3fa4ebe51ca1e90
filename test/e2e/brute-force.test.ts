import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setBlocked, setPassword } from '../../functions/admin/user-admin.ts';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import { BACKOFFICE_SECRET, testConfig } from '../helpers/config.ts';
import { postFormFrom } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser, adminServices } from '../helpers/users.ts';

const PASSWORD = 'correct horse battery staple';
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  for (const username of ['alice', 'bob', 'carol', 'dave', 'erin'])
    await addUser(server, { username, password: PASSWORD });
  await addUser(server, { realm: 'employees', username: 'frank', password: PASSWORD });
});
afterAll(() => server.stop());

const login = (username: string, password: string, from = '127.0.0.1') =>
  postFormFrom(from, `${server.issuer}oauth/token`, {
    grant_type: 'password',
    client_id: 'mobile-app',
    username,
    password,
  });

async function fail(username: string, times: number, from = '127.0.0.1') {
  for (let i = 0; i < times; i += 1) {
    const { status, body } = await login(username, `wrong password ${i}`, from);
    expect([status, body.error]).toEqual([400, 'invalid_grant']);
  }
}

describe('brute-force protection per user and IP', () => {
  it('blocks after 10 consecutive failures, even the right password, for that user and IP only', async () => {
    await fail('alice', 10);
    const blocked = await login('alice', PASSWORD);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toBe('too_many_attempts');
    // Another user from the same IP, and the same user from another IP, are unaffected.
    expect((await login('bob', PASSWORD)).status).toBe(200);
    expect((await login('alice', PASSWORD, '127.0.0.2')).status).toBe(200);
  });

  it('checks at most 10 passwords of a burst of parallel guesses, however many read the count at 0', async () => {
    await addUser(server, { username: 'grace', password: PASSWORD });
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) => login('grace', `parallel guess ${i}`, '127.0.0.3')),
    );
    const outcomes = burst.map(({ status, body }) => `${status} ${body.error}`);
    const checked = outcomes.filter((outcome) => outcome === '400 invalid_grant');
    expect(checked.length).toBeGreaterThan(0);
    expect(checked.length).toBeLessThanOrEqual(10);
    // The rest were refused before any password check: blocked, or (a guess that kept losing the
    // race to count itself) unavailable, which also checks nothing.
    for (const outcome of outcomes.filter((outcome) => outcome !== '400 invalid_grant'))
      expect(['429 too_many_attempts', '503 temporarily_unavailable']).toContain(outcome);
    expect((await login('grace', PASSWORD, '127.0.0.3')).status).toBe(429);
  });

  it('blocks unknown usernames the same way, so a block reveals nothing', async () => {
    await fail('nobody-here', 10);
    const blocked = await login('nobody-here', 'anything at all');
    expect([blocked.status, blocked.body.error]).toEqual([429, 'too_many_attempts']);
  });

  it('resets the count on success', async () => {
    await fail('carol', 9);
    expect((await login('carol', PASSWORD)).status).toBe(200);
    await fail('carol', 9);
    expect((await login('carol', PASSWORD)).status).toBe(200);
  });

  it('is lifted by users unblock and by a new password', async () => {
    await fail('dave', 10);
    expect((await login('dave', PASSWORD)).status).toBe(429);
    await setBlocked(adminServices(server), 'customers', 'dave', false);
    expect((await login('dave', PASSWORD)).status).toBe(200);

    await fail('erin', 10);
    expect((await login('erin', PASSWORD)).status).toBe(429);
    await setPassword(adminServices(server), 'customers', 'erin', 'a brand new password');
    expect((await login('erin', 'a brand new password')).status).toBe(200);
  });

  it('takes the end user IP from auth0-forwarded-for of the trusted confidential client only', async () => {
    const backoffice = (password: string, forwardedFor: string) =>
      postFormFrom(
        '127.0.0.1',
        `${server.issuer}oauth/token`,
        { grant_type: GRANT_PASSWORD_REALM, realm: 'employees', username: 'frank', password },
        {
          authorization: `Basic ${Buffer.from(`backoffice:${BACKOFFICE_SECRET}`).toString('base64')}`,
          'auth0-forwarded-for': forwardedFor,
        },
      );
    for (let i = 0; i < 10; i += 1) expect((await backoffice('wrong', '203.0.113.9')).status).toBe(400);
    expect((await backoffice(PASSWORD, '203.0.113.9')).status).toBe(429);
    // The same backoffice connection, another end user IP: not blocked.
    expect((await backoffice(PASSWORD, '203.0.113.10')).status).toBe(200);

    // A public client cannot pick its IP with the header: failures still count against 127.0.0.3.
    const spoof = (password: string, i: number) =>
      postFormFrom(
        '127.0.0.3',
        `${server.issuer}oauth/token`,
        { grant_type: 'password', client_id: 'mobile-app', username: 'bob', password },
        { 'auth0-forwarded-for': `198.51.100.${i}` },
      );
    for (let i = 0; i < 10; i += 1) expect((await spoof('wrong', i)).status).toBe(400);
    expect((await spoof(PASSWORD, 99)).status).toBe(429);
  });
});

describe('IP throttling', () => {
  it('throttles an IP after its daily failures across users and realms, except allowlisted IPs', async () => {
    const throttled = await startTestServer({
      config: testConfig({ ipThrottling: { maxFailuresPerDay: 5, allowlist: ['127.0.0.5/32'] } }),
    });
    try {
      await addUser(throttled, { username: 'gina', password: PASSWORD });
      const attempt = (username: string, password: string, from: string) =>
        postFormFrom(from, `${throttled.issuer}oauth/token`, {
          grant_type: 'password',
          client_id: 'mobile-app',
          username,
          password,
        });
      for (const username of ['u1', 'u2', 'u3', 'u4', 'gina']) {
        expect((await attempt(username, 'wrong', '127.0.0.4')).status).toBe(400);
      }
      const refused = await attempt('gina', PASSWORD, '127.0.0.4');
      expect([refused.status, refused.body.error]).toEqual([429, 'too_many_attempts']);
      expect((await attempt('gina', PASSWORD, '127.0.0.6')).status).toBe(200);
      for (let i = 0; i < 7; i += 1) expect((await attempt(`v${i}`, 'wrong', '127.0.0.5')).status).toBe(400);
      expect((await attempt('gina', PASSWORD, '127.0.0.5')).status).toBe(200);
    } finally {
      await throttled.stop();
    }
  });

  it('answers 429 with a Retry-After header and the no-store headers', async () => {
    await fail('bob', 10, '127.0.0.7');
    const response = await login('bob', PASSWORD, '127.0.0.7');
    expect(response.status).toBe(429);
    expect(Number(response.headers['retry-after'])).toBe(900);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(Object.keys(response.body).sort()).toEqual(['error', 'error_description']);
  });
});
