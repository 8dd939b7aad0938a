import type { ProcessBreaker } from '@mailroute/store';
import { afterEach, expect, test } from 'vitest';
import { apiClient, failure } from './test/client.js';
import { mail, work } from './test/fixtures.js';
import { startTestApi, type TestApi } from './test/server.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

function breaker(state: ProcessBreaker['state'], since: number): ProcessBreaker {
  return { type: 'sendgrid', state, since, enabled: true, fires: 1, successes: 0, failures: 1, rejects: 0, latencyMeanMs: 5 };
}

test('stats.series: attempts by outcome, failovers, breaker changes and operator actions per provider in 1-minute buckets', async () => {
  api = await startTestApi();
  const admin = apiClient(api.url, api.keys.hotelAdmin.key);
  const sent = await admin.mail.send.mutate(mail());
  const failed = await admin.mail.send.mutate(mail());
  await work(api.store, { [sent.id]: 'sent', [failed.id]: 'failed' });
  const now = Date.now();
  const beat = (state: ProcessBreaker['state'], since: number) =>
    api?.store.recordHeartbeat({
      id: 'w1',
      role: 'worker',
      host: 'h',
      pid: 1,
      startedAt: now - 60_000,
      breakers: { sendgrid: breaker(state, since) },
    });
  await beat('closed', now - 60_000);
  await beat('open', now);
  const operator = apiClient(api.url, api.keys.operator.key);
  await operator.providers.setState.mutate({ provider: 'sendgrid', state: 'drained', note: 'outage' });

  const series = await operator.stats.series.query({ range: '1h' });
  expect(series.bucketMs).toBe(60_000);
  expect(series.buckets).toHaveLength(60);
  expect((series.buckets[1] ?? 0) - (series.buckets[0] ?? 0)).toBe(60_000);
  expect((series.buckets.at(-1) ?? 0) % 60_000).toBe(0);
  expect(series.providers.map((entry) => entry.provider)).toEqual(['sendgrid', 'ses', 'smtp']);
  const total = (values: number[]) => values.reduce((sum, value) => sum + value, 0);
  const [sendgrid, ses, smtp] = series.providers;
  expect(total(sendgrid?.failed ?? [])).toBe(2);
  expect(total(sendgrid?.failedByCategory.provider ?? [])).toBe(2);
  expect(total(sendgrid?.accepted ?? [])).toBe(0);
  expect(total(ses?.accepted ?? [])).toBe(1);
  expect(total(ses?.failovers ?? [])).toBe(1);
  expect(total(sendgrid?.breakerTransitions ?? [])).toBe(1);
  expect(total(sendgrid?.operatorActions ?? [])).toBe(1);
  expect(total(smtp?.accepted ?? [])).toBe(0);
  // Everything happened just now: in the last bucket (or the one before, if the minute turned meanwhile).
  expect((ses?.accepted.at(-1) ?? 0) + (ses?.accepted.at(-2) ?? 0)).toBe(1);
  expect(series.breakerEvents).toEqual([{ process: 'w1', provider: 'sendgrid', from: 'closed', to: 'open', at: now }]);
  expect(series.operatorActions).toMatchObject([{ provider: 'sendgrid', note: 'outage', after: { state: 'drained' } }]);

  const day = await admin.stats.series.query({ range: '24h', provider: 'ses' });
  expect(day.bucketMs).toBe(600_000);
  expect(day.buckets).toHaveLength(144);
  expect(day.providers.map((entry) => entry.provider)).toEqual(['ses']);
  expect(total(day.providers[0]?.failovers ?? [])).toBe(1);

  const reader = await apiClient(api.url, api.keys.hotelRead.key).stats.series.query({ range: '1h' });
  expect(reader).not.toHaveProperty('operatorActions');
  expect(total(reader.providers[0]?.operatorActions ?? [])).toBe(1);
  expect(await failure(admin.stats.series.query({ range: '7d' as '1h' }))).toMatchObject({ code: 'INVALID_INPUT' });
});
