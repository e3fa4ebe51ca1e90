import { existsSync } from 'node:fs';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's chromium package (`apt-get install -y chromium`); nothing here downloads a browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  // CI installs Chromium (.ci/run): there, its absence is a failure, never a silent skip.
  if (process.env.CI === 'true')
    throw new Error(`CI=true but Chromium is not at ${CHROMIUM}: install it (.ci/run)`);
  process.stderr.write(
    `\n*** test/browser: Chromium not found at ${CHROMIUM}; the real-browser tests are NOT run. ` +
      'Install it with `apt-get install -y chromium` (or set CHROMIUM_PATH). ***\n\n',
  );
}

/** Headless Chromium with its own profile in `userDataDir`, quiet: no first run, no background traffic. */
export const launchChromium = (userDataDir: string, viewport: { width: number; height: number }) =>
  chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
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
  }) satisfies Promise<BrowserContext>;
