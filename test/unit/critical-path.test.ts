import { beforeEach, describe, expect, it } from 'vitest';
import { tokenEndpoint } from '../../functions/endpoints/token.ts';
import { handleTokenRequest } from '../../functions/oauth/grants/token-endpoint.ts';
import type { Services } from '../../functions/oauth/services.ts';
import type { TokenResponse } from '../../functions/oauth/tokens.ts';
import { type DpopKey, dpopKey, dpopProof } from '../helpers/dpop.ts';
import { proxyEvent } from '../helpers/events.ts';
import { memoryServices, publicClient, requestInfo } from '../helpers/memory-ports.ts';
import { RoundCounter } from '../helpers/round-counter.ts';

/**
 * On Lambda every store or KMS call that waits for another one's answer is paid for in billed
 * milliseconds and felt by the user. These tests pin how many such rounds, and which calls, each
 * grant makes (docs/performance.md has the measured figures): a change that adds a sequential
 * call, or a call at all, fails here and must say why.
 */
const PASSWORD = 'correct horse battery staple';
const info = requestInfo({ requestId: 'rounds' });

let services: Services;
let counter: RoundCounter;

beforeEach(async () => {
  const memory = await memoryServices();
  await memory.users.create({
    realm: 'customers',
    user_id: 'id-alice',
    session_epoch: 0,
    username: 'alice',
    username_key: 'alice',
    email: 'alice@example.com',
    email_verified: true,
    blocked: false,
    created_at: '2026-01-01T00:00:00.000Z',
    password_hash: `plain:${PASSWORD}`,
    permissions: {},
  });
  counter = new RoundCounter();
  services = counter.wrapServices(memory.services);
});

const token = (params: Record<string, string>) =>
  handleTokenRequest({ client_id: 'mobile-app', ...params }, publicClient, info, services);
const login = (username = 'alice', password = PASSWORD) =>
  token({ grant_type: 'password', username, password, scope: 'openid offline_access read:orders' });

const LOGIN = {
  grant_type: 'password',
  username: 'alice',
  password: PASSWORD,
  scope: 'openid offline_access read:orders',
};

/** A token request with a fresh DPoP proof of `device`, through the HTTP layer, which checks it. */
const bound = async (device: DpopKey, params: Record<string, string>) =>
  proxyEvent({
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      DPoP: await dpopProof(device, {
        htm: 'POST',
        htu: `${services.issuer}oauth/token`,
        iat: Math.floor(services.clock.now() / 1000),
      }),
    },
    body: new URLSearchParams({ client_id: 'mobile-app', ...params }).toString(),
  });

/** The grant's calls, `name@round`, sorted within each round. */
async function roundsOf(grant: () => Promise<unknown>) {
  counter.reset();
  await grant().catch(() => undefined);
  return { rounds: counter.rounds, calls: [...counter.calls].sort((a, b) => a.localeCompare(b)) };
}

describe('sequential rounds of store and signing calls per grant', () => {
  it("a successful login: the charges beside the user, then signing beside the sign-in's one write and the IP's day", async () => {
    expect(await roundsOf(login)).toEqual({
      rounds: 2,
      calls: [
        'attempts.charge@1',
        'attempts.releaseIpDay@2',
        'attempts.reserveIpDay@1',
        'signer.sign@2',
        'signer.sign@2',
        'signIns.record@2',
        'users.findForLogin@1',
      ],
    });
  });

  it('a wrong password and an unknown user take the same round and the same calls: the charges beside the user', async () => {
    const wrong = await roundsOf(() => login('alice', 'not the password'));
    expect(wrong).toEqual({
      rounds: 1,
      calls: ['attempts.charge@1', 'attempts.reserveIpDay@1', 'users.findForLogin@1'],
    });
    expect(await roundsOf(() => login('nobody', 'not the password'))).toEqual(wrong);
  });

  it('a refresh: its family and user in one read (the token names both), then signing beside the rotation', async () => {
    const first = (await login()) as TokenResponse;
    expect(
      await roundsOf(() =>
        token({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string }),
      ),
    ).toEqual({
      rounds: 2,
      calls: [
        'refreshTokens.findFamilyAndUser@1',
        'refreshTokens.rotateFamily@2',
        'signer.sign@2',
        'signer.sign@2',
      ],
    });
  });

  it("a DPoP-bound login and refresh: the proof's jti is recorded beside the grant's first round", async () => {
    const device = await dpopKey();
    const loginEvent = await bound(device, LOGIN);
    let issued: TokenResponse | undefined;
    expect(
      await roundsOf(async () => {
        const response = await tokenEndpoint(loginEvent, services);
        expect(response.statusCode).toBe(200);
        issued = JSON.parse(response.body);
      }),
    ).toEqual({
      rounds: 2,
      calls: [
        'attempts.charge@1',
        'attempts.releaseIpDay@2',
        'attempts.reserveIpDay@1',
        'dpopProofs.claim@1',
        'signer.sign@2',
        'signer.sign@2',
        'signIns.record@2',
        'users.findForLogin@1',
      ],
    });
    const refreshEvent = await bound(device, {
      grant_type: 'refresh_token',
      refresh_token: issued?.refresh_token as string,
    });
    expect(
      await roundsOf(async () => {
        expect((await tokenEndpoint(refreshEvent, services)).statusCode).toBe(200);
      }),
    ).toEqual({
      rounds: 2,
      calls: [
        'dpopProofs.claim@1',
        'refreshTokens.findFamilyAndUser@1',
        'refreshTokens.rotateFamily@2',
        'signer.sign@2',
        'signer.sign@2',
      ],
    });
  });
});

describe("a DPoP proof's jti recorded beside the grant's first round", () => {
  it('refuses a replayed proof before the password is verified: no sign-in, no signature, the attempt left charged', async () => {
    const device = await dpopKey();
    const event = await bound(device, LOGIN);
    expect((await tokenEndpoint(event, services)).statusCode).toBe(200);
    const replay = await roundsOf(async () => {
      const response = await tokenEndpoint(event, services);
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body)).toEqual({
        error: 'invalid_dpop_proof',
        error_description: 'The DPoP proof is invalid.',
      });
    });
    expect(replay).toEqual({
      rounds: 1,
      calls: ['attempts.charge@1', 'attempts.reserveIpDay@1', 'dpopProofs.claim@1', 'users.findForLogin@1'],
    });
  });

  it('refuses a replayed proof at a refresh before the rotation: the token still refreshes with a fresh proof', async () => {
    const device = await dpopKey();
    const login = JSON.parse(
      (await tokenEndpoint(await bound(device, LOGIN), services)).body,
    ) as TokenResponse;
    const params = { grant_type: 'refresh_token', refresh_token: login.refresh_token as string };
    const first = await bound(device, params);
    const rotated = JSON.parse((await tokenEndpoint(first, services)).body) as TokenResponse;
    const again = { grant_type: 'refresh_token', refresh_token: rotated.refresh_token as string };
    const replayed = { ...(await bound(device, again)), headers: first.headers };
    const refused = await roundsOf(async () => {
      const response = await tokenEndpoint(replayed, services);
      expect(JSON.parse(response.body)).toMatchObject({ error: 'invalid_dpop_proof' });
    });
    expect(refused).toEqual({
      rounds: 1,
      calls: ['dpopProofs.claim@1', 'refreshTokens.findFamilyAndUser@1'],
    });
    const response = await tokenEndpoint(await bound(device, again), services);
    expect(response.statusCode).toBe(200);
  });
});
