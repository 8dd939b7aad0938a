import { afterAll, beforeAll, expect, test } from 'vitest';
import { apiClient, failure } from './test/client.js';
import { startTestApi, type TestApi } from './test/server.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

test('alerts.list: the incident history with its notices, filtered and paged, for operators', async () => {
  const { store } = api;
  const late = await store.raiseAlert({
    kind: 'late_delivery',
    subject: '*',
    summary: 'oldest waited 11 min',
    detail: { waitedMs: 660_000 },
  });
  await store.recordAlertNotification({ alertId: late.alert.id, kind: 'firing', channel: 'slack', ok: false, error: 'HTTP 500' });
  await store.recordAlertNotification({ alertId: late.alert.id, kind: 'firing', channel: 'slack', ok: true });
  await store.resolveAlert(late.alert.id);
  const breaker = await store.raiseAlert({ kind: 'breaker_open', subject: 'sendgrid', summary: 'sendgrid open', detail: {} });

  const reader = apiClient(api.url, api.keys.operator.key);
  const all = await reader.alerts.list.query();
  expect(all.items.map((alert) => [alert.kind, alert.subject, alert.state])).toEqual([
    ['breaker_open', 'sendgrid', 'firing'],
    ['late_delivery', '*', 'resolved'],
  ]);
  expect(all.items[1]).toMatchObject({ summary: 'oldest waited 11 min', detail: { waitedMs: 660_000 }, notifyCount: 1 });
  expect(all.items[1]?.notifications.map((notice) => [notice.channel, notice.ok, notice.error ?? null])).toEqual([
    ['slack', false, 'HTTP 500'],
    ['slack', true, null],
  ]);

  expect((await reader.alerts.list.query({ state: 'firing' })).items.map((alert) => alert.id)).toEqual([breaker.alert.id]);
  expect((await reader.alerts.list.query({ kind: 'late_delivery' })).items.map((alert) => alert.id)).toEqual([late.alert.id]);
  expect((await reader.alerts.list.query({ subject: 'sendgrid' })).items.map((alert) => alert.id)).toEqual([breaker.alert.id]);
  expect((await reader.alerts.list.query({ since: new Date(Date.now() + 60_000).toISOString() })).items).toEqual([]);

  const first = await reader.alerts.list.query({ limit: 1 });
  expect(first.items.map((alert) => alert.id)).toEqual([breaker.alert.id]);
  const second = await reader.alerts.list.query({ limit: 1, cursor: first.nextCursor ?? '' });
  expect(second.items.map((alert) => alert.id)).toEqual([late.alert.id]);
  expect(second.nextCursor).toBeUndefined();
});

test('alerts.list refuses tenant keys (alerts describe the whole service) and bad filters', async () => {
  for (const key of [api.keys.hotelSend, api.keys.hotelRead, api.keys.hotelAdmin]) {
    const refused = await failure(apiClient(api.url, key.key).alerts.list.query());
    expect(refused).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 });
    expect(refused.message).toContain('lacks the operator scope');
  }
  expect(await failure(apiClient(api.url, undefined).alerts.list.query())).toMatchObject({ code: 'UNAUTHENTICATED' });
  const reader = apiClient(api.url, api.keys.operator.key);
  const bad = await failure(reader.alerts.list.query({ kind: 'weather' as never }));
  expect(bad).toMatchObject({ code: 'INVALID_INPUT', httpStatus: 400 });
  expect(bad.issues.map((issue) => issue.path)).toEqual(['kind']);
  expect(await failure(reader.alerts.list.query({ limit: 1_000 }))).toMatchObject({ code: 'INVALID_INPUT' });
});
