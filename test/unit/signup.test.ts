import { describe, expect, it } from 'vitest';
import { setPassword } from '../../functions/admin/user-admin.ts';
import { parseConfig } from '../../functions/config/load.ts';
import type { TenantConfigInput } from '../../functions/config/schema.ts';
import { normalizeEmail, signUp } from '../../functions/oauth/accounts/signup.ts';
import { SignupError } from '../../functions/oauth/accounts/signup-errors.ts';
import { DependencyUnavailableError, OAuthError } from '../../functions/oauth/errors.ts';
import { testConfig } from '../helpers/config.ts';
import { MemoryTicketStore, memoryServices, RecordingMailer, requestInfo } from '../helpers/memory-ports.ts';

const PASSWORD = 'walnut lantern quietly drifts';

/** customers: sign-up with required verification, 2 a hour per IP; employees: usernames, no mail. */
function config(): TenantConfigInput {
  const base = testConfig();
  const [customers] = base.realms;
  return {
    ...base,
    email: { from: 'no-reply@shop.example' },
    realms: [
      { ...customers, signup: { enabled: true, maxPerIpPerHour: 2 }, emailVerification: 'required' } as never,
      { name: 'employees', signup: { enabled: true, requireUsername: true } },
    ],
    clients: base.clients.map((client) => ({ ...client, realms: ['customers', 'employees'] })) as never,
  };
}

async function setup() {
  const mailer = new RecordingMailer();
  const tickets = new MemoryTicketStore();
  const lines: Record<string, unknown>[] = [];
  const built = await memoryServices({
    config: parseConfig(config()),
    mailer,
    tickets,
    logger: { log: (level, message, fields) => lines.push({ level, message, ...fields }) },
  });
  const sign = (params: Record<string, string | undefined>, ip = '198.51.100.7') =>
    signUp(
      { client_id: 'mobile-app', connection: 'customers', password: PASSWORD, ...params },
      requestInfo({ sourceIp: ip }),
      built.services,
    );
  return { ...built, mailer, tickets, lines, sign };
}

async function refusal(promise: Promise<unknown>): Promise<SignupError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SignupError);
  return error as SignupError;
}

describe('sign-up (protocol)', () => {
  it('keeps the local part of an address as given and lower-cases its domain, after NFKC', () => {
    expect(normalizeEmail('Zoë.M@ＥXAMPLE.Com')).toBe('Zoë.M@example.com');
  });

  it('names the missing fields, and refuses what Auth0 refuses in the profile', async () => {
    const { sign } = await setup();
    expect((await refusal(sign({ email: undefined, password: undefined }))).body).toEqual({
      name: 'BadRequestError',
      code: 'invalid_body',
      description: 'Missing email, password',
      statusCode: 400,
    });
    expect((await refusal(sign({ email: 'not an address' }))).body.description).toBe(
      'email must be an email address',
    );
    expect((await refusal(sign({ email: 'a@example.com', username: 'a' }))).body.description).toMatch(
      /^username is not used/,
    );
    expect(
      (await refusal(sign({ email: 'a@example.com', picture: 'javascript:alert(1)' }))).body.description,
    ).toBe('picture must be an http(s) URL');
    expect(
      (await refusal(sign({ email: 'a@example.com', given_name: 'x'.repeat(151) }))).body.description,
    ).toBe('given_name must be at most 150 characters');
    const eleven = JSON.stringify(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])));
    expect((await refusal(sign({ email: 'a@example.com', user_metadata: eleven }))).body.description).toBe(
      'user_metadata must have at most 10 properties',
    );
    expect((await refusal(sign({ email: 'a@example.com', user_metadata: '{"n":1}' }))).body.description).toBe(
      'user_metadata.n must be a string of at most 500 characters',
    );
  });

  it('refuses an unknown client as OAuth does (401), and audits each refused sign-up as fs', async () => {
    const { sign, lines } = await setup();
    await expect(sign({ email: 'a@example.com', client_id: 'nobody' })).rejects.toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
    await refusal(sign({ email: 'a@example.com', password: 'short' }));
    expect(lines.filter((line) => line.audit)).toEqual([
      expect.objectContaining({
        type: 'fs',
        description: 'password must be at least 8 characters',
        realm: 'customers',
      }),
    ]);
  });

  it('limits sign-ups per IP and hour (429 with Retry-After), never an allowlisted IP', async () => {
    const { sign, clock } = await setup();
    clock.set('2030-01-01T10:30:00Z');
    await sign({ email: 'a1@example.com' });
    await sign({ email: 'a2@example.com' });
    const refused = await sign({ email: 'a3@example.com' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OAuthError);
    expect(refused).toMatchObject({
      status: 429,
      error: 'too_many_attempts',
      headers: { 'Retry-After': '1800' },
    });
    await sign({ email: 'a4@example.com' }, '198.51.100.8');
    for (let i = 0; i < 3; i++) await sign({ email: `b${i}@example.com` }, '192.0.2.55');
    clock.set('2030-01-01T11:00:00Z');
    await sign({ email: 'a5@example.com' });
  });

  it('answers 503 when the mail fails after the user is written; signing up again sends a new link', async () => {
    const { sign, mailer, users, tickets } = await setup();
    mailer.failNext = 1;
    await expect(sign({ email: 'kai@example.com' })).rejects.toBeInstanceOf(DependencyUnavailableError);
    const user = await users.findByUsername('customers', 'kai@example.com');
    expect(user).toMatchObject({
      email: 'kai@example.com',
      email_verified: false,
      password_hash: `plain:${PASSWORD}`,
    });
    expect(tickets.tickets.size).toBe(1); // a ticket nobody holds, which expires unused
    const again = await sign({ email: 'kai@example.com', password: 'some other passphrase' });
    expect(again._id).not.toBe(user?.user_id);
    expect(mailer.sent.map((mail) => [mail.kind, mail.to])).toEqual([['verify-email', 'kai@example.com']]);
    expect((await users.findByUsername('customers', 'kai@example.com'))?.password_hash).toBe(
      `plain:${PASSWORD}`,
    );
  });

  it('sends the owner of a verified address a notice, without a link, and audits it as fs', async () => {
    const { sign, mailer, users, lines } = await setup();
    const first = await sign({ email: 'Ida@Example.com' });
    const owner = await users.findByUsername('customers', 'ida@example.com');
    if (!owner) throw new Error('no user');
    await users.setEmailVerified(owner, 'Ida@example.com', owner.created_at);
    const second = await sign({ email: 'ida@EXAMPLE.com' });
    expect(Object.keys(second)).toEqual(Object.keys(first));
    expect(mailer.sent.map((mail) => [mail.kind, mail.to, mail.link === undefined])).toEqual([
      ['verify-email', 'Ida@example.com', false],
      ['signup-notice', 'Ida@example.com', true],
    ]);
    expect(lines.filter((line) => line.audit).map((line) => [line.type, line.user_id])).toEqual([
      ['ss', first._id],
      ['fs', first._id],
    ]);
  });

  it('takes a username where the realm requires one, which then names the account', async () => {
    const { services, sign, mailer } = await setup();
    const created = await sign({ connection: 'employees', email: 'ops@example.com', username: 'Ops-Lead' });
    expect(created).toEqual({
      _id: created._id,
      email: 'ops@example.com',
      email_verified: false,
      username: 'Ops-Lead',
    });
    expect((await services.users.findByUsername('employees', 'ops-lead'))?.email).toBe('ops@example.com');
    expect(mailer.sent).toEqual([]); // the realm does not verify addresses
    expect((await refusal(sign({ connection: 'employees', email: 'x@example.com' }))).body.description).toBe(
      'Missing username',
    );
    expect(
      (await refusal(sign({ connection: 'employees', email: 'y@example.com', username: 'ops-lead' }))).body
        .code,
    ).toBe('invalid_signup');
    // The username is a context word of the policy.
    expect(
      (
        await refusal(
          sign({ connection: 'employees', email: 'z@example.com', username: 'walnut', password: PASSWORD }),
        )
      ).body.name,
    ).toBe('PasswordNoUserInfoError');
  });
});

describe('addresses where users sign in with usernames', () => {
  it('have one account per realm: a taken address, a taken username, and a claim whose user is gone', async () => {
    const { services, sign } = await setup();
    const employee = (username: string, email: string) =>
      sign({ connection: 'employees', username, email, password: 'quietly drifting lantern' });
    await employee('ana', 'Ana@Example.com');
    expect((await refusal(employee('ana2', 'ana@example.COM'))).detail).toBe('email already has an account');
    // A taken username gives the address back: it signs up under another username.
    expect((await refusal(employee('ana', 'other@example.com'))).detail).toBe(
      'username already has an account',
    );
    await employee('otto', 'other@example.com');
    // The user who held an address is gone: the next sign-up takes the address over.
    await services.users.delete('employees', 'ana');
    const again = await employee('ana3', 'ana@example.com');
    expect(again.username).toBe('ana3');
  });
});

describe('passwords set by the operator', () => {
  it('pass the same policy with the user as context, on set-password too', async () => {
    const { services, sign } = await setup();
    await sign({ email: 'rosa.lind@example.com' });
    await expect(
      setPassword(services, 'customers', 'rosa.lind@example.com', 'rosa.lind rules 2030'),
    ).rejects.toThrow(
      'weak password: password contains the username, the email address, the realm\'s or the service\'s name in realm "customers"',
    );
  });
});
