import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium; `.ci/run` installs it when missing. playwright-core 1.64 speaks to its major (156). */
export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const screenshotDir = join(repoRoot, 'test/.reports/screenshots');
const dashboardDist = join(repoRoot, 'apps/dashboard/dist');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk`);
  if (!existsSync(join(dashboardDist, 'index.html'))) throw new Error('apps/dashboard/dist is missing: build the dashboard first');
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

/** A browser context on the server's origin, in Tokyo time (the zone the source team works in). */
export async function openContext(browser: Browser, locale = 'en-US'): Promise<BrowserContext> {
  return browser.newContext({ locale, viewport: { width: 1400, height: 1000 }, timezoneId: 'Asia/Tokyo' });
}

export async function signIn(page: Page, serverUrl: string, key: string, path = ''): Promise<void> {
  await page.goto(`${serverUrl}/dashboard/${path}`);
  await page.getByLabel(/API key|APIキー/).fill(key);
  await page.getByRole('button', { name: /Sign in|サインイン/ }).click();
}

/** Writes the page's picture to test/.reports/screenshots/NAME.png (the README's pictures are copied from there). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}
