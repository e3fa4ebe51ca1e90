import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import type { BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExampleServer, startExampleServer } from '../../examples/browser/server.ts';
import { GRANT_PASSWORD_REALM } from '../../functions/config/grant-types.ts';
import type { TenantConfigInput } from '../../functions/config/schema.ts';
import { repoRoot } from '../../functions/local/paths.ts';
import type { Logger } from '../../functions/logging.ts';
import { accessTokenHash } from '../../functions/oauth/dpop/proof.ts';
import { hasChromium, launchChromium } from '../helpers/chromium.ts';
import { API, testConfig } from '../helpers/config.ts';
import { dpopKey, dpopProof } from '../helpers/dpop.ts';
import { freePort } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser } from '../helpers/users.ts';

const PASSWORD = 'correct horse battery staple';
// The docs' screenshot is rewritten only on request, so that a test run leaves the work tree clean.
const SCREENSHOT =
  process.env.PASSGATE_UPDATE_SCREENSHOTS === '1'
    ? join(import.meta.dirname, '../../docs/images/browser-signed-in.png')
    : join(tmpdir(), `passgate-browser-signed-in-${process.pid}.png`);

type ClientInput = NonNullable<TenantConfigInput['clients']>[number];

/** The demo's `web-app` client as passgate.config.json ships it (DPoP required), on `origin`. */
function shippedWebApp(origin: string): ClientInput {
  const shipped = JSON.parse(
    readFileSync(join(repoRoot, 'passgate.config.json'), 'utf8'),
  ) as TenantConfigInput;
  const webApp = shipped.clients?.find((client) => client.clientId === 'web-app');
  if (!webApp) throw new Error('passgate.config.json has no web-app client');
  return { ...webApp, allowedOrigins: [origin] };
}

let server: TestServer;
let allowed: ExampleServer;
let foreign: ExampleServer;
let context: BrowserContext;
let userDataDir: string;
let userId: string;
const auditEvents: Record<string, unknown>[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  const [port, foreignPort] = [await freePort(), await freePort()];
  const config = testConfig({ dpop: { requireNonce: true } }); // the page must do the nonce dance too
  config.clients = [
    ...(config.clients ?? []),
    shippedWebApp(`http://localhost:${port}`),
    // Another app lists the foreign origin: its preflight passes, so the sign-in request itself
    // reaches passgate and must be refused there, for web-app.
    {
      clientId: 'partner-app',
      name: 'Partner app',
      grantTypes: [GRANT_PASSWORD_REALM],
      realms: ['employees'],
      allowedOrigins: [`http://localhost:${foreignPort}`],
    },
  ];
  const logger: Logger = {
    log: (_level, _message, fields) => {
      if (fields?.audit) auditEvents.push(fields);
    },
  };
  server = await startTestServer({ config, logger });
  userId = (await addUser(server, { realm: 'employees', username: 'ada', password: PASSWORD })).user_id;
  const settings = {
    issuer: server.issuer,
    clientId: 'web-app',
    audience: API,
    scope: 'openid profile email offline_access read:orders',
  };
  allowed = await startExampleServer(port, settings);
  foreign = await startExampleServer(foreignPort, settings);
  userDataDir = mkdtempSync(join(tmpdir(), 'passgate-chromium-'));
  context = await launchChromium(userDataDir, { width: 900, height: 760 });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await allowed?.close();
  await foreign?.close();
  await server?.stop();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

async function signIn(page: Page, url: string, password = PASSWORD) {
  await page.goto(url);
  await page.selectOption('#realm', 'employees');
  await page.fill('#username', 'ada');
  await page.fill('#password', password);
  await page.click('#sign-in-button');
}

/**
 * How long the page may take to show an answer: a sign-in is two or three round trips and an
 * argon2id verify, which on a loaded machine takes well over expect.poll's default second.
 */
const SETTLES = { timeout: 15_000 };

const claim = (page: Page, name: string) => page.locator(`#claims tr[data-claim="${name}"] td`).textContent();

/** A token endpoint exchange as the page made it: its proof, and passgate's answer. */
interface TokenExchange {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly proof: string;
  readonly nonce: string | undefined;
}

/** The page's token endpoint exchanges, in the order the answers came. */
function recordTokenExchanges(page: Page): { all(count: number): Promise<TokenExchange[]> } {
  const exchanges: Promise<TokenExchange>[] = [];
  page.on('response', (response: Response) => {
    if (response.url() !== `${server.issuer}oauth/token` || response.request().method() !== 'POST') return;
    exchanges.push(
      (async () => ({
        status: response.status(),
        body: await response.json(),
        proof: (await response.request().allHeaders()).dpop ?? '',
        nonce: (await response.allHeaders())['dpop-nonce'],
      }))(),
    );
  });
  return {
    /** All exchanges so far, once there are exactly `count` (events may trail the page a little). */
    async all(count) {
      await expect.poll(() => exchanges.length, SETTLES).toBe(count);
      return Promise.all(exchanges);
    },
  };
}

const proofKey = (proof: string) => decodeProtectedHeader(proof).jwk as JWK;
const thumbprint = (proof: string) => calculateJwkThumbprint(proofKey(proof), 'sha256');

/** A refresh from Node by someone who copied the token but has a key of their own (and asks for a nonce). */
async function refreshWithAnotherKey(refreshToken: string) {
  const key = await dpopKey();
  const htu = `${server.issuer}oauth/token`;
  const params = { grant_type: 'refresh_token', client_id: 'web-app', refresh_token: refreshToken };
  const first = await server.token(params, { DPoP: await dpopProof(key, { htm: 'POST', htu }) });
  expect(((await first.json()) as { error: string }).error).toBe('use_dpop_nonce');
  const nonce = first.headers.get('dpop-nonce') ?? '';
  return server.token(params, { DPoP: await dpopProof(key, { htm: 'POST', htu, nonce }) });
}

describe.runIf(hasChromium)('the browser example in headless Chromium', () => {
  it('signs in with DPoP-bound tokens, calls the API with a proof, refreshes with the same key and signs out', async () => {
    const page = await context.newPage();
    const exchanges = recordTokenExchanges(page);

    await signIn(page, allowed.url);
    await expect.poll(() => page.textContent('#status'), SETTLES).toBe('Signed in to Employees.');
    // The nonce dance (RFC 9449 §8): refused once with a nonce, then the same request with it.
    const [asked, signedIn] = (await exchanges.all(2)) as [TokenExchange, TokenExchange];
    expect([asked.status, signedIn.status]).toEqual([400, 200]);
    expect(asked.body.error).toBe('use_dpop_nonce');
    expect(asked.nonce).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeJwt(asked.proof).nonce).toBeUndefined();
    expect(decodeJwt(signedIn.proof).nonce).toBe(asked.nonce);

    // The proof carries the public key only, and the tokens are bound to it.
    expect(decodeProtectedHeader(signedIn.proof)).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    expect(Object.keys(proofKey(signedIn.proof)).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(decodeJwt(signedIn.proof)).toMatchObject({ htm: 'POST', htu: `${server.issuer}oauth/token` });
    const jkt = await thumbprint(signedIn.proof);
    expect(signedIn.body.token_type).toBe('DPoP');
    const accessToken = signedIn.body.access_token as string;
    expect(decodeJwt(accessToken).cnf).toEqual({ jkt });

    // What the page shows: its key, never extractable, and the same thumbprint in cnf.jkt.
    expect(await page.textContent('#key-extractable')).toBe('false');
    expect(await page.textContent('#key-thumbprint')).toBe(jkt);
    expect(await page.textContent('#token-type')).toBe('DPoP');
    expect(JSON.parse((await claim(page, 'cnf')) ?? '{}')).toEqual({ jkt });
    expect(await claim(page, 'sub')).toBe(`employees|${userId}`);
    expect(await claim(page, 'client_id')).toBe('web-app');
    expect(await claim(page, 'aud')).toBe(API);
    expect(await claim(page, 'scope')).toBe('openid profile email offline_access read:orders');

    const apiCall = page.waitForRequest((request) => request.url() === `${allowed.url}api/orders`);
    await page.click('#call-api');
    await expect.poll(() => page.textContent('#status'), SETTLES).toBe('API answered 200.');
    expect(JSON.parse((await page.textContent('#api-result')) ?? '{}')).toMatchObject({
      message: `Hello employees|${userId}`,
    });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const { authorization = '', dpop = '' } = await (await apiCall).allHeaders();
    expect(authorization).toBe(`DPoP ${accessToken}`);
    expect(decodeJwt(dpop)).toMatchObject({
      htm: 'GET',
      htu: `${allowed.url}api/orders`,
      ath: accessTokenHash(accessToken),
    });
    expect(decodeJwt(dpop).nonce).toBeUndefined(); // passgate's nonces are for passgate
    // The example API takes each proof once, and the bound token never as a bearer token.
    const replayed = await fetch(`${allowed.url}api/orders`, {
      headers: { authorization, dpop },
    });
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('www-authenticate')).toMatch(
      /^DPoP algs="[^"]+", error="invalid_dpop_proof"$/,
    );
    const asBearer = await fetch(`${allowed.url}api/orders`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(asBearer.status).toBe(401);
    expect(((await asBearer.json()) as { error: string }).error).toBe('invalid_token');

    // The refresh token copied out of the page is useless without the page's key…
    const copied = signedIn.body.refresh_token as string;
    const withoutProof = await server.token({
      grant_type: 'refresh_token',
      client_id: 'web-app',
      refresh_token: copied,
    });
    expect(withoutProof.status).toBe(400);
    expect(((await withoutProof.json()) as { error: string }).error).toBe('invalid_request'); // requireDpop
    const withAnotherKey = await refreshWithAnotherKey(copied);
    expect(withAnotherKey.status).toBe(400);
    expect(((await withAnotherKey.json()) as { error: string }).error).toBe('invalid_grant');

    // …and does not end the page's session: the page refreshes with its key, using the nonce it kept.
    const firstJti = await claim(page, 'jti');
    await page.click('#refresh');
    await expect.poll(() => page.textContent('#status'), SETTLES).toMatch(/^Refreshed at /);
    const refreshed = (await exchanges.all(3))[2] as TokenExchange;
    expect(refreshed.status).toBe(200); // no second nonce dance: the page kept the nonce it was given
    expect(decodeJwt(refreshed.proof).nonce).toBe(signedIn.nonce);
    expect(await thumbprint(refreshed.proof)).toBe(jkt);
    expect(refreshed.body.token_type).toBe('DPoP');
    expect(decodeJwt(refreshed.body.access_token as string).cnf).toEqual({ jkt });
    expect(await claim(page, 'jti')).not.toBe(firstJti);
    // Rotation: the first refresh token no longer works (and would end the family if presented).
    expect(refreshed.body.refresh_token).not.toBe(copied);

    await page.click('#sign-out');
    await expect
      .poll(() => page.textContent('#status'), SETTLES)
      .toBe('Signed out: the refresh token is revoked.');
    expect(await page.isVisible('#sign-in')).toBe(true);
    // The family ended on the server (only the page's key could show it by refreshing).
    expect(auditEvents.at(-1)).toMatchObject({ type: 'srrt', client_id: 'web-app', user_id: userId });
    await page.close();
  });

  it('shows the page the OAuth error itself when the password is wrong', async () => {
    const page = await context.newPage();
    await signIn(page, allowed.url, 'not the password');
    await expect
      .poll(() => page.textContent('#status'), SETTLES)
      .toMatch(/^invalid_grant: Wrong .+ or password\.$/);
    await page.close();
  });

  it('fails with CORS from an origin the client does not allow, before the password is checked', async () => {
    const page = await context.newPage();
    const failures = auditEvents.filter((event) => event.type === 'fp').length;
    await signIn(page, foreign.url, 'a wrong password');
    await expect
      .poll(() => page.textContent('#status'), SETTLES)
      .toBe(
        `The browser refused the answer from ${server.issuer} (CORS): is ${foreign.url.slice(0, -1)} in the allowedOrigins of client "web-app"?`,
      );
    expect(await page.isVisible('#session')).toBe(false);
    expect(auditEvents.filter((event) => event.type === 'fp')).toHaveLength(failures);
    expect(auditEvents.at(-1)).toMatchObject({ type: 'fco', client_id: 'web-app' });
    await page.close();
  });
});
