import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import type { TenantConfigInput } from '../../functions/config/schema.ts';
import { testConfig } from '../helpers/config.ts';
import { proxyEvent } from '../helpers/events.ts';
import { type FaultableDeployment, faultableDeployment } from '../helpers/faultable-services.ts';
import type { FaultRule } from '../helpers/faults.ts';

let deployment: FaultableDeployment;

/** The customers realm takes sign-ups and requires verified addresses. */
function signupConfig(): TenantConfigInput {
  const base = testConfig();
  const [customers, ...others] = base.realms;
  return {
    ...base,
    email: { from: 'no-reply@shop.example' },
    realms: [{ ...customers, signup: { enabled: true }, emailVerification: 'required' } as never, ...others],
  };
}

beforeAll(async () => {
  deployment = await faultableDeployment(signupConfig());
});
afterAll(() => deployment?.close());

const PASSWORD = 'walnut lantern quietly drifts';
let sequence = 0;
const address = () => `user${Date.now().toString(36)}${sequence++}@example.com`;

const signupEvent = (email: string, password = PASSWORD) =>
  proxyEvent({
    path: '/dbconnections/signup',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'mobile-app', connection: 'customers', email, password }),
    sourceIp: `198.51.100.${sequence % 250}`,
  });
const signUp = (email: string, password?: string) => deployment.call('signup', signupEvent(email, password));

const login = (email: string) =>
  deployment.call(
    'token',
    proxyEvent({
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: GRANT_PASSWORD_REALM,
        client_id: 'mobile-app',
        realm: 'customers',
        username: email,
        password: PASSWORD,
      }).toString(),
    }),
  );

/** The link of the last mail SES received for `email`. */
function lastLink(email: string): string {
  const mail = deployment.ses.sent.filter((sent) => sent.Destination.ToAddresses[0] === email).at(-1);
  const link = /https:\/\/\S+/.exec(mail?.Content.Simple.Body.Text.Data ?? '')?.[0];
  if (!link) throw new Error(`no link mailed to ${email}`);
  return link;
}

const openLink = (link: string) =>
  deployment.call('verify-email', {
    ...proxyEvent({ method: 'GET', path: '/verify-email' }),
    queryStringParameters: { ticket: new URL(link).searchParams.get('ticket') as string },
  } as APIGatewayProxyEvent);

async function items(table: 'users' | 'tickets') {
  const { Items } = await deployment.store.db.send(
    new ScanCommand({ TableName: deployment.store.names[table] }),
  );
  return Items ?? [];
}

describe('sign-up when a dependency fails', () => {
  it('answers 503 when SES fails after the user is written; a second sign-up mails a link that works', async () => {
    const email = address();
    const { result, fired } = await deployment.withFaults(
      [{ operation: 'SendEmail', nth: 1, times: 2, fault: 'internal' }],
      () => signUp(email),
    );
    expect(fired).toBe(2); // the SDK's retry too
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toMatchObject({ error: 'temporarily_unavailable' });
    // The user is whole, unverified; no mail left.
    const [user] = (await items('users')).filter((item) => item.email === email);
    expect(user).toMatchObject({ email, email_verified: false, blocked: false });
    expect(deployment.ses.sent.some((sent) => sent.Destination.ToAddresses[0] === email)).toBe(false);

    const again = await signUp(email, 'another passphrase entirely');
    expect(again.statusCode).toBe(200);
    expect((await openLink(lastLink(email))).statusCode).toBe(200);
    expect((await login(email)).statusCode).toBe(200);
  });

  it.each<[string, FaultRule]>([
    ['the hourly limit', { operation: 'UpdateItem', nth: 1, times: 2, fault: 'throttle' }],
    ['the user write', { operation: 'PutItem', nth: 1, times: 2, fault: 'internal' }],
    ['the ticket write', { operation: 'PutItem', nth: 2, times: 2, fault: 'reset' }],
  ])('answers 503 when %s fails, with no mail sent and nothing half-written', async (_, rule) => {
    const email = address();
    const before = deployment.ses.sent.length;
    const { result, fired } = await deployment.withFaults([rule], () => signUp(email));
    expect(fired).toBeGreaterThan(0);
    expect(result.statusCode).toBe(503);
    expect(deployment.ses.sent.length).toBe(before);
    const users = (await items('users')).filter((item) => item.email === email);
    // Either no user, or a whole one that signs up again for its link.
    for (const user of users)
      expect(user).toMatchObject({ email, email_verified: false, password_hash: expect.any(String) });
    const again = await signUp(email);
    expect(again.statusCode).toBe(200);
    expect((await openLink(lastLink(email))).statusCode).toBe(200);
    expect((await login(email)).statusCode).toBe(200);
  });

  it('keeps a link good when marking the address fails, and spends it once it worked', async () => {
    const email = address();
    await signUp(email);
    const link = lastLink(email);
    const { result } = await deployment.withFaults(
      [{ operation: 'UpdateItem', nth: 1, times: 2, fault: 'internal' }],
      () => openLink(link),
    );
    expect(result.statusCode).toBe(503);
    expect((await login(email)).statusCode).toBe(403);
    expect((await openLink(link)).statusCode).toBe(200);
    expect((await openLink(link)).statusCode).toBe(400);
    expect((await login(email)).statusCode).toBe(200);
  });

  it('spends as many round trips and hashes on an address that has an account as on a new one', async () => {
    const taken = address();
    await signUp(taken);
    await openLink(lastLink(taken));
    const hashes = () =>
      (deployment.services.hasher as unknown as { calls: string[] }).calls.filter((c) => c === 'hash').length;
    const before = hashes();
    const fresh = await deployment.countCalls(() => signUp(address()));
    const existing = await deployment.countCalls(() => signUp(taken));
    const total = (calls: Map<string, number>) => [...calls.values()].reduce((a, b) => a + b, 0);
    expect(total(existing)).toBe(total(fresh));
    expect(existing.get('SendEmail')).toBe(1);
    expect(fresh.get('SendEmail')).toBe(1);
    expect(hashes() - before).toBe(2);
  });
});
