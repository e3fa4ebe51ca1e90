import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantConfigInput } from '../../functions/config/schema.ts';
import { testConfig } from '../helpers/config.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { outboxMails } from '../helpers/outbox.ts';

/** Debian's chromium package (`apt-get install -y chromium`); nothing here downloads a browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === 'true') {
  throw new Error(`CI=true but Chromium is not at ${CHROMIUM}: install it (.ci/run)`);
}

// The docs' screenshot is rewritten only on request, so that a test run leaves the work tree clean.
const SCREENSHOT =
  process.env.PASSGATE_UPDATE_SCREENSHOTS === '1'
    ? join(import.meta.dirname, '../../docs/images/verify-email.png')
    : join(tmpdir(), `passgate-verify-email-${process.pid}.png`);

function signupConfig(): TenantConfigInput {
  const base = testConfig();
  const [customers, ...others] = base.realms;
  return {
    ...base,
    name: 'Acme Shop',
    email: { from: 'no-reply@shop.example' },
    realms: [{ ...customers, signup: { enabled: true }, emailVerification: 'required' } as never, ...others],
  };
}

let server: TestServer;
let browser: Browser;
let profileDir: string;
beforeAll(async () => {
  if (!hasChromium) return;
  server = await startTestServer({ config: signupConfig() });
  profileDir = mkdtempSync(join(tmpdir(), 'passgate-chromium-'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

describe.runIf(hasChromium)('the email verification page in headless Chromium', () => {
  it('shows the verified state under its strict CSP, then the expired state for the same link', async () => {
    const email = 'zoe.martin@example.com';
    const signup = await fetch(`${server.issuer}dbconnections/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'mobile-app',
        connection: 'customers',
        email,
        password: 'walnut lantern quietly drifts',
      }),
    });
    expect(signup.status).toBe(200);
    const link = outboxMails(server.dataDir).find((mail) => mail.to === email)?.link as string;
    expect(link).toMatch(/verify-email\?ticket=/);

    const page = await browser.newPage({ viewport: { width: 720, height: 420 } });
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    const response = await page.goto(link);
    expect(response?.status()).toBe(200);
    expect(await page.locator('h1').textContent()).toBe('Email verified');
    expect(await page.locator('.service').textContent()).toBe('Acme Shop');
    expect(await page.title()).toBe('Email verified · Acme Shop');
    // The page's own style ran (its hash is in the CSP), and nothing else was refused.
    expect(await page.evaluate("getComputedStyle(document.querySelector('main')).backgroundColor")).toBe(
      'rgb(255, 255, 255)',
    );
    expect(violations).toEqual([]);
    expect(await page.evaluate('document.scripts.length')).toBe(0);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    const again = await page.goto(link);
    expect(again?.status()).toBe(400);
    expect(await page.locator('h1').textContent()).toBe('This link has expired');
    await page.close();
  });
});
