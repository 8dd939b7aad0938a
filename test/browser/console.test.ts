import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { booking, until } from '../e2e/support/mail.js';
import { launchBrowser, openContext, screenshot, signIn } from './support/browser.js';
import { type ConsoleServer, startConsoleServer } from './support/console.js';

/**
 * The console in Debian's Chromium against the built server and the three provider stand-ins:
 * each test asserts what the operator sees, and checks it against the API.
 */

const DEAD = 6;
let app: ConsoleServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function page(locale = 'en-US'): Promise<Page> {
  const context = await openContext(browser, locale);
  contexts.push(context);
  return context.newPage();
}

beforeAll(async () => {
  [app, browser] = await Promise.all([
    // Rounds that find every breaker open do not count toward maxAttempts, so with three failing
    // providers it is maxAgeMs (from acceptance or requeue) that makes test 3's mail dead.
    startConsoleServer('console', { retry: { baseDelayMs: 100, maxDelayMs: 200, maxAttempts: 2, maxAgeMs: 4_000 } }),
    launchBrowser(),
  ]);
}, 60_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await app?.close();
});

describe('console in the browser', () => {
  it('1. signs in with the admin key, refuses a wrong key, signs out, and ends a revoked key', async () => {
    const tab = await page();
    await signIn(tab, app.url, 'mr_wrongwrongwrongwrongwrongwrongwrong00');
    await expect.poll(() => tab.getByRole('alert').textContent()).toContain('That key is unknown or revoked.');
    await screenshot(tab, 'sign-in-wrong-key');

    await tab.getByLabel('API key').fill(app.adminKey);
    await tab.getByRole('button', { name: 'Sign in' }).click();
    await tab.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await tab.locator('[data-provider="sendgrid"]').waitFor();
    expect(await tab.locator('article.card h3').allTextContents()).toEqual(['sendgrid sendgrid', 'ses ses', 'smtp smtp']);
    const stored = await tab.evaluate<string>('JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie])');
    expect(stored).not.toContain(app.adminKey);
    await tab.reload();
    await tab.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();

    await tab.getByRole('button', { name: 'Sign out' }).click();
    await tab.getByText('You are signed out.').waitFor();
    expect(await tab.getByRole('heading', { name: 'Overview' }).count()).toBe(0);
    const afterSignOut = await tab.request.get(`${app.url}/trpc/stats.overview`);
    expect(afterSignOut.status()).toBe(401);

    const { key, id } = await app.client.keys.create.mutate({ name: 'revoked in the test', scopes: ['read'] });
    await tab.getByLabel('API key').fill(key);
    await tab.getByRole('button', { name: 'Sign in' }).click();
    await tab.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await app.client.keys.revoke.mutate({ id });
    await tab.getByText('Your session has ended').waitFor({ timeout: 15_000 });
    await screenshot(tab, 'sign-in-expired');
  }, 60_000);

  it('6. a read-only key sees the overview with actions disabled by scope, and the API refuses them anyway', async () => {
    const { key } = await app.client.keys.create.mutate({ name: 'read only', scopes: ['read'] });
    const tab = await page();
    await signIn(tab, app.url, key);
    const card = tab.locator('[data-provider="sendgrid"]');
    await card.waitFor();
    const change = card.getByRole('button', { name: 'Change state…' });
    expect(await change.isDisabled()).toBe(true);
    expect(await card.locator('footer').getByText('Needs the operator scope').isVisible()).toBe(true);
    await tab.getByRole('link', { name: 'Recovery' }).click();
    expect(await tab.getByRole('button', { name: 'Dry run' }).isDisabled()).toBe(true);
    await screenshot(tab, 'read-only-recovery');

    const reader = app.clientFor(key);
    await expect(reader.providers.setState.mutate({ provider: 'sendgrid', state: 'drained', note: 'x' })).rejects.toMatchObject({
      data: { code: 'FORBIDDEN' },
    });
    await expect(reader.mail.retry.mutate({ filter: {}, dryRun: true })).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
  }, 40_000);

  it('8. a tenant admin key, not an operator: provider actions and alerts name the operator scope, recovery stays open, the API agrees', async () => {
    const { key } = await app.client.keys.create.mutate({ name: 'acme admin', scopes: ['admin'], tenantId: 'acme' });
    const tenantAdmin = app.clientFor(key);
    expect(await tenantAdmin.session.whoami.query()).toMatchObject({
      name: 'acme admin',
      tenantId: 'acme',
      scopes: ['admin'],
      operator: false,
    });

    const tab = await page();
    await signIn(tab, app.url, key);
    const card = tab.locator('[data-provider="sendgrid"]');
    await card.waitFor();
    expect(await card.getByRole('button', { name: 'Change state…' }).isDisabled()).toBe(true);
    expect(await card.locator('footer').getByText('Needs the operator scope').isVisible()).toBe(true);
    expect(await tab.getByText('Alerts: needs the operator scope').isVisible()).toBe(true);
    // Per-process breakers are for operators: the card says so rather than "no live process".
    expect(await card.locator('.breakers').textContent()).toContain('Needs the operator scope');
    const { liveIn } = (await tenantAdmin.providers.health.query()).providers.find((provider) => provider.name === 'sendgrid') ?? {};
    expect(await card.getByTestId('open-in').textContent()).toBe(`Breaker not open in any of ${liveIn} processes`);
    expect(await tab.getByText("Changing a provider's state and its audit trail: needs the operator scope").isVisible()).toBe(true);
    expect(await tab.getByRole('alert').count()).toBe(0);
    await screenshot(tab, 'tenant-admin-overview');

    await tab.getByRole('link', { name: 'Alerts', exact: true }).click();
    await tab.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
    expect(await tab.getByRole('note').textContent()).toContain('Needs the operator scope');
    expect(await tab.getByRole('alert').count()).toBe(0);
    await screenshot(tab, 'tenant-admin-alerts');

    await tab.getByRole('link', { name: 'API keys', exact: true }).click();
    await tab.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    expect(await tab.getByRole('checkbox', { name: /^operator/ }).isDisabled()).toBe(true);
    expect(await tab.getByRole('checkbox', { name: 'admin' }).isDisabled()).toBe(false);
    await expect.poll(() => tab.getByRole('row', { name: /acme admin/ }).count()).toBe(1);
    await screenshot(tab, 'tenant-admin-keys');

    await tab.goto(`${app.url}/dashboard/recovery?status=dead`);
    const dryRun = tab.getByRole('button', { name: 'Dry run' });
    await dryRun.waitFor();
    expect(await dryRun.isDisabled()).toBe(false);
    expect(await tab.getByText(/Needs the \w+ scope/).count()).toBe(0);
    await dryRun.click();
    await tab.getByTestId('matched').waitFor();
    expect(await tab.getByTestId('matched').textContent()).toBe(
      String((await tenantAdmin.mail.retry.mutate({ filter: { status: ['dead'] }, dryRun: true })).matched),
    );

    await tab.getByLabel('Language').selectOption('ja');
    await tab.getByRole('link', { name: '概要', exact: true }).click();
    await tab.locator('[data-provider="sendgrid"]').waitFor();
    expect(await tab.getByText('アラート：operator スコープが必要です').isVisible()).toBe(true);
    await screenshot(tab, 'tenant-admin-overview-ja');
    await tab.getByRole('link', { name: 'アラート', exact: true }).click();
    await tab.getByRole('heading', { name: 'アラート', level: 1 }).waitFor();
    expect(await tab.getByRole('note').textContent()).toContain('operator スコープが必要です');
    await screenshot(tab, 'tenant-admin-alerts-ja');

    await expect(tenantAdmin.providers.setState.mutate({ provider: 'sendgrid', state: 'drained', note: 'x' })).rejects.toMatchObject({
      message: expect.stringContaining('lacks the operator scope'),
      data: { code: 'FORBIDDEN' },
    });
    await expect(tenantAdmin.alerts.list.query({ state: 'firing', limit: 10 })).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    expect((await app.client.providers.list.query()).find((provider) => provider.name === 'sendgrid')?.state).toBe('enabled');
  }, 60_000);

  it('5. drains SendGrid from the UI with a note: new mail avoids it and the card shows the note', async () => {
    const tab = await page();
    await signIn(tab, app.url, app.adminKey);
    const card = tab.locator('[data-provider="sendgrid"]');
    await card.getByRole('button', { name: 'Change state…' }).click();
    const dialog = tab.getByRole('dialog');
    await dialog.getByLabel('Drain').check();
    expect(await dialog.getByText('Finish on this provider; their results count.').isVisible()).toBe(true);
    expect(await dialog.getByRole('button', { name: 'Drain' }).isDisabled()).toBe(true);
    await dialog.getByLabel(/Note/).fill('maintenance window, ticket OPS-7');
    await screenshot(tab, 'provider-drain-dialog');
    await dialog.getByRole('button', { name: 'Drain' }).click();
    await expect.poll(() => card.locator('header .badge').textContent()).toContain('drained');
    expect(await card.locator('.note').textContent()).toContain('maintenance window, ticket OPS-7');
    const audit = card.locator('.audit li').first();
    await audit.waitFor();
    expect(await audit.textContent()).toMatch(/enabled.*→.*drained.*by first admin key.*maintenance window, ticket OPS-7/);
    const stored = (await app.client.providers.list.query()).find((provider) => provider.name === 'sendgrid');
    expect(stored).toMatchObject({ state: 'drained', note: 'maintenance window, ticket OPS-7' });

    // Workers re-read overrides every 500 ms here.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const ids = await Promise.all([0, 1, 2, 3, 4].map(async (index) => (await app.client.mail.send.mutate(booking(index, 'drained'))).id));
    await until(
      async () => (await Promise.all(ids.map((id) => app.client.mail.get.query({ id })))).every((mail) => mail.status === 'sent'),
      15_000,
      'the mail sent during the drain to go out',
    );
    const providers = await Promise.all(ids.map(async (id) => (await app.client.mail.get.query({ id })).provider));
    expect(providers).toEqual(['ses', 'ses', 'ses', 'ses', 'ses']);
    await screenshot(tab, 'overview-drained');
    await app.client.providers.setState.mutate({ provider: 'sendgrid', state: 'enabled', note: 'back after the test' });
  }, 60_000);

  it('3. searches status:dead provider:sendgrid, opens a message and sees every attempt in the provider’s words', async () => {
    app.sendgrid.failWith(503);
    await app.ses.stop();
    app.smtp.faults.refuse.mail = { code: 421, message: '4.3.0 smtp stand-in refuses for the test' };
    const ids = await Promise.all(
      Array.from({ length: DEAD }, async (_, index) => (await app.client.mail.send.mutate(booking(index, 'doomed'))).id),
    );
    await until(
      async () => (await Promise.all(ids.map((id) => app.client.mail.get.query({ id })))).every((mail) => mail.status === 'dead'),
      30_000,
      'every message to go dead',
    );
    app.sendgrid.normal();
    await app.ses.start();
    app.smtp.faults.refuse.mail = undefined;
    const matching = await app.client.mail.search.query({ q: 'status:dead provider:sendgrid' });
    expect(matching.items.length).toBeGreaterThan(0);

    const tab = await page();
    await signIn(tab, app.url, app.adminKey, 'messages');
    await tab.getByLabel('Search messages').fill('recipient:guest@example.org');
    await tab.getByLabel('Search messages').press('Enter');
    await expect.poll(() => tab.getByRole('alert').textContent()).toContain('unknown search prefix "recipient:"');
    await tab.getByLabel('Search messages').fill('status:dead provider:sendgrid');
    await tab.getByLabel('Search messages').press('Enter');
    expect(await tab.getByRole('alert').count()).toBe(0);
    await tab.getByText(`${matching.items.length} shown; that is all.`).waitFor();
    expect(new URL(tab.url()).searchParams.get('q')).toBe('status:dead provider:sendgrid');
    // The virtual list draws its rows once it has measured its scroll area, which can be a frame after the count line.
    await expect.poll(() => tab.locator('.virtual-list li').count()).toBe(matching.items.length);
    await screenshot(tab, 'messages');

    const detail = await app.client.mail.get.query({ id: matching.items[0]?.id ?? '' });
    await tab.getByRole('link', { name: detail.subject }).click();
    await tab.getByRole('heading', { name: detail.subject, level: 1 }).waitFor();
    const timeline = tab.locator('ol.timeline');
    expect(await timeline.locator('li.tl-attempt').count()).toBe(detail.attempts.length);
    const sendgridAttempt = detail.attempts.find((attempt) => attempt.provider === 'sendgrid' && attempt.errorMessage);
    expect(sendgridAttempt?.errorMessage).toBeTruthy();
    expect(await timeline.textContent()).toContain(sendgridAttempt?.errorMessage ?? '');
    expect(await timeline.textContent()).toContain('4.3.0 smtp stand-in refuses for the test');
    await screenshot(tab, 'message');
  }, 60_000);

  it('4. recovery: the dry run shows the API’s numbers; confirming requeues them and they are sent', async () => {
    // Requeued mail must find SendGrid's breaker closed, not half-open (one probe at a time; the
    // rest would find no provider). A message sent while the breaker is still open goes to SES and
    // leaves it open, so one is sent every half second until one finds it half-open and closes it.
    let polls = 0;
    await until(
      async () => {
        const state = (await app.client.providers.health.query()).providers.find((provider) => provider.name === 'sendgrid')?.breakers[0]
          ?.state;
        if (state !== 'closed' && polls++ % 10 === 0) await app.client.mail.send.mutate(booking(99, 'probe'));
        return state === 'closed';
      },
      20_000,
      'the SendGrid breaker to close',
    );
    const tab = await page();
    await signIn(tab, app.url, app.adminKey, 'recovery?status=dead');
    await tab.getByRole('button', { name: 'Dry run' }).click();
    await tab.getByTestId('matched').waitFor();
    const api = await app.client.mail.retry.mutate({ filter: { status: ['dead'] }, dryRun: true });
    expect(api.requeued).toBe(DEAD);
    expect(await tab.getByTestId('matched').textContent()).toBe(String(api.matched));
    expect(await tab.getByTestId('would-resend').textContent()).toBe(String(api.requeued));
    const sendgridRow = tab.getByRole('row', { name: /^sendgrid/ });
    const viaSendgrid = await app.client.mail.retry.mutate({ filter: { status: ['dead'], provider: 'sendgrid' }, dryRun: true });
    expect(await sendgridRow.locator('td').first().textContent()).toBe(String(viaSendgrid.matched));
    await screenshot(tab, 'recovery-dry-run');

    await tab.getByRole('button', { name: `Resend ${DEAD} messages…` }).click();
    await tab
      .getByRole('dialog')
      .getByRole('button', { name: `Resend ${DEAD} messages…` })
      .click();
    await tab.getByTestId('requeued').waitFor();
    expect(await tab.getByTestId('requeued').textContent()).toContain(`${DEAD} of ${DEAD} matched messages requeued.`);
    await screenshot(tab, 'recovery-report');
    const statuses = async () => Promise.all(api.requeuedIds.map(async (id) => (await app.client.mail.get.query({ id })).status));
    await until(async () => (await statuses()).every((status) => status === 'sent'), 20_000, 'the requeued messages to be sent').catch(
      async (error: Error) => {
        throw new Error(`${error.message}: ${(await statuses()).join(', ')}`);
      },
    );
    expect((await app.client.mail.list.query({ status: ['dead'] })).items).toEqual([]);
    await tab.getByRole('link', { name: 'See the requeued messages' }).click();
    await tab.getByText(`${DEAD} shown; that is all.`).waitFor();

    // The breakers opened during test 3: one click selects what did not go out during that outage.
    await tab.getByRole('link', { name: 'Recovery' }).click();
    await tab.getByRole('button', { name: /^Everything that did not go out during the last \w+ outage$/ }).click();
    const preset = new URL(tab.url()).searchParams;
    expect(preset.get('status')).toBe('failed,dead');
    expect(Date.parse(preset.get('from') ?? '')).toBeGreaterThan(Date.now() - 10 * 60_000);
  }, 60_000);

  it('shows a message’s HTML in a sandbox: no script runs, remote images only on request', async () => {
    const { id } = await app.client.mail.send.mutate({
      from: 'desk@hotel.example',
      to: ['guest@example.org'],
      subject: 'HTML with a script and a tracker',
      html: '<p id="body">Welcome</p><script>document.getElementById("body").textContent = "script ran"</script><img src="http://127.0.0.1:9/pixel.gif" alt="tracker">',
      text: 'Welcome',
    });
    const tab = await page();
    await signIn(tab, app.url, app.adminKey, `messages/${id}`);
    const frame = tab.locator('iframe[title="HTML part"]');
    await frame.waitFor();
    expect(await frame.getAttribute('sandbox')).toBe('');
    expect(await frame.contentFrame().locator('#body').textContent()).toBe('Welcome');
    expect(await tab.getByText('Remote images are blocked.').isVisible()).toBe(true);
    expect(await frame.getAttribute('srcdoc')).toContain('img-src data: cid:;');
    await screenshot(tab, 'message-html');
    await tab.getByRole('button', { name: 'Load remote images' }).click();
    await expect.poll(() => frame.getAttribute('srcdoc')).toContain('img-src data: cid: https: http:');
    expect(await frame.contentFrame().locator('#body').textContent()).toBe('Welcome');
  }, 40_000);

  it('7. switches to Japanese, and a Japanese browser starts in Japanese', async () => {
    const tab = await page();
    await signIn(tab, app.url, app.adminKey);
    await tab.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await tab.getByLabel('Language').selectOption('ja');
    await tab.getByRole('heading', { name: '概要', level: 1 }).waitFor();
    expect(await tab.getByRole('navigation').textContent()).toContain('メッセージ');
    expect(await tab.locator('html').getAttribute('lang')).toBe('ja');
    await tab.locator('[data-provider="sendgrid"]').waitFor();
    await screenshot(tab, 'overview-ja');
    for (const [link, name] of [
      ['メッセージ', 'messages-ja'],
      ['リカバリー', 'recovery-ja'],
      ['アラート', 'alerts-ja'],
      ['配信停止リスト', 'suppressions-ja'],
      ['APIキー', 'keys-ja'],
    ] as const) {
      await tab.getByRole('link', { name: link, exact: true }).click();
      await tab.getByRole('heading', { name: link, level: 1 }).waitFor();
      await screenshot(tab, name);
    }

    const japanese = await page('ja-JP');
    await japanese.goto(`${app.url}/dashboard/`);
    await japanese.getByRole('heading', { name: 'mailroute コンソールにサインイン' }).waitFor();
    await screenshot(japanese, 'sign-in-ja');
  }, 60_000);

  it('shows every page in English for the screenshots', async () => {
    const tab = await page();
    await signIn(tab, app.url, app.adminKey);
    await tab.locator('[data-provider="sendgrid"]').waitFor();
    await screenshot(tab, 'overview');
    for (const [link, name] of [
      ['Alerts', 'alerts'],
      ['Suppressions', 'suppressions'],
      ['API keys', 'keys'],
    ] as const) {
      await tab.getByRole('link', { name: link, exact: true }).click();
      await tab.getByRole('heading', { name: link, level: 1 }).waitFor();
      await expect.poll(() => tab.locator('.loading').count()).toBe(0);
      await screenshot(tab, name);
    }
    expect(await tab.locator('table').count()).toBeGreaterThan(0);
  }, 40_000);
});
