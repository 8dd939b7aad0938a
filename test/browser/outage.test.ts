import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { booking } from '../e2e/support/mail.js';
import { launchBrowser, openContext, screenshot, signIn } from './support/browser.js';
import { type ConsoleServer, startConsoleServer } from './support/console.js';

/**
 * Test 2 of the console: SendGrid starts answering 503 while mail flows. An open overview must
 * show its breaker open, the failures counted and the mail going to SES within 5 s, and the
 * breaker closed again once SendGrid recovers.
 */

let app: ConsoleServer;
let browser: Browser;
let flowing = true;
let flow: Promise<void>;

async function attemptsIn(tab: Page, provider: string): Promise<number> {
  const cell = tab.locator(`[data-provider="${provider}"] table.windows tbody tr`).first().locator('td').first();
  return Number(await cell.textContent());
}

beforeAll(async () => {
  [app, browser] = await Promise.all([startConsoleServer('outage'), launchBrowser()]);
  let index = 0;
  flow = (async () => {
    while (flowing) {
      await app.client.mail.send.mutate(booking(index++, 'flow')).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
}, 60_000);

afterAll(async () => {
  flowing = false;
  await flow;
  await browser?.close();
  await app?.close();
});

describe('an outage on an open console', () => {
  it('2. shows the SendGrid breaker open within 5 s, failures counted and mail going to SES; closed again after', async () => {
    const context = await openContext(browser);
    const tab = await context.newPage();
    await signIn(tab, app.url, app.adminKey);
    const sendgrid = tab.locator('[data-provider="sendgrid"]');
    await sendgrid.getByText('Breaker not open in any of 1 processes').waitFor();
    await expect.poll(() => attemptsIn(tab, 'sendgrid'), { timeout: 10_000 }).toBeGreaterThan(0);
    const sesBefore = await attemptsIn(tab, 'ses');

    app.sendgrid.failWith(503);
    const failedAt = Date.now();
    await sendgrid.getByText('Breaker OPEN in 1 of 1 processes').waitFor({ timeout: 5_000 });
    const shownAfterMs = Date.now() - failedAt;
    await expect.poll(() => sendgrid.locator('.facts').textContent(), { timeout: 5_000 }).toMatch(/provider: \d+/);
    expect(await sendgrid.locator('.provider-words').textContent()).toContain('503');
    expect(await sendgrid.locator('.breakers .breaker-open').textContent()).toContain('open');
    await expect.poll(() => attemptsIn(tab, 'ses'), { timeout: 5_000 }).toBeGreaterThan(sesBefore);
    await expect
      .poll(() => tab.locator('.timeline-chart [role="img"]').getAttribute('aria-label'), { timeout: 5_000 })
      .toMatch(/; [1-9]\d* failovers in the range/);
    await screenshot(tab, 'overview-outage');
    console.log(`breaker open shown ${shownAfterMs} ms after SendGrid started failing`);
    expect(shownAfterMs).toBeLessThan(5_000);

    // The view a breaker_open alert notice links to: the overview with SendGrid picked.
    await tab.goto(`${app.url}/dashboard/?range=1h&provider=sendgrid`);
    await tab.getByText('Showing sendgrid only (picked by the link).').waitFor();
    expect(await tab.locator('[data-provider="sendgrid"]').getAttribute('aria-current')).toBe('true');
    expect(await tab.locator('[data-provider="ses"]').getAttribute('aria-current')).toBeNull();

    app.sendgrid.normal();
    await sendgrid.getByText('Breaker not open in any of 1 processes').waitFor({ timeout: 15_000 });
    await sendgrid.locator('.breakers .breaker-closed').waitFor({ timeout: 15_000 });
    await screenshot(tab, 'overview-recovered');
    await context.close();
  }, 60_000);

  it('shows a banner while the connection is lost and recovers by itself', async () => {
    const context = await openContext(browser);
    const tab = await context.newPage();
    await signIn(tab, app.url, app.adminKey, 'alerts');
    await tab.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
    // The API stops answering (the browser itself stays online).
    await context.route('**/trpc/**', (route) => route.abort('connectionrefused'));
    const banner = tab.locator('.banner-error', { hasText: 'Connection to the server lost.' });
    await banner.waitFor({ timeout: 10_000 });
    await screenshot(tab, 'connection-lost');
    await context.unroute('**/trpc/**');
    await banner.waitFor({ state: 'detached', timeout: 10_000 });
    await context.close();
  }, 60_000);
});
