import { mailError } from '@mailroute/core';
import { expect, test } from 'vitest';
import type { AlertCondition } from './alerts.js';
import { forEachDatabase } from './test/databases.js';
import { content, manualClock } from './test/fixtures.js';

const late = (summary = 'mail is late'): AlertCondition => ({ kind: 'late_delivery', subject: '*', summary, detail: { ageMs: 700_000 } });
const breaker = (subject: string): AlertCondition => ({ kind: 'breaker_open', subject, summary: `${subject} open`, detail: {} });

forEachDatabase('alerts', (database) => {
  async function setup() {
    const clock = manualClock();
    const store = await database.open({ now: clock.now, listen: false });
    return { clock, store };
  }

  test('raising a condition opens one incident; raising it again updates that incident', async () => {
    const { clock, store } = await setup();
    const first = await store.raiseAlert(late('oldest waited 11 min'));
    expect(first.opened).toBe(true);
    expect(first.alert).toMatchObject({ kind: 'late_delivery', subject: '*', state: 'firing', notifyCount: 0, startedAt: clock.now() });
    expect(first.alert.lastNotifiedAt).toBeUndefined();

    clock.advance(30_000);
    const again = await store.raiseAlert({ ...late('oldest waited 12 min'), detail: { ageMs: 730_000 } });
    expect(again.opened).toBe(false);
    expect(again.alert).toMatchObject({ id: first.alert.id, summary: 'oldest waited 12 min', detail: { ageMs: 730_000 } });
    expect(again.alert.startedAt).toBe(first.alert.startedAt);

    // Another subject of the same kind is another incident.
    expect((await store.raiseAlert(breaker('sendgrid'))).opened).toBe(true);
    expect((await store.raiseAlert(breaker('ses'))).opened).toBe(true);
    expect((await store.firingAlerts()).map((alert) => [alert.kind, alert.subject])).toEqual([
      ['late_delivery', '*'],
      ['breaker_open', 'sendgrid'],
      ['breaker_open', 'ses'],
    ]);
  });

  // Stores in one process on one SQLite file block each other's synchronous connection; SQLite
  // has one writer at a time anyway. PostgreSQL is where concurrent transactions can interleave.
  test.runIf(database.dialect === 'postgres')('processes raising the same condition at once still open only one incident', async () => {
    const clock = manualClock();
    const stores = await Promise.all(Array.from({ length: 5 }, () => database.open({ now: clock.now, listen: false })));
    const results = await Promise.all(stores.map((store) => store.raiseAlert(late())));
    expect(results.filter((result) => result.opened)).toHaveLength(1);
    expect(new Set(results.map((result) => result.alert.id)).size).toBe(1);
    expect(await database.query("SELECT id FROM alert WHERE state = 'firing'")).toHaveLength(1);
  });

  test('resolve closes a firing incident once; the condition coming back opens a new incident', async () => {
    const { clock, store } = await setup();
    const { alert } = await store.raiseAlert(late());
    clock.advance(60_000);
    const resolved = await store.resolveAlert(alert.id);
    expect(resolved).toMatchObject({ id: alert.id, state: 'resolved', resolvedAt: clock.now() });
    expect(await store.resolveAlert(alert.id)).toBeUndefined();
    expect(await store.firingAlerts()).toEqual([]);

    clock.advance(1_000);
    const next = await store.raiseAlert(late());
    expect(next.opened).toBe(true);
    expect(next.alert.id).not.toBe(alert.id);
  });

  test('an incident starts when its condition began, never later than now; raising again keeps that start', async () => {
    const { clock, store } = await setup();
    const began = clock.now() - 6 * 60_000;
    const first = await store.raiseAlert({ ...breaker('sendgrid'), startedAt: began });
    expect(first.alert.startedAt).toBe(began);
    clock.advance(30_000);
    expect((await store.raiseAlert({ ...breaker('sendgrid'), startedAt: clock.now() })).alert.startedAt).toBe(began);
    expect((await store.raiseAlert({ ...breaker('ses'), startedAt: clock.now() + 60_000 })).alert.startedAt).toBe(clock.now());
  });

  test('notifications are recorded per channel; the ones a channel took count on the incident', async () => {
    const { clock, store } = await setup();
    const { alert } = await store.raiseAlert(late());
    clock.advance(10);
    await store.recordAlertNotification({ alertId: alert.id, kind: 'firing', channel: 'slack', ok: true });
    clock.advance(10);
    const failed = await store.recordAlertNotification({
      alertId: alert.id,
      kind: 'firing',
      channel: 'webhook',
      ok: false,
      error: 'HTTP 500: down',
    });
    expect(failed).toMatchObject({ ok: false, error: 'HTTP 500: down', channel: 'webhook', sentAt: clock.now() });
    const [firing] = await store.firingAlerts();
    expect(firing).toMatchObject({ notifyCount: 1, lastNotifiedAt: clock.now() - 10 });

    const delivered = await store.deliveredNotifications([alert.id]);
    expect(delivered.map((notice) => [notice.kind, notice.channel, notice.ok])).toEqual([['firing', 'slack', true]]);
    expect(await store.deliveredNotifications([])).toEqual([]);
  });

  test('awaiting notice: firing incidents, and resolved ones that were announced and resolved recently', async () => {
    const { clock, store } = await setup();
    const announced = (await store.raiseAlert(breaker('sendgrid'))).alert;
    const silent = (await store.raiseAlert(breaker('ses'))).alert;
    const firing = (await store.raiseAlert(late())).alert;
    await store.recordAlertNotification({ alertId: announced.id, kind: 'firing', channel: 'slack', ok: true });
    await store.recordAlertNotification({ alertId: silent.id, kind: 'firing', channel: 'slack', ok: false, error: 'timeout' });
    clock.advance(1_000);
    await store.resolveAlert(announced.id);
    await store.resolveAlert(silent.id);
    const since = clock.now() - 500;
    expect((await store.alertsAwaitingNotice(since)).map((alert) => alert.id).sort()).toEqual([announced.id, firing.id].sort());
    expect((await store.alertsAwaitingNotice(clock.now() + 1)).map((alert) => alert.id)).toEqual([firing.id]);
  });

  test('history: newest first, filtered, paged, with each incident’s notices', async () => {
    const { clock, store } = await setup();
    const ids: string[] = [];
    for (const subject of ['a', 'b', 'c', 'd', 'e']) {
      const { alert } = await store.raiseAlert(breaker(subject));
      ids.push(alert.id);
      await store.recordAlertNotification({ alertId: alert.id, kind: 'firing', channel: 'slack', ok: true });
      clock.advance(1_000);
    }
    await store.resolveAlert(ids[1] ?? '');
    const lateOne = (await store.raiseAlert(late())).alert;

    const first = await store.listAlerts({ limit: 4 });
    expect(first.items.map((alert) => alert.id)).toEqual([lateOne.id, ...ids.slice(2).reverse()]);
    expect(first.nextCursor).toBeDefined();
    const second = await store.listAlerts({ limit: 4, ...(first.nextCursor ? { cursor: first.nextCursor } : {}) });
    expect(second.items.map((alert) => alert.id)).toEqual([ids[1], ids[0]]);
    expect(second.nextCursor).toBeUndefined();
    expect(second.items[1]?.notifications.map((notice) => [notice.kind, notice.channel])).toEqual([['firing', 'slack']]);

    expect((await store.listAlerts({ state: 'resolved' })).items.map((alert) => alert.id)).toEqual([ids[1]]);
    expect((await store.listAlerts({ kind: 'late_delivery' })).items.map((alert) => alert.id)).toEqual([lateOne.id]);
    expect((await store.listAlerts({ subject: 'c' })).items.map((alert) => alert.id)).toEqual([ids[2]]);
    const start = manualClock().now();
    expect((await store.listAlerts({ since: start + 2_000, until: start + 4_000 })).items.map((alert) => alert.id)).toEqual([
      ids[3],
      ids[2],
    ]);
    await expect(store.listAlerts({ limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.listAlerts({ kind: 'nonsense' as never })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  test('dead messages since a time: counted by last error, the first and latest time, none of their ids', async () => {
    const { clock, store } = await setup();
    const old = await store.enqueue(content());
    await store.claim('worker', 10, 30_000);
    await store.complete('worker', [
      { kind: 'dead', id: old.id, reason: 'max_age', error: mailError('NO_PROVIDER', 'all failed'), attempts: [] },
    ]);
    clock.advance(60_000);
    const since = clock.now();
    const a = await store.enqueue(content());
    const b = await store.enqueue(content());
    const c = await store.enqueue(content());
    await store.claim('worker', 10, 30_000);
    clock.advance(1_000);
    await store.complete('worker', [
      { kind: 'dead', id: a.id, reason: 'max_attempts', error: mailError('NO_PROVIDER', 'all failed'), attempts: [] },
      { kind: 'dead', id: b.id, reason: 'max_attempts', error: mailError('PROVIDER_UNAVAILABLE', 'down'), attempts: [] },
      { kind: 'failed', id: c.id, error: mailError('INVALID_RECIPIENT', 'no such user'), attempts: [] },
    ]);
    expect(await store.deadMessagesSince(since)).toEqual({
      count: 2,
      earliestAt: clock.now(),
      latestAt: clock.now(),
      byError: { NO_PROVIDER: 1, PROVIDER_UNAVAILABLE: 1 },
    });
    await store.requeue({ ids: [a.id] });
    expect((await store.deadMessagesSince(since)).count).toBe(1);
    expect(await store.deadMessagesSince(clock.now() + 1)).toEqual({ count: 0, byError: {} });
  });
});
