import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../functions/admin/user-admin.ts';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import type { TenantConfigInput } from '../../functions/config/schema.ts';
import type { Logger } from '../../functions/logging.ts';
import { testConfig } from '../helpers/config.ts';
import { json, postFormFrom } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { FixedClock } from '../helpers/memory-ports.ts';
import { outboxMails } from '../helpers/outbox.ts';
import { addUser, adminServices } from '../helpers/users.ts';

const PASSWORD = 'reset: the password I forgot';
const NEW_PASSWORD = 'reset: a brand new passphrase';
const MAILS_PER_ADDRESS = 3;
const REQUESTS_PER_IP = 4;
const RESET_SENTENCE = "We've just sent you an email to reset your password.";

/** Starts at the real time (the tickets are written with it); moved only to expire links. */
const clock = new FixedClock(Date.now());
const lines: Record<string, unknown>[] = [];
const logger: Logger = { log: (level, message, fields) => lines.push({ level, message, ...fields }) };
let server: TestServer;
let sequence = 0;

beforeAll(async () => {
  const config = testConfig({ email: { from: 'no-reply@example.com' } });
  config.realms = [
    {
      name: 'customers',
      bruteForce: { maxConsecutiveFailures: 3, blockSeconds: 900 },
      passwordReset: { enabled: true, maxMailsPerAddressPerHour: MAILS_PER_ADDRESS },
    },
    { name: 'employees', passwordReset: { enabled: true, maxRequestsPerIpPerHour: REQUESTS_PER_IP } },
    { name: 'partners' },
    {
      name: 'members',
      signup: { enabled: true, requireUsername: true },
      passwordReset: { enabled: true },
    },
  ];
  const extra: NonNullable<TenantConfigInput['clients']> = [
    { clientId: 'staff-app', name: 'Staff app', grantTypes: [GRANT_PASSWORD_REALM], realms: ['employees'] },
    {
      clientId: 'partner-app',
      name: 'Partner app',
      grantTypes: [GRANT_PASSWORD_REALM],
      realms: ['partners'],
    },
  ];
  config.clients = [
    ...(config.clients ?? []).map((client) =>
      client.clientId === 'mobile-app' ? { ...client, realms: ['customers', 'partners', 'members'] } : client,
    ),
    ...extra,
  ];
  server = await startTestServer({ config, clock, logger });
});
afterAll(() => server.stop());

/** A user who signed up with their address as username, and that address. */
async function newUser(realm = 'customers') {
  const address = `user${sequence++}@example.com`;
  const user = await addUser(server, { realm, username: address, email: address, password: PASSWORD });
  return { user, address };
}

const askReset = (body: Record<string, string>, contentType = 'application/json') =>
  fetch(`${server.issuer}dbconnections/change_password`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: contentType === 'application/json' ? JSON.stringify(body) : new URLSearchParams(body),
  });
const askFor = (email: string, connection = 'customers') =>
  askReset({ client_id: 'mobile-app', email, connection });

/** The newest reset link mailed to `address`. */
async function linkFor(address: string): Promise<string> {
  expect((await askFor(address)).status).toBe(200);
  const link = outboxMails(server.dataDir, 'reset-password')
    .filter((mail) => mail.to === address)
    .at(-1)?.link;
  if (!link) throw new Error(`no reset mail to ${address}`);
  return link;
}

/** The hidden fields of the page's form, as the browser would post them back. */
async function formOf(link: string): Promise<Record<string, string>> {
  const page = await (await fetch(link)).text();
  return Object.fromEntries(
    [...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]+)">/g)].map((match) => [
      match[1] as string,
      match[2] as string,
    ]),
  );
}

const submit = (fields: Record<string, string>) =>
  fetch(`${server.issuer}reset-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
const newPassword = (password: string, confirmation = password) => ({
  new_password: password,
  confirm_new_password: confirmation,
});
const heading = (page: string) => /<h1>([^<]*)<\/h1>/.exec(page)?.[1];

const login = (username: string, password: string) =>
  server.token({ grant_type: 'password', client_id: 'mobile-app', username, password });

describe('POST dbconnections/change_password', () => {
  it("answers Auth0's sentence as text/html, never cached, for a form or JSON, whether the address has an account or not", async () => {
    const { address } = await newUser();
    for (const response of [
      await askFor(address),
      await askFor('nobody-here@example.com'),
      await askReset(
        { client_id: 'mobile-app', email: address, connection: 'customers' },
        'application/x-www-form-urlencoded',
      ),
    ]) {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.text()).toBe(RESET_SENTENCE);
    }
    expect(outboxMails(server.dataDir, 'reset-password').filter((mail) => mail.to === address)).toHaveLength(
      2,
    );
    expect(
      outboxMails(server.dataDir, 'reset-password').some((mail) => mail.to.startsWith('nobody-here')),
    ).toBe(false);
  });

  it("sends nothing to a blocked user, nor to an address that is only some user's email, not their username", async () => {
    const { address, user } = await newUser();
    await adminServices(server).users.setBlocked(
      'customers',
      user.username_key,
      true,
      new Date().toISOString(),
    );
    await addUser(server, { username: 'carla', email: 'carla@example.com', password: PASSWORD });
    for (const email of [address, 'carla@example.com']) {
      const response = await askFor(email);
      expect([response.status, await response.text()]).toEqual([200, RESET_SENTENCE]);
    }
    const sentTo = outboxMails(server.dataDir, 'reset-password').map((mail) => mail.to);
    expect(sentTo).not.toContain(address);
    expect(sentTo).not.toContain('carla@example.com');
  });

  it('finds by their address a user who signed up with a username of their own', async () => {
    const address = 'picked-a-username@example.com';
    const signedUp = await fetch(`${server.issuer}dbconnections/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'mobile-app',
        connection: 'members',
        email: address,
        username: 'tortoise',
        password: PASSWORD,
      }),
    });
    expect(signedUp.status).toBe(200);
    const response = await askFor(address, 'members');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(RESET_SENTENCE);
    const mails = outboxMails(server.dataDir, 'reset-password').filter((mail) => mail.to === address);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.link).toMatch(/\/reset-password\?ticket=/);
  });

  it('finds a user an operator created with a username and an address there too', async () => {
    const address = 'created-by-an-operator@example.com';
    await addUser(server, { realm: 'members', username: 'hare', email: address, password: PASSWORD });
    expect(await (await askFor(address, 'members')).text()).toBe(RESET_SENTENCE);
    const mails = outboxMails(server.dataDir, 'reset-password').filter((mail) => mail.to === address);
    expect(mails).toHaveLength(1);
  });

  it("refuses an unknown client, a connection without password reset or not the client's, and a missing email", async () => {
    const cases: [Record<string, string>, number, string][] = [
      [{ client_id: 'nobody', email: 'a@example.com', connection: 'customers' }, 401, 'invalid_client'],
      [{ email: 'a@example.com', connection: 'customers' }, 401, 'invalid_client'],
      [
        { client_id: 'mobile-app', email: 'a@example.com', connection: 'partners' },
        400,
        'unauthorized_client',
      ],
      [
        { client_id: 'partner-app', email: 'a@example.com', connection: 'customers' },
        400,
        'unauthorized_client',
      ],
      [{ client_id: 'mobile-app', connection: 'customers' }, 400, 'invalid_request'],
      [{ client_id: 'mobile-app', email: 'not an address', connection: 'customers' }, 400, 'invalid_request'],
    ];
    for (const [body, status, error] of cases) {
      const response = await askReset(body);
      expect([response.status, (await json(response)).error], JSON.stringify(body)).toEqual([status, error]);
    }
  });

  it(`mails one address at most ${MAILS_PER_ADDRESS} times an hour, and answers the same for an unknown one`, async () => {
    const { address } = await newUser();
    for (const email of [address, 'nobody-limited@example.com']) {
      for (let i = 0; i < MAILS_PER_ADDRESS; i += 1) expect((await askFor(email)).status).toBe(200);
      const refused = await askFor(email);
      expect(refused.status).toBe(429);
      expect(await json(refused)).toEqual({
        error: 'too_many_attempts',
        error_description: 'Too many password reset requests; try again later.',
      });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(outboxMails(server.dataDir, 'reset-password').filter((mail) => mail.to === address)).toHaveLength(
      MAILS_PER_ADDRESS,
    );
    clock.advance(3600);
    expect((await askFor(address)).status).toBe(200);
  });

  it(`takes at most ${REQUESTS_PER_IP} requests an hour from one IP`, async () => {
    const from = '127.0.0.77';
    const ask = (i: number) =>
      postFormFrom(from, `${server.issuer}dbconnections/change_password`, {
        client_id: 'staff-app',
        email: `someone${i}@example.com`,
        connection: 'employees',
      });
    for (let i = 0; i < REQUESTS_PER_IP; i += 1) expect((await ask(i)).status).toBe(200);
    expect((await ask(REQUESTS_PER_IP)).status).toBe(429);
    // Another IP is not held back.
    expect(
      (await askReset({ client_id: 'staff-app', email: 'x@example.com', connection: 'employees' })).status,
    ).toBe(200);
  });

  it('leaves audit events without the address: scpr for a mail sent, fcpr for none', async () => {
    const { address, user } = await newUser();
    await askFor(address);
    await askFor('nobody-audited@example.com');
    const audited = lines.filter((line) => line.audit === true && String(line.type).endsWith('cpr'));
    expect(audited.filter((line) => line.user_id === user.user_id).map((line) => line.type)).toContain(
      'scpr',
    );
    expect(
      audited.some(
        (line) => line.type === 'fcpr' && line.description === 'Password reset mail not sent: no such user',
      ),
    ).toBe(true);
    expect(JSON.stringify(audited)).not.toMatch(/@example\.com/);
  });
});

describe('the reset page', () => {
  it('refuses a form without the token of its ticket, before anything else', async () => {
    const { address } = await newUser();
    const fields = await formOf(await linkFor(address));
    expect(Object.keys(fields).sort()).toEqual(['form_token', 'ticket']);
    const forgeries: Record<string, string>[] = [
      { ticket: fields.ticket as string },
      { ticket: fields.ticket as string, form_token: 'A'.repeat(43) },
    ];
    for (const forged of forgeries) {
      const response = await submit({ ...forged, ...newPassword(NEW_PASSWORD) });
      expect(response.status).toBe(403);
      const page = await response.text();
      expect(heading(page)).toBe('This form cannot be used');
      expect(page).not.toContain('<form');
    }
    expect((await login(address, PASSWORD)).status).toBe(200);
  });

  it('asks again when the passwords differ or break the policy, and keeps the link working', async () => {
    const { address } = await newUser();
    const fields = await formOf(await linkFor(address));
    const differ = await submit({ ...fields, ...newPassword(NEW_PASSWORD, `${NEW_PASSWORD}!`) });
    expect(differ.status).toBe(400);
    expect(await differ.text()).toContain('The two passwords are not the same.');
    const weak = await submit({ ...fields, ...newPassword('password1') });
    expect(weak.status).toBe(400);
    const page = await weak.text();
    expect(page).toContain('Choose another password: the password is one of the most common passwords.');
    expect(page).toContain('<form');
    expect((await submit({ ...fields, ...newPassword(NEW_PASSWORD) })).status).toBe(200);
    expect((await login(address, NEW_PASSWORD)).status).toBe(200);
  });

  it('works once: the same form posted again finds the link dead', async () => {
    const { address } = await newUser();
    const fields = await formOf(await linkFor(address));
    expect((await submit({ ...fields, ...newPassword(NEW_PASSWORD) })).status).toBe(200);
    const again = await submit({ ...fields, ...newPassword('reset: yet another passphrase') });
    expect(again.status).toBe(410);
    expect(heading(await again.text())).toBe('This link no longer works');
    expect((await login(address, NEW_PASSWORD)).status).toBe(200);
  });

  it('dies when the password changes another way, and after 30 minutes', async () => {
    const first = await newUser();
    const link = await linkFor(first.address);
    await setPassword(adminServices(server), 'customers', first.address, 'reset: set by an operator');
    const changed = await fetch(link);
    expect(changed.status).toBe(410);
    expect(await changed.text()).not.toContain('<form');

    const second = await newUser();
    const expiring = await linkFor(second.address);
    const fields = await formOf(expiring);
    clock.advance(30 * 60);
    expect((await fetch(expiring)).status).toBe(410);
    expect((await submit({ ...fields, ...newPassword(NEW_PASSWORD) })).status).toBe(410);
    expect((await login(second.address, PASSWORD)).status).toBe(200);
  });

  it('answers a malformed or unknown ticket with the dead-link page', async () => {
    for (const query of ['', '?ticket=short', `?ticket=${'x'.repeat(43)}`]) {
      const response = await fetch(`${server.issuer}reset-password${query}`);
      expect(response.status).toBe(410);
      expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    }
  });

  it("lifts the user's brute-force block: the new password works at once from the blocked IP", async () => {
    const { address } = await newUser();
    for (let i = 0; i < 3; i += 1) expect((await login(address, `wrong ${i}`)).status).toBe(400);
    expect((await login(address, PASSWORD)).status).toBe(429);
    const fields = await formOf(await linkFor(address));
    expect((await submit({ ...fields, ...newPassword(NEW_PASSWORD) })).status).toBe(200);
    expect((await login(address, NEW_PASSWORD)).status).toBe(200);
  });

  it('logs scp, and never the ticket outside the local outbox announcement', async () => {
    const { address, user } = await newUser();
    const link = await linkFor(address);
    const fields = await formOf(link);
    await submit({ ...fields, ...newPassword(NEW_PASSWORD) });
    expect(lines.some((line) => line.type === 'scp' && line.user_id === user.user_id)).toBe(true);
    const ticket = fields.ticket as string;
    const mentions = lines.filter((line) => JSON.stringify(line).includes(ticket));
    expect(mentions.map((line) => line.message)).toEqual(['mail written to the local outbox']);
  });
});
