import { createRouter, type Router } from '@mailroute/core';
import { createScriptedProvider, sampleMessage } from '@mailroute/core/testing';
import { createStore, type MailStore } from '@mailroute/store';
import { createSqliteFile } from '@mailroute/store/testing';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { createHttpApp } from './app.js';
import { createServiceMetrics, type ServiceMetrics } from './metrics.js';
import { startMetricsServer } from './metrics-route.js';

let store: MailStore;
let drop: () => Promise<void>;
const routers: Router[] = [];

beforeEach(async () => {
  const file = createSqliteFile();
  drop = file.drop;
  store = await createStore({ url: file.url });
});
afterEach(async () => {
  await Promise.all(routers.splice(0).map((router) => router.close()));
  await store.close();
  await drop();
});

function router(): Router {
  const created = createRouter({
    providers: [
      { provider: createScriptedProvider('sendgrid', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE', latencyMs: 5 }, 'sendgrid') },
      { provider: createScriptedProvider('ses', { kind: 'accept', latencyMs: 5 }, 'ses') },
    ],
    breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 },
  });
  routers.push(created);
  return created;
}

async function values(metrics: ServiceMetrics, name: string): Promise<{ labels: Record<string, unknown>; value: number }[]> {
  const found = (await metrics.registry.getMetricsAsJSON()).find((metric) => metric.name === name);
  if (!found) throw new Error(`no metric ${name}`);
  return found.values.map((entry) => ({ labels: { ...entry.labels }, value: entry.value }));
}

describe('service metrics', () => {
  it('counts the router’s attempts, failovers, skips and breaker changes, and shows its breakers', async () => {
    const live = router();
    const metrics = createServiceMetrics({ store, liveRouter: () => live, staleAfterMs: 20_000 });
    metrics.observeRouter(live);
    // Two sendgrid failures open its breaker; the third message skips it.
    for (let index = 0; index < 3; index += 1) expect((await live.send(sampleMessage())).status).toBe('sent');
    const { contentType, body } = await metrics.render();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('# TYPE mailroute_provider_attempts_total counter');

    expect(await values(metrics, 'mailroute_provider_attempts_total')).toEqual([
      { labels: { provider: 'sendgrid', outcome: 'failed', category: 'provider' }, value: 2 },
      { labels: { provider: 'ses', outcome: 'accepted', category: '' }, value: 3 },
    ]);
    expect(await values(metrics, 'mailroute_failovers_total')).toEqual([{ labels: { from: 'sendgrid' }, value: 2 }]);
    // Every message went to ses: two after sendgrid failed, one past its open breaker.
    expect(await values(metrics, 'mailroute_backup_sends_total')).toEqual([
      { labels: { first_choice: 'sendgrid', provider: 'ses' }, value: 3 },
    ]);
    expect(await values(metrics, 'mailroute_provider_skips_total')).toEqual([
      { labels: { provider: 'sendgrid', code: 'BREAKER_OPEN' }, value: 1 },
    ]);
    expect(await values(metrics, 'mailroute_breaker_transitions_total')).toEqual([
      { labels: { provider: 'sendgrid', state: 'open' }, value: 1 },
    ]);
    const states = await values(metrics, 'mailroute_breaker_state');
    expect(states.filter((entry) => entry.value === 1).map((entry) => entry.labels)).toEqual([
      { provider: 'sendgrid', state: 'open' },
      { provider: 'ses', state: 'closed' },
    ]);
    const latencyCounts = (await values(metrics, 'mailroute_provider_latency_seconds')).filter((entry) => entry.labels.le === '+Inf');
    expect(latencyCounts.map((entry) => [entry.labels.provider, entry.value])).toEqual([
      ['sendgrid', 2],
      ['ses', 3],
    ]);
    expect(await values(metrics, 'mailroute_database_up')).toEqual([{ labels: {}, value: 1 }]);
  });

  it('a failure of the last provider is no failover: it counts as a round that sent nothing, by the provider that ended it', async () => {
    const failing = createRouter({
      providers: [
        { provider: createScriptedProvider('sendgrid', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' }, 'sendgrid') },
        { provider: createScriptedProvider('smtp', { kind: 'fail', code: 'PROVIDER_UNREACHABLE' }, 'smtp') },
      ],
      breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 },
    });
    routers.push(failing);
    const metrics = createServiceMetrics({ store, liveRouter: () => failing, staleAfterMs: 20_000 });
    metrics.observeRouter(failing);
    // Rounds 1-2 call both (both breakers open after them); round 3 calls nobody.
    for (let index = 0; index < 3; index += 1) expect((await failing.send(sampleMessage())).status).toBe('retry');
    await metrics.render();
    expect(await values(metrics, 'mailroute_failovers_total')).toEqual([{ labels: { from: 'sendgrid' }, value: 2 }]);
    expect(await values(metrics, 'mailroute_unsent_rounds_total')).toEqual([
      { labels: { last_failed: 'smtp' }, value: 2 },
      { labels: { last_failed: 'none' }, value: 1 },
    ]);
    expect(await values(metrics, 'mailroute_backup_sends_total')).toEqual([]);
  });

  it('reads alerts firing, live processes and their open breakers from the database at each scrape', async () => {
    const metrics = createServiceMetrics({ store, staleAfterMs: 20_000 });
    const fired = await store.raiseAlert({ kind: 'breaker_open', subject: 'sendgrid', summary: 'open for 5 min', detail: {} });
    await store.raiseAlert({ kind: 'breaker_open', subject: 'ses', summary: 'open for 5 min', detail: {} });
    await store.raiseAlert({ kind: 'late_delivery', subject: '*', summary: 'oldest 12 min', detail: {} });
    const breaker = (state: 'open' | 'half_open' | 'closed') => ({
      type: 'sendgrid',
      state,
      since: Date.now(),
      enabled: true,
      fires: 0,
      successes: 0,
      failures: 0,
      rejects: 0,
      latencyMeanMs: 0,
    });
    await store.recordHeartbeat({
      id: 'a',
      role: 'worker',
      host: 'h',
      pid: 1,
      startedAt: Date.now(),
      breakers: { sendgrid: breaker('open') },
    });
    await store.recordHeartbeat({
      id: 'b',
      role: 'all',
      host: 'h',
      pid: 2,
      startedAt: Date.now(),
      breakers: { sendgrid: breaker('closed') },
    });
    await store.recordHeartbeat({
      id: 'c',
      role: 'worker',
      host: 'h',
      pid: 3,
      startedAt: Date.now(),
      breakers: { sendgrid: breaker('half_open') },
    });
    await metrics.render();
    expect(await values(metrics, 'mailroute_alerts_firing')).toEqual([
      { labels: { kind: 'late_delivery' }, value: 1 },
      { labels: { kind: 'breaker_open' }, value: 2 },
      { labels: { kind: 'dead_messages' }, value: 0 },
      { labels: { kind: 'all_providers_failing' }, value: 0 },
    ]);
    expect(await values(metrics, 'mailroute_processes')).toEqual([
      { labels: { role: 'all' }, value: 1 },
      { labels: { role: 'worker' }, value: 2 },
    ]);
    // Half-open is not closed: it counts as open, and is also shown apart.
    expect(await values(metrics, 'mailroute_breakers_open')).toEqual([{ labels: { provider: 'sendgrid' }, value: 2 }]);
    expect(await values(metrics, 'mailroute_breakers_half_open')).toEqual([{ labels: { provider: 'sendgrid' }, value: 1 }]);

    await store.resolveAlert(fired.alert.id);
    await metrics.render();
    expect((await values(metrics, 'mailroute_alerts_firing')).find((entry) => entry.labels.kind === 'breaker_open')?.value).toBe(1);
  });

  it('a scrape still answers when the database cannot be read, and says so', async () => {
    const errors: unknown[] = [];
    const broken: MailStore = { ...store, countByStatus: () => Promise.reject(new Error('connection refused')) };
    const metrics = createServiceMetrics({ store: broken, staleAfterMs: 20_000, onError: (error) => errors.push(error) });
    const { body } = await metrics.render();
    expect(body).toMatch(/^mailroute_database_up 0$/m);
    expect(body).not.toMatch(/^mailroute_messages\{/m);
    expect(body).toMatch(/^process_cpu_user_seconds_total /m);
    expect(errors).toEqual([new Error('connection refused')]);
  });

  it('a worker-only process leaves the database figures to the API processes', async () => {
    let reads = 0;
    const counted: MailStore = {
      ...store,
      countByStatus: (scope) => {
        reads += 1;
        return store.countByStatus(scope);
      },
    };
    const live = router();
    const metrics = createServiceMetrics({ store: counted, liveRouter: () => live, staleAfterMs: 20_000, databaseMetrics: false });
    const { body } = await metrics.render();
    expect(reads).toBe(0);
    expect(body).not.toContain('mailroute_messages');
    expect(body).not.toContain('mailroute_database_up');
    expect(body).toMatch(/^mailroute_breaker_state\{provider="ses",state="closed"\} 1$/m);
  });

  it('is served without an API key on the API port, or on a listener of its own', async () => {
    const metrics = createServiceMetrics({ store, staleAfterMs: 20_000 });
    const { server } = configSchema.parse({});
    const common = {
      settings: server,
      logger: pino({ level: 'silent' }),
      api: { store, providerNames: () => [] },
      readiness: async () => ({ ready: true as const }),
      role: 'api',
    };
    const withMetrics = await createHttpApp({ ...common, metrics });
    const without = await createHttpApp(common);
    try {
      const scraped = await withMetrics.inject('/metrics');
      expect(scraped.statusCode).toBe(200);
      expect(scraped.body).toMatch(/^mailroute_queue_depth 0$/m);
      expect((await without.inject('/metrics')).statusCode).toBe(404);
    } finally {
      await withMetrics.close();
      await without.close();
    }

    const listener = await startMetricsServer(metrics, '127.0.0.1', 0);
    try {
      const response = await fetch(`${listener.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await response.text()).toMatch(/^mailroute_processes\{role="worker"\} 0$/m);
      expect((await fetch(`${listener.url}/trpc/stats.overview`)).status).toBe(404);
    } finally {
      await listener.close();
    }
  });
});
