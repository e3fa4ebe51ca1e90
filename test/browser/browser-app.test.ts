import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExampleServer, startExampleServer } from '../../examples/browser/server.ts';
import { GRANT_PASSWORD_REALM, GRANT_REFRESH_TOKEN } from '../../functions/config/grant-types.ts';
import type { Logger } from '../../functions/logging.ts';
import { API, testConfig } from '../helpers/config.ts';
import { freePort } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { addUser } from '../helpers/users.ts';

/** Debian's chromium package (`apt-get install -y chromium`); nothing here downloads a browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  // CI installs Chromium (.ci/run): there, its absence is a failure, never a silent skip.
  if (process.env.CI === 'true')
    throw new Error(`CI=true but Chromium is not at ${CHROMIUM}: install it (.ci/run)`);
  process.stderr.write(
    `\n*** test/browser: Chromium not found at ${CHROMIUM}; the real-browser test is NOT run. ` +
      'Install it with `apt-get install -y chromium` (or set CHROMIUM_PATH). ***\n\n',
  );
}

const PASSWORD = 'correct horse battery staple';
const SCREENSHOT = join(import.meta.dirname, '../../docs/images/browser-signed-in.png');

let server: TestServer;
let allowed: ExampleServer;
let foreign: ExampleServer;
let context: BrowserContext;
let userDataDir: string;
let userId: string;
const auditEvents: Record<string, unknown>[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  const port = await freePort();
  const config = testConfig();
  config.clients = [
    ...(config.clients ?? []),
    {
      clientId: 'web-app',
      name: 'Web app',
      grantTypes: [GRANT_PASSWORD_REALM, GRANT_REFRESH_TOKEN],
      realms: ['employees', 'customers'],
      allowedOrigins: [`http://localhost:${port}`],
      refreshTokens: { absoluteTtlSeconds: 604_800, idleTtlSeconds: 86_400 },
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
  foreign = await startExampleServer(0, settings);
  userDataDir = mkdtempSync(join(tmpdir(), 'passgate-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 900, height: 760 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
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

const claim = (page: Page, name: string) => page.locator(`#claims tr[data-claim="${name}"] td`).textContent();

describe.runIf(hasChromium)('the browser example in headless Chromium', () => {
  it('signs in, shows the claims, calls the API, refreshes and signs out', async () => {
    const page = await context.newPage();
    const issued: string[] = [];
    page.on('response', async (response) => {
      if (response.url() === `${server.issuer}oauth/token` && response.ok()) {
        issued.push((await response.json()).refresh_token);
      }
    });

    await signIn(page, allowed.url);
    await expect.poll(() => page.textContent('#status')).toBe('Signed in to Employees.');
    expect(await claim(page, 'sub')).toBe(`employees|${userId}`);
    expect(await claim(page, 'client_id')).toBe('web-app');
    expect(await claim(page, 'aud')).toBe(API);
    expect(await claim(page, 'scope')).toBe('openid profile email offline_access read:orders');

    await page.click('#call-api');
    await expect.poll(() => page.textContent('#status')).toBe('API answered 200.');
    expect(JSON.parse((await page.textContent('#api-result')) ?? '{}')).toMatchObject({
      message: `Hello employees|${userId}`,
    });
    await page.screenshot({ path: SCREENSHOT });

    const firstJti = await claim(page, 'jti');
    await page.click('#refresh');
    await expect.poll(() => page.textContent('#status')).toMatch(/^Refreshed at /);
    expect(await claim(page, 'jti')).not.toBe(firstJti);
    expect(issued).toHaveLength(2);
    // Rotation: the first refresh token no longer works (and would end the family if presented).
    expect(issued[1]).not.toBe(issued[0]);

    await page.click('#sign-out');
    await expect.poll(() => page.textContent('#status')).toBe('Signed out: the refresh token is revoked.');
    expect(await page.isVisible('#sign-in')).toBe(true);
    const afterSignOut = await server.token({
      grant_type: 'refresh_token',
      client_id: 'web-app',
      refresh_token: issued[1] as string,
    });
    expect(afterSignOut.status).toBe(400);
    expect(((await afterSignOut.json()) as { error: string }).error).toBe('invalid_grant');
    await page.close();
  });

  it('shows the page the OAuth error itself when the password is wrong', async () => {
    const page = await context.newPage();
    await signIn(page, allowed.url, 'not the password');
    await expect.poll(() => page.textContent('#status')).toMatch(/^invalid_grant: Wrong .+ or password\.$/);
    await page.close();
  });

  it('fails with CORS from an origin the client does not allow, before the password is checked', async () => {
    const page = await context.newPage();
    const failures = auditEvents.filter((event) => event.type === 'fp').length;
    await signIn(page, foreign.url, 'a wrong password');
    await expect
      .poll(() => page.textContent('#status'))
      .toBe(
        `The browser refused the answer from ${server.issuer} (CORS): is ${foreign.url.slice(0, -1)} in the allowedOrigins of client "web-app"?`,
      );
    expect(await page.isVisible('#session')).toBe(false);
    expect(auditEvents.filter((event) => event.type === 'fp')).toHaveLength(failures);
    expect(auditEvents.at(-1)).toMatchObject({ type: 'fco', client_id: 'web-app' });
    await page.close();
  });
});
