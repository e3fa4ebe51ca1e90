import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticationClient } from 'auth0';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium } from '../helpers/chromium.ts';
import { testConfig } from '../helpers/config.ts';
import { json } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { outboxMails } from '../helpers/outbox.ts';
import { addUser, adminServices } from '../helpers/users.ts';

const OLD_PASSWORD = 'reset: the password I forgot';
const NEW_PASSWORD = 'reset: a brand new passphrase';
const ADDRESS = 'bea@example.com';
// The docs' screenshot is rewritten only on request, so that a test run leaves the work tree clean.
const SCREENSHOT =
  process.env.PASSGATE_UPDATE_SCREENSHOTS === '1'
    ? join(import.meta.dirname, '../../docs/images/reset-password.png')
    : join(tmpdir(), `passgate-reset-password-${process.pid}.png`);

let server: TestServer;
let auth0: AuthenticationClient;
let context: BrowserContext;
let userDataDir: string;

beforeAll(async () => {
  if (!hasChromium) return;
  const config = testConfig({ email: { from: 'no-reply@example.com' }, name: 'Example Shop' });
  config.realms = [
    { name: 'customers', passwordPolicy: { minLength: 10 }, passwordReset: { enabled: true } },
    { name: 'employees' },
  ];
  server = await startTestServer({ config });
  // Auth0's SDK speaks https to `domain`; the local server is plain http on loopback.
  auth0 = new AuthenticationClient({
    domain: `localhost:${server.port}`,
    clientId: 'mobile-app',
    fetch: (url, init) => fetch(String(url).replace(/^https:\/\/[^/]+\//, server.issuer), init),
  });
  userDataDir = mkdtempSync(join(tmpdir(), 'passgate-chromium-'));
  context = await launchChromium(userDataDir, { width: 720, height: 480 });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.stop();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

const login = (password: string) =>
  server.token({
    grant_type: 'password',
    client_id: 'mobile-app',
    username: ADDRESS,
    password,
    scope: 'offline_access',
  });

describe.runIf(hasChromium)('a forgotten password, reset from the mailed link in headless Chromium', () => {
  it("Auth0's SDK asks for the mail; the link's page sets the new password once; the old password and sessions die", async () => {
    const user = await addUser(server, { username: ADDRESS, email: ADDRESS, password: OLD_PASSWORD });
    expect(user.email_verified).toBe(false);
    const session = await json(await login(OLD_PASSWORD));
    expect(session.refresh_token).toEqual(expect.any(String));

    const asked = await auth0.database.changePassword({ email: ADDRESS, connection: 'customers' });
    expect(asked.status).toBe(200);
    expect(asked.data).toBe("We've just sent you an email to reset your password.");
    expect(asked.headers.get('content-type')).toBe('text/html; charset=utf-8');
    // An address without an account gets the same answer, and no mail goes anywhere.
    const unknown = await auth0.database.changePassword({
      email: 'nobody@example.com',
      connection: 'customers',
    });
    expect([unknown.status, unknown.data]).toEqual([asked.status, asked.data]);
    expect(unknown.headers.get('content-type')).toBe(asked.headers.get('content-type'));

    const mails = outboxMails(server.dataDir, 'reset-password');
    expect(mails.map((mail) => mail.to)).toEqual([ADDRESS]);
    const link = mails[0]?.link as string;
    expect(link).toMatch(new RegExp(`^${server.issuer}reset-password\\?ticket=[A-Za-z0-9_-]{43}$`));

    const page = await context.newPage();
    const opened = await page.goto(link);
    expect(opened?.status()).toBe(200);
    expect(opened?.headers()['referrer-policy']).toBe('no-referrer');
    expect(opened?.headers()['content-security-policy']).toMatch(/^default-src 'none'; /);
    expect(await page.locator('h1').textContent()).toBe('Choose a new password');
    expect(await page.locator('main').textContent()).toContain('Use at least 10 characters.');
    expect(await page.locator('main').textContent()).toContain('Example Shop');
    await page.fill('input[name=new_password]', NEW_PASSWORD);
    await page.fill('input[name=confirm_new_password]', NEW_PASSWORD);
    await page.screenshot({ path: SCREENSHOT });
    await Promise.all([page.waitForURL(`${server.issuer}reset-password`), page.click('button[type=submit]')]);
    expect(await page.locator('h1').textContent()).toBe('Your password was changed');

    expect((await login(OLD_PASSWORD)).status).toBe(400);
    expect((await login(NEW_PASSWORD)).status).toBe(200);
    const refreshed = await server.token({
      grant_type: 'refresh_token',
      client_id: 'mobile-app',
      refresh_token: session.refresh_token,
    });
    expect(refreshed.status).toBe(400);
    expect((await json(refreshed)).error).toBe('invalid_grant');
    // The mail reached its owner: the address is verified now; and they are told of the change.
    expect((await adminServices(server).users.findById('customers', user.user_id))?.email_verified).toBe(
      true,
    );
    expect(outboxMails(server.dataDir, 'password-changed').map((mail) => mail.to)).toEqual([ADDRESS]);

    // Once only: the link now opens the page that says so, never the form.
    const again = await page.goto(link);
    expect(again?.status()).toBe(410);
    expect(await page.locator('h1').textContent()).toBe('This link no longer works');
    expect(await page.locator('form').count()).toBe(0);
    await page.close();
  }, 60_000);
});
