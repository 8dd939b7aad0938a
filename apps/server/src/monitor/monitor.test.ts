import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AttemptRecord, mailError, parseMessage } from '@mailroute/core';
import type { MailStore, ProcessBreaker } from '@mailroute/store';
import { forEachDatabase } from '@mailroute/store/testing';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { configSchema } from '../config/schema.js';
import { channelsFrom } from './channels/index.js';
import type { AlertSettings } from './checks.js';
import { createMonitor, type Monitor } from './monitor.js';

/**
 * The monitor against a real database and a real HTTP receiver standing in for Slack and a
 * JSON webhook; time is a clock the test moves, rounds run when the test asks.
 */

interface Received {
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** Per path: answer 200, answer this status, or never answer. */
type Mode = 'ok' | number | 'hang';

let receiver: Server;
let base = '';
const received: Received[] = [];
const modes = new Map<string, Mode>();

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    request.on('end', () => {
      const path = request.url ?? '';
      const mode = modes.get(path) ?? 'ok';
      if (mode === 'hang') return;
      received.push({ path, body: JSON.parse(text) as Record<string, unknown>, headers: request.headers });
      response.statusCode = mode === 'ok' ? 200 : mode;
      response.end(mode === 'ok' ? 'ok' : 'no_service: try later');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

afterEach(() => {
  received.length = 0;
  modes.clear();
});

const MIN = 60_000;

function settings(overrides: Record<string, unknown> = {}): AlertSettings {
  return configSchema.parse({
    alerts: {
      checkIntervalMs: 30_000,
      leaseMs: 90_000,
      reminderIntervalMs: 30 * MIN,
      channels: { slack: { url: `${base}/slack`, timeoutMs: 2_000 }, webhook: { url: `${base}/hook`, headers: { 'x-token': 't0ken' } } },
      ...overrides,
    },
  }).alerts;
}

/** A port nothing listens on: taken from the system, then given back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const byPath = (path: string) => received.filter((entry) => entry.path === path).map((entry) => entry.body);

function message(n: number) {
  const parsed = parseMessage({ from: 'desk@hotel.example', to: [`guest${n}@example.org`], subject: `Booking ${n}`, text: 'See you.' });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

function failed(messageId: string, at: number, provider: string): AttemptRecord {
  return {
    messageId,
    provider,
    providerType: 'sendgrid',
    startedAt: at,
    finishedAt: at + 10,
    latencyMs: 10,
    outcome: 'failed',
    error: mailError('PROVIDER_UNAVAILABLE', `${provider} answered 503`, { provider, detail: { status: 503 } }),
  };
}

function accepted(messageId: string, at: number, provider: string): AttemptRecord {
  return {
    messageId,
    provider,
    providerType: 'smtp',
    startedAt: at,
    finishedAt: at + 10,
    latencyMs: 10,
    outcome: 'accepted',
    providerMessageId: 'pm',
  };
}

function breaker(state: ProcessBreaker['state'], since: number): ProcessBreaker {
  return { type: 'sendgrid', state, since, enabled: true, fires: 10, successes: 0, failures: 10, rejects: 0, latencyMeanMs: 5 };
}

forEachDatabase('alert monitor', (database) => {
  const monitors: Monitor[] = [];
  afterEach(async () => {
    await Promise.all(monitors.splice(0).map((monitor) => monitor.stop()));
  });

  async function setup(overrides: Record<string, unknown> = {}, dashboardUrl?: string) {
    let now = Date.UTC(2030, 0, 1, 9, 0, 0);
    const clock = {
      now: () => now,
      advance: (ms: number) => {
        now += ms;
      },
    };
    const store = await database.open({ now: clock.now, listen: false });
    const logged: { level: string; message: string }[] = [];
    const log = (level: string) => (_fields: object, text: string) => logged.push({ level, message: text });
    const open = (owner: string, on: MailStore = store) => {
      const alerts = settings(overrides);
      const monitor = createMonitor({
        store: on,
        settings: alerts,
        providerNames: () => ['sendgrid', 'smtp'],
        logger: { info: log('info'), warn: log('warn'), error: log('error') },
        staleAfterMs: 20_000,
        channels: channelsFrom(alerts),
        owner,
        now: clock.now,
        ...(dashboardUrl === undefined ? {} : { dashboardUrl }),
      });
      monitors.push(monitor);
      return monitor;
    };
    return { clock, store, open, logged };
  }

  test('started, it checks at once and then every interval; stopped, it gives the lease up for another process', async () => {
    const alerts = settings({ checkIntervalMs: 200, leaseMs: 5_000 });
    const store = await database.open({ listen: false });
    const lines: string[] = [];
    const logger = { info: (_: object, text: string) => lines.push(text), warn: () => {}, error: () => {} };
    const options = { store, settings: alerts, providerNames: () => [], logger, staleAfterMs: 20_000, channels: [] };
    const a = createMonitor({ ...options, owner: 'a' });
    const b = createMonitor({ ...options, owner: 'b' });
    monitors.push(a, b);
    a.start();
    const deadline = Date.now() + 10_000;
    while (!(await store.leaseHolder('alert-monitor')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const first = await store.leaseHolder('alert-monitor');
    expect(first?.owner).toBe('a');
    // Renewed at every round: the expiry moves on.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await store.leaseHolder('alert-monitor'))?.expiresAt).toBeGreaterThan(first?.expiresAt ?? Number.POSITIVE_INFINITY);
    expect((await b.checkOnce()).active).toBe(false);
    await a.stop();
    expect(await store.leaseHolder('alert-monitor')).toBeUndefined();
    expect((await b.checkOnce()).active).toBe(true);
    expect(lines).toContain('alert monitor active in this process');
  });

  test('with dashboard.publicUrl, Slack and webhook notices link to the console view of the incident', async () => {
    const { clock, store, open } = await setup({}, 'https://mail.example.com/dashboard/');
    const monitor = open('a');
    await store.enqueue(message(1));
    clock.advance(10 * MIN);
    expect((await monitor.checkOnce()).notices.map((notice) => notice.ok)).toEqual([true, true]);
    const link = 'https://mail.example.com/dashboard/messages?q=status%3Aqueued%2Cscheduled%2Csending%2Cheld%2Cretrying';
    const [slack] = byPath('/slack');
    expect(slack?.text).toMatch(new RegExp(`\\n${link.replace(/[?.]/g, '\\$&')}$`));
    expect(JSON.stringify(slack?.blocks)).toContain(`<${link}|Open in the mailroute console>`);
    expect(byPath('/hook')[0]).toMatchObject({ kind: 'late_delivery', consoleUrl: link });
  });

  test('without dashboard.publicUrl, notices carry no console link', async () => {
    const { clock, store, open } = await setup();
    const monitor = open('a');
    await store.enqueue(message(1));
    clock.advance(10 * MIN);
    await monitor.checkOnce();
    expect(JSON.stringify(byPath('/slack')[0])).not.toContain('console');
    expect(byPath('/hook')[0]).not.toHaveProperty('consoleUrl');
  });

  test('late delivery: one notice per channel, a reminder at the interval, one resolve notice', async () => {
    const { clock, store, open } = await setup();
    const monitor = open('a');
    const { id } = await store.enqueue(message(1));
    clock.advance(9 * MIN);
    expect(await monitor.checkOnce()).toMatchObject({ active: true, raised: [], notices: [] });
    expect(received).toEqual([]);

    clock.advance(MIN);
    const round = await monitor.checkOnce();
    expect(round.raised.map((alert) => alert.kind)).toEqual(['late_delivery']);
    expect(round.notices.map((notice) => [notice.channel, notice.kind, notice.ok])).toEqual([
      ['slack', 'firing', true],
      ['webhook', 'firing', true],
    ]);
    const [slack] = byPath('/slack');
    expect(slack?.text).toMatch(/^:rotating_light: \[mailroute\] FIRING Late delivery\nThe oldest message not yet sent has waited 10 min/);
    expect(slack?.text).toContain('1 message waiting (queued 1)');
    expect(JSON.stringify(slack?.blocks)).toContain('docs/runbook.md#late-delivery');
    const [hook] = received.filter((entry) => entry.path === '/hook');
    expect(hook?.headers['x-token']).toBe('t0ken');
    expect(hook?.body).toMatchObject({
      kind: 'late_delivery',
      subject: '*',
      state: 'firing',
      notice: 'firing',
      startedAt: new Date(clock.now()).toISOString(),
      resolvedAt: null,
      detail: { waitedMs: 10 * MIN, thresholdMs: 10 * MIN, waiting: { queued: 1 } },
      runbook: 'docs/runbook.md#late-delivery',
      runbookUrl: null,
    });

    // Still late at every check: no new notice until the reminder interval has passed.
    for (let step = 0; step < 10; step += 1) {
      clock.advance(30_000);
      expect((await monitor.checkOnce()).notices).toEqual([]);
    }
    clock.advance(25 * MIN);
    expect((await monitor.checkOnce()).notices.map((notice) => notice.kind)).toEqual(['reminder', 'reminder']);
    expect(byPath('/slack')[1]?.text).toMatch(/STILL FIRING Late delivery \(for 30 min\)/);
    clock.advance(30_000);
    expect((await monitor.checkOnce()).notices).toEqual([]);

    // Sent: the queue is empty, the incident clears with one resolve notice per channel.
    await store.claim('w', 10, 60_000);
    await store.complete('w', [{ kind: 'sent', id, provider: 'sendgrid', providerMessageId: 'pm-1', attempts: [] }]);
    clock.advance(30_000);
    const cleared = await monitor.checkOnce();
    expect(cleared.resolved.map((alert) => alert.kind)).toEqual(['late_delivery']);
    expect(cleared.notices.map((notice) => [notice.channel, notice.kind])).toEqual([
      ['slack', 'resolved'],
      ['webhook', 'resolved'],
    ]);
    expect(byPath('/slack')[2]?.text).toMatch(/^:white_check_mark: \[mailroute\] RESOLVED Late delivery \(after 31 min\)/);
    expect(byPath('/hook')[2]).toMatchObject({ state: 'resolved', notice: 'resolved', resolvedAt: new Date(clock.now()).toISOString() });
    clock.advance(30 * MIN);
    expect((await monitor.checkOnce()).notices).toEqual([]);
    expect(received).toHaveLength(6);

    const history = await store.listAlerts();
    expect(history.items).toHaveLength(1);
    expect(history.items[0]).toMatchObject({ kind: 'late_delivery', state: 'resolved', notifyCount: 6 });
    // Channels are sent to at once: within one round either may be recorded first.
    const rounds = history.items[0]?.notifications.map((notice) => `${notice.kind}:${notice.channel}`) ?? [];
    expect([rounds.slice(0, 2).sort(), rounds.slice(2, 4).sort(), rounds.slice(4).sort()]).toEqual([
      ['firing:slack', 'firing:webhook'],
      ['reminder:slack', 'reminder:webhook'],
      ['resolved:slack', 'resolved:webhook'],
    ]);
  });

  test('with alerts.docsUrl the runbook section is a link in Slack and an address in the JSON webhook', async () => {
    const { clock, store, open } = await setup({ docsUrl: 'https://git.example.com/ops/mailroute/blob/main/' });
    const monitor = open('a');
    await store.enqueue(message(5));
    clock.advance(10 * MIN);
    expect((await monitor.checkOnce()).raised).toHaveLength(1);
    const section = 'https://git.example.com/ops/mailroute/blob/main/docs/runbook.md#late-delivery';
    expect(JSON.stringify(byPath('/slack')[0]?.blocks)).toContain(`runbook: <${section}|docs/runbook.md#late-delivery>`);
    expect(byPath('/hook')[0]).toMatchObject({ runbook: 'docs/runbook.md#late-delivery', runbookUrl: section });
  });

  test('a channel that fails is recorded and tried again at the next check; the other is not sent twice', async () => {
    const { clock, store, open } = await setup();
    const monitor = open('a');
    await store.enqueue(message(2));
    clock.advance(11 * MIN);
    modes.set('/slack', 503);
    const first = await monitor.checkOnce();
    expect(first.notices).toEqual([
      expect.objectContaining({ channel: 'slack', kind: 'firing', ok: false, error: 'HTTP 503: no_service: try later' }),
      expect.objectContaining({ channel: 'webhook', kind: 'firing', ok: true }),
    ]);

    modes.set('/slack', 'hang');
    clock.advance(30_000);
    const second = await monitor.checkOnce();
    expect(second.notices).toEqual([expect.objectContaining({ channel: 'slack', ok: false, error: 'no answer within 2000 ms' })]);

    modes.delete('/slack');
    clock.advance(30_000);
    expect((await monitor.checkOnce()).notices).toEqual([expect.objectContaining({ channel: 'slack', kind: 'firing', ok: true })]);
    clock.advance(30_000);
    expect((await monitor.checkOnce()).notices).toEqual([]);
    expect(byPath('/hook')).toHaveLength(1);
    expect(byPath('/slack')).toHaveLength(2);

    const [incident] = (await store.listAlerts()).items;
    const recorded = incident?.notifications.map((notice) => [notice.channel, notice.ok, notice.error ?? null]) ?? [];
    expect(recorded.slice(0, 2).sort()).toEqual([
      ['slack', false, 'HTTP 503: no_service: try later'],
      ['webhook', true, null],
    ]);
    expect(recorded.slice(2)).toEqual([
      ['slack', false, 'no answer within 2000 ms'],
      ['slack', true, null],
    ]);
  });

  test('an unreachable channel never stops the monitor, and its address is not recorded', async () => {
    const closed = await closedPort();
    const { clock, store, open } = await setup({ channels: { slack: { url: `http://127.0.0.1:${closed}/services/T0/B0/secret` } } });
    const monitor = open('a');
    await store.enqueue(message(3));
    clock.advance(11 * MIN);
    const round = await monitor.checkOnce();
    expect(round.raised).toHaveLength(1);
    expect(round.notices).toEqual([expect.objectContaining({ channel: 'slack', ok: false, error: 'request failed: ECONNREFUSED' })]);
    expect(JSON.stringify(await store.listAlerts())).not.toContain('secret');
  });

  test('two processes: one checks and notifies; after the holder dies the other takes over without repeating', async () => {
    const { clock, store, open } = await setup();
    const other = await database.open({ now: clock.now, listen: false });
    const a = open('a');
    const b = open('b', other);
    const { id } = await store.enqueue(message(4));
    clock.advance(11 * MIN);
    expect((await a.checkOnce()).active).toBe(true);
    expect(await b.checkOnce()).toMatchObject({ active: false, notices: [] });
    expect(byPath('/slack')).toHaveLength(1);

    // `a` dies (no more rounds, lease left to expire): `b` takes over once the lease is over.
    clock.advance(60_000);
    expect((await b.checkOnce()).active).toBe(false);
    clock.advance(31_000);
    const takeover = await b.checkOnce();
    expect(takeover).toMatchObject({ active: true, raised: [], notices: [] });
    expect(await store.firingAlerts()).toHaveLength(1);
    expect(byPath('/slack')).toHaveLength(1);

    // `a` comes back from its stall: it must neither check nor notify.
    const stale = await a.checkOnce();
    expect(stale.active).toBe(false);
    await other.cancel(id);
    clock.advance(30_000);
    expect((await a.checkOnce()).active).toBe(false);
    const resolved = await b.checkOnce();
    expect(resolved.notices.map((notice) => `${notice.channel}:${notice.kind}`)).toEqual(['slack:resolved', 'webhook:resolved']);
    const arrivals = received.map((entry) => `${entry.path}:${entry.body.notice ?? String(entry.body.text).split(' ')[2]}`);
    expect([arrivals.slice(0, 2).sort(), arrivals.slice(2).sort()]).toEqual([
      ['/hook:firing', '/slack:FIRING'],
      ['/hook:resolved', '/slack:RESOLVED'],
    ]);
  });

  test('breaker open: raised after the threshold across half-open probes, kept by a new monitor, cleared when it closes', async () => {
    const { clock, store, open } = await setup({ breakerOpenAfterMs: 5 * MIN });
    const beat = (breakers: Record<string, ProcessBreaker>, id = 'p1') =>
      store.recordHeartbeat({ id, role: 'worker', host: 'h', pid: 1, startedAt: clock.now() - 60 * MIN, breakers });
    const first = open('a');
    const openedAt = clock.now();
    await beat({ sendgrid: breaker('open', openedAt), smtp: breaker('closed', openedAt) });
    await beat({ sendgrid: breaker('closed', openedAt) }, 'p2');
    expect((await first.checkOnce()).raised).toEqual([]);

    // The breaker probes (half-open) and opens again every 30 s: its `since` keeps moving.
    for (let step = 1; step <= 9; step += 1) {
      clock.advance(30_000);
      await beat({ sendgrid: breaker(step % 2 ? 'half_open' : 'open', clock.now()) });
      await beat({ sendgrid: breaker('closed', openedAt) }, 'p2');
      expect((await first.checkOnce()).raised).toEqual([]);
    }
    clock.advance(30_000);
    await beat({ sendgrid: breaker('open', clock.now()) });
    await beat({ sendgrid: breaker('closed', openedAt) }, 'p2');
    const raised = await first.checkOnce();
    expect(raised.raised.map((alert) => [alert.kind, alert.subject])).toEqual([['breaker_open', 'sendgrid']]);
    expect(raised.raised[0]?.summary).toMatch(
      /^The circuit breaker for sendgrid has not closed for 5 min in 1 of 2 live processes \(open in 1, half-open in 0;/,
    );
    // The incident started when the breaker left closed, not when the check noticed.
    expect(raised.raised[0]?.startedAt).toBe(openedAt);
    expect(byPath('/slack')[0]?.text).toMatch(/FIRING Breaker open: sendgrid/);

    // A new monitor (the old one's process stopped cleanly) sees a breaker open for 10 s only: it keeps the incident.
    await first.stop();
    const second = open('b');
    clock.advance(10_000);
    await beat({ sendgrid: breaker('open', clock.now() - 10_000) });
    await beat({ sendgrid: breaker('closed', openedAt) }, 'p2');
    expect(await second.checkOnce()).toMatchObject({ active: true, raised: [], resolved: [], notices: [] });

    clock.advance(10_000);
    await beat({ sendgrid: breaker('closed', clock.now()) });
    await beat({ sendgrid: breaker('closed', openedAt) }, 'p2');
    const cleared = await second.checkOnce();
    expect(cleared.resolved.map((alert) => alert.subject)).toEqual(['sendgrid']);
    expect(byPath('/slack').map((body) => String(body.text))).toEqual([
      expect.stringMatching(/^:rotating_light: \[mailroute\] FIRING Breaker open: sendgrid\n/),
      `:white_check_mark: [mailroute] RESOLVED Breaker open: sendgrid (after 5 min)\nThe breaker for sendgrid closed in every live process using it (2, the latest at ${new Date(clock.now()).toISOString()}): a probe went through.`,
    ]);
  });

  test('a breaker held open by the operator (forced_open) or a process gone silent raises nothing', async () => {
    const { clock, store, open } = await setup({ breakerOpenAfterMs: MIN });
    const monitor = open('a');
    const since = clock.now() - 10 * MIN;
    await store.recordHeartbeat({
      id: 'gone',
      role: 'worker',
      host: 'h',
      pid: 2,
      startedAt: since,
      breakers: { smtp: breaker('open', since) },
    });
    clock.advance(25_000);
    await store.setProviderState('sendgrid', 'forced_open', 'planned maintenance');
    await store.recordHeartbeat({
      id: 'p1',
      role: 'all',
      host: 'h',
      pid: 1,
      startedAt: since,
      breakers: { sendgrid: breaker('open', since) },
    });
    expect((await monitor.checkOnce()).raised).toEqual([]);
    await store.setProviderState('sendgrid', 'enabled');
    expect((await monitor.checkOnce()).raised.map((alert) => alert.subject)).toEqual(['sendgrid']);
  });

  /** Claims the message and records one dispatch round of it: the outcome with its provider calls. */
  async function round(store: MailStore, outcome: Parameters<MailStore['complete']>[1][number]) {
    const claimed = await store.claim('w', 10, 60_000);
    expect(claimed.map((row) => row.message.id)).toContain(outcome.id);
    await store.complete('w', [outcome]);
  }

  test('every provider failing: the window starts at the first failure after the last answer, not in the quiet before it', async () => {
    const { clock, store, open } = await setup();
    const monitor = open('a');
    const first = (await store.enqueue(message(20))).id;
    await round(store, {
      kind: 'sent',
      id: first,
      provider: 'smtp',
      providerMessageId: 'pm',
      attempts: [accepted(first, clock.now(), 'smtp')],
    });
    clock.advance(60 * MIN);
    expect((await monitor.checkOnce()).raised).toEqual([]);

    // An hour of quiet, then every provider fails: 1 s in, that is no 5 min spell yet.
    const id = (await store.enqueue(message(21))).id;
    const failedAt = clock.now();
    await round(store, {
      kind: 'retry',
      id,
      at: failedAt + 10 * MIN,
      error: mailError('NO_PROVIDER', 'all failed'),
      attempts: [failed(id, failedAt, 'sendgrid'), failed(id, failedAt, 'smtp')],
    });
    clock.advance(1_000);
    expect((await monitor.checkOnce()).raised).toEqual([]);
    clock.advance(4 * MIN);
    expect((await monitor.checkOnce()).raised).toEqual([]);

    clock.advance(MIN);
    const raised = await monitor.checkOnce();
    expect(raised.raised.map((alert) => alert.kind)).toEqual(['all_providers_failing']);
    expect(raised.raised[0]?.startedAt).toBe(failedAt);
    expect(raised.raised[0]?.summary).toBe(
      `No provider has accepted anything for 5 min, since the first failure at ${new Date(failedAt).toISOString()} (threshold 5 min): sendgrid 1/1 failed (last: PROVIDER_UNAVAILABLE 503); smtp 1/1 failed (last: PROVIDER_UNAVAILABLE 503); mail waits for its next try.`,
    );
    expect(raised.raised[0]?.detail).toMatchObject({ attempts: 2, notTried: [], lastAnswer: { provider: 'smtp', outcome: 'accepted' } });
  });

  test('old failures and then nothing raise no incident; a message refused for its own fault is an answer', async () => {
    const { clock, store, open } = await setup();
    const monitor = open('a');
    const id = (await store.enqueue(message(22))).id;
    await round(store, {
      kind: 'failed',
      id,
      error: mailError('INVALID_RECIPIENT', 'no such user'),
      attempts: [
        failed(id, clock.now(), 'sendgrid'),
        { ...failed(id, clock.now() + 20, 'smtp'), error: mailError('INVALID_RECIPIENT', 'no such user') },
      ],
    });
    clock.advance(10 * MIN);
    // sendgrid failed, then smtp answered (refused the address): no spell of failures.
    expect((await monitor.checkOnce()).raised).toEqual([]);
    expect(await store.failingSpell(['sendgrid', 'smtp'])).toEqual({
      lastAnswer: { provider: 'smtp', at: expect.any(Number), outcome: 'refused' },
    });

    const other = (await store.enqueue(message(23))).id;
    await round(store, {
      kind: 'failed',
      id: other,
      error: mailError('NO_PROVIDER', 'all failed'),
      attempts: [failed(other, clock.now(), 'sendgrid')],
    });
    clock.advance(10 * MIN);
    // Failures 10 min ago, no mail waiting, nothing tried since: no news of an outage now.
    expect((await monitor.checkOnce()).raised).toEqual([]);
  });

  test('no false all-clear: mail going dead in an outage keeps the incidents open and is said in them; a provider accepting clears them with the reason', async () => {
    const { clock, store, open } = await setup();
    const monitor = open('a');
    const id = (await store.enqueue(message(30))).id;
    const failedAt = clock.now();
    await round(store, {
      kind: 'retry',
      id,
      at: failedAt + 9 * MIN,
      error: mailError('NO_PROVIDER', 'all failed'),
      attempts: [failed(id, failedAt, 'sendgrid'), failed(id, failedAt, 'smtp')],
    });
    clock.advance(10 * MIN);
    const raised = await monitor.checkOnce();
    expect(raised.raised.map((alert) => alert.kind).sort()).toEqual(['all_providers_failing', 'late_delivery']);
    expect(raised.raised.find((alert) => alert.kind === 'late_delivery')?.startedAt).toBe(failedAt + 10 * MIN);

    // Every waiting message goes dead: nothing was handed to a provider, nothing has recovered.
    await round(store, {
      kind: 'dead',
      id,
      reason: 'max_attempts',
      error: mailError('NO_PROVIDER', 'all failed'),
      attempts: [failed(id, clock.now(), 'sendgrid'), failed(id, clock.now(), 'smtp')],
    });
    clock.advance(30_000);
    const during = await monitor.checkOnce();
    expect(during.resolved).toEqual([]);
    expect(during.raised.map((alert) => alert.kind)).toEqual(['dead_messages']);
    const firing = Object.fromEntries((await store.firingAlerts()).map((alert) => [alert.kind, alert]));
    expect(firing.late_delivery?.summary).toBe(
      'No mail waits past the threshold now, but none of it was handed to a provider: 1 message went dead since this started (NO_PROVIDER 1). This stays open until a provider accepts mail.',
    );
    expect(firing.all_providers_failing?.summary).toMatch(/; 1 message went dead since this started \(NO_PROVIDER 1\)\.$/);
    expect(firing.all_providers_failing?.detail).toMatchObject({ deadSinceStart: 1 });
    for (let step = 0; step < 20; step += 1) {
      clock.advance(MIN);
      expect((await monitor.checkOnce()).resolved).toEqual([]);
    }

    // smtp takes new mail: the outage is over.
    const next = (await store.enqueue(message(31))).id;
    const acceptedAt = clock.now();
    await round(store, {
      kind: 'sent',
      id: next,
      provider: 'smtp',
      providerMessageId: 'pm',
      attempts: [accepted(next, acceptedAt, 'smtp')],
    });
    clock.advance(30_000);
    const cleared = await monitor.checkOnce();
    const reasons = Object.fromEntries(cleared.resolved.map((alert) => [alert.kind, alert.summary]));
    expect(Object.keys(reasons).sort()).toEqual(['all_providers_failing', 'late_delivery']);
    expect(reasons.all_providers_failing).toBe(
      `smtp accepted mail again at ${new Date(acceptedAt).toISOString()}, 30 min after the first failure.`,
    );
    expect(reasons.late_delivery).toBe(
      'The late mail was handed to a provider: 1 message accepted since it started (smtp 1); no mail waits; 1 message went dead since this started (NO_PROVIDER 1).',
    );
    // Every RESOLVED notice says why, on both channels; the firing summary stays in the detail.
    const resolvedTexts = byPath('/slack')
      .map((body) => String(body.text))
      .filter((text) => text.includes('RESOLVED'));
    expect(resolvedTexts).toHaveLength(2);
    expect(resolvedTexts).toContain(
      `:white_check_mark: [mailroute] RESOLVED Every provider failing (after 31 min)\n${reasons.all_providers_failing}`,
    );
    const hook = byPath('/hook').find((body) => body.notice === 'resolved' && body.kind === 'late_delivery');
    expect(hook).toMatchObject({
      summary: reasons.late_delivery,
      detail: { resolvedBecause: reasons.late_delivery, firingSummary: expect.stringMatching(/^No mail waits past the threshold now/) },
    });
    expect((await store.firingAlerts()).map((alert) => alert.kind)).toEqual(['dead_messages']);
  });

  test('late delivery says how much of the late mail waits for a provider because no provider could be called', async () => {
    const { clock, store, open } = await setup();
    const monitor = open('a');
    const id = (await store.enqueue(message(41))).id;
    await round(store, {
      kind: 'retry',
      id,
      at: clock.now() + 30 * MIN,
      error: mailError('BREAKER_OPEN', 'no provider was called (sendgrid: breaker open, smtp: breaker open)'),
      attempts: [],
    });
    clock.advance(10 * MIN);
    const [late] = (await monitor.checkOnce()).raised;
    expect(late?.summary).toBe(
      'The oldest message not yet sent has waited 10 min (threshold 10 min); 1 message waiting (retrying 1); 1 of them wait for a provider to come back (no provider could be called: breakers open or disabled; such rounds do not count toward retry.maxAttempts, so they wait until a provider is back or retry.maxAgeMs passes).',
    );
    expect(late?.detail).toMatchObject({ waitingForProvider: 1 });
  });

  test('late delivery of mail an operator cancelled resolves, saying nothing was sent or went dead', async () => {
    const { clock, store, open } = await setup();
    const monitor = open('a');
    const { id } = await store.enqueue(message(40));
    clock.advance(11 * MIN);
    expect((await monitor.checkOnce()).raised.map((alert) => alert.kind)).toEqual(['late_delivery']);
    await store.cancel(id);
    clock.advance(30_000);
    const cleared = await monitor.checkOnce();
    expect(cleared.resolved.map((alert) => alert.summary)).toEqual([
      'No message waits past the threshold any more; none was sent and none went dead (the late mail was cancelled or refused for its own fault); no mail waits.',
    ]);
  });

  test('messages went dead: raised with the first death as its start, cleared by a resend with the reason; resent mail is late from the resend', async () => {
    const { clock, store, open } = await setup();
    const monitor = open('a');
    const id = (await store.enqueue(message(50))).id;
    const deadAt = clock.now();
    await round(store, {
      kind: 'dead',
      id,
      reason: 'max_attempts',
      error: mailError('NO_PROVIDER', 'all failed'),
      attempts: [failed(id, deadAt, 'sendgrid'), failed(id, deadAt, 'smtp')],
    });
    clock.advance(1_000);
    const round1 = await monitor.checkOnce();
    const dead = round1.raised.find((alert) => alert.kind === 'dead_messages');
    expect(dead?.summary).toBe('1 message went dead in the last 1 h and is dead still, the latest 1 s ago (NO_PROVIDER 1).');
    expect(dead?.startedAt).toBe(deadAt);
    // Resent 20 min after it was accepted: it is late from the resend, not from its acceptance.
    clock.advance(20 * MIN);
    await store.retryMessages({ target: { ids: [id] } });
    clock.advance(30_000);
    const cleared = await monitor.checkOnce();
    expect(cleared.raised.map((alert) => alert.kind)).not.toContain('late_delivery');
    expect(cleared.resolved.map((alert) => [alert.kind, alert.summary])).toEqual([
      ['dead_messages', 'Every message that went dead during it was resent or cancelled: none is dead still.'],
    ]);
    clock.advance(10 * MIN);
    expect((await monitor.checkOnce()).raised.map((alert) => alert.kind)).toContain('late_delivery');
  });

  test('a breaker that stays half-open (no traffic to probe) is not closed: it raises, and says so', async () => {
    const { clock, store, open } = await setup({ breakerOpenAfterMs: 5 * MIN });
    const monitor = open('a');
    const openedAt = clock.now();
    clock.advance(6 * MIN);
    await store.recordHeartbeat({
      id: 'p1',
      role: 'worker',
      host: 'h',
      pid: 1,
      startedAt: openedAt - MIN,
      breakers: { sendgrid: { ...breaker('half_open', clock.now() - 30_000), notClosedSince: openedAt } },
    });
    const raised = await monitor.checkOnce();
    expect(raised.raised.map((alert) => [alert.subject, alert.startedAt])).toEqual([['sendgrid', openedAt]]);
    expect(raised.raised[0]?.summary).toMatch(/has not closed for 6 min in 1 of 1 live process \(open in 0, half-open in 1;/);
  });
});
