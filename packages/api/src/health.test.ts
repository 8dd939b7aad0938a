import type { ProcessBreaker } from '@mailroute/store';
import { afterEach, expect, test } from 'vitest';
import { apiClient } from './test/client.js';
import { mail, work } from './test/fixtures.js';
import { startTestApi, type TestApi } from './test/server.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

function breaker(type: string, overrides: Partial<ProcessBreaker> = {}): ProcessBreaker {
  return {
    type,
    state: 'closed',
    since: Date.now() - 60_000,
    enabled: true,
    fires: 3,
    successes: 3,
    failures: 0,
    rejects: 0,
    latencyMeanMs: 12,
    ...overrides,
  };
}

test('providers.health and stats.overview aggregate every live process: its breakers, the windows and the worst provider', async () => {
  api = await startTestApi({ providerNames: () => ['sendgrid', 'ses'], processStaleAfterMs: 10_000 });
  const { store } = api;
  const read = apiClient(api.url, api.keys.operator.key);
  const openedAt = Date.now() - 5_000;
  await store.recordHeartbeat({
    id: 'host-a:101:aaaa',
    role: 'worker',
    host: 'host-a',
    pid: 101,
    startedAt: Date.now() - 120_000,
    breakers: {
      sendgrid: breaker('sendgrid', { state: 'open', since: openedAt, halfOpenAt: openedAt + 30_000, failures: 9 }),
      ses: breaker('ses'),
    },
  });
  await store.recordHeartbeat({
    id: 'host-b:202:bbbb',
    role: 'all',
    host: 'host-b',
    pid: 202,
    startedAt: Date.now() - 60_000,
    breakers: { sendgrid: breaker('sendgrid'), ses: breaker('ses') },
  });
  const send = apiClient(api.url, api.keys.hotelSend.key);
  const sends = await Promise.all([1, 2, 3].map(() => send.mail.send.mutate(mail())));
  await work(store, { [sends[0]?.id ?? '']: 'sent', [sends[1]?.id ?? '']: 'sent', [sends[2]?.id ?? '']: 'failed' });

  const health = await read.providers.health.query();
  expect(health.view).toBe('operator');
  expect(health.processes.map((process) => [process.id, process.role, process.host, process.pid])).toEqual([
    ['host-a:101:aaaa', 'worker', 'host-a', 101],
    ['host-b:202:bbbb', 'all', 'host-b', 202],
  ]);
  const [sendgrid, ses] = health.providers;
  // An api-only view: no router here, yet the type and breakers come from the heartbeats.
  expect(sendgrid).toMatchObject({ name: 'sendgrid', type: 'sendgrid', openIn: 1 });
  expect(sendgrid?.breaker).toBeUndefined();
  expect(sendgrid?.breakers.map((entry) => [entry.process, entry.state, entry.since])).toEqual([
    ['host-a:101:aaaa', 'open', openedAt],
    ['host-b:202:bbbb', 'closed', expect.any(Number)],
  ]);
  expect(sendgrid?.breakers[0]).toMatchObject({ host: 'host-a', halfOpenAt: openedAt + 30_000, failures: 9 });
  expect(sendgrid?.windows['1m']).toMatchObject({
    windowMs: 60_000,
    attempts: 3,
    accepted: 0,
    successRate: 0,
    failedByCategory: { provider: 3 },
  });
  expect(sendgrid?.windows['1h']).toMatchObject({ attempts: 3, latencyP50Ms: 12, latencyP99Ms: 12 });
  expect(sendgrid?.lastError).toMatchObject({ errorCode: 'PROVIDER_UNAVAILABLE', statusCode: 503 });
  expect(sendgrid?.lastSuccessAt).toBeUndefined();
  expect(ses).toMatchObject({ openIn: 0, windows: { '15m': { attempts: 2, accepted: 2, successRate: 1 } } });
  expect(ses?.sinceLastSuccessMs).toBeGreaterThanOrEqual(0);
  expect(ses?.lastSuccessAt).toBeLessThanOrEqual(health.at);

  // A tenant's key: the same counts, no processes (hosts, pids) and no per-process breakers.
  const tenant = await apiClient(api.url, api.keys.hotelRead.key).providers.health.query();
  expect(tenant.view).toBe('tenant');
  expect(tenant.processes).toEqual([]);
  expect(tenant.providers.map((provider) => [provider.name, provider.openIn, provider.liveIn, provider.breakers])).toEqual([
    ['sendgrid', 1, 2, []],
    ['ses', 0, 2, []],
  ]);
  expect(JSON.stringify(tenant)).not.toMatch(/host-a|host-b/);

  const overview = await apiClient(api.url, api.keys.hotelRead.key).stats.overview.query();
  expect(overview.providers).toEqual({
    processes: 2,
    openBreakers: [{ provider: 'sendgrid', openIn: 1, since: openedAt }],
    worstProvider: { provider: 'sendgrid', successRate: 0, attempts: 3, windowMs: 15 * 60_000 },
  });
});

test('a process whose heartbeat is older than the stale limit drops out of the views', async () => {
  api = await startTestApi({ providerNames: () => ['sendgrid'], processStaleAfterMs: 1_000 });
  const read = apiClient(api.url, api.keys.operator.key);
  await api.store.recordHeartbeat({
    id: 'gone',
    role: 'worker',
    host: 'host-c',
    pid: 303,
    startedAt: Date.now() - 60_000,
    breakers: { sendgrid: breaker('sendgrid', { state: 'open' }) },
  });
  expect((await read.providers.health.query()).providers[0]?.openIn).toBe(1);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const health = await read.providers.health.query();
  expect(health.processes).toEqual([]);
  expect(health.providers[0]).toMatchObject({ openIn: 0, breakers: [] });
  expect((await read.stats.overview.query()).providers).toEqual({ processes: 0, openBreakers: [] });
});
