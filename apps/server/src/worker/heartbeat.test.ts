import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRouter, type Router } from '@mailroute/core';
import { createScriptedProvider, sampleMessage } from '@mailroute/core/testing';
import { createStore, type MailStore } from '@mailroute/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHeartbeat } from './heartbeat.js';

let dir: string;
let url: string;
let store: MailStore;
const routers: Router[] = [];
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailroute-heartbeat-'));
  url = `file:${join(dir, 'db.sqlite')}`;
  store = await createStore({ url });
});
afterEach(async () => {
  await Promise.all(routers.splice(0).map((router) => router.close()));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function router(): Router {
  const created = createRouter({
    providers: [
      { provider: createScriptedProvider('sendgrid', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' }, 'sendgrid') },
      { provider: createScriptedProvider('ses', { kind: 'accept' }, 'ses') },
    ],
    breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 },
  });
  routers.push(created);
  return created;
}

async function breakerIn(id: string, provider: string) {
  const [row] = (await store.listHeartbeats()).filter((beat) => beat.id === id);
  return row?.breakers[provider];
}

describe('process heartbeat', () => {
  it('reports at once when tracking starts and when a breaker opens, long before the interval', async () => {
    const errors: unknown[] = [];
    const heartbeat = startHeartbeat({
      store,
      id: 'w1',
      role: 'worker',
      intervalMs: 60_000,
      pruneAfterMs: 600_000,
      onError: (error) => errors.push(error),
    });
    const live = router();
    heartbeat.track(live);
    await expect
      .poll(() => breakerIn('w1', 'sendgrid'), { timeout: 1_000 })
      .toMatchObject({ type: 'sendgrid', state: 'closed', enabled: true });

    let openedAt = 0;
    live.on('breaker', (event) => {
      if (event.state === 'open') openedAt = event.at;
    });
    // Real sends through the router: sendgrid answers 503 until its breaker opens.
    for (let index = 0; index < 3 && openedAt === 0; index += 1) await live.send(sampleMessage());
    expect(openedAt).toBeGreaterThan(0);
    await expect
      .poll(() => breakerIn('w1', 'sendgrid'), { timeout: 1_000, interval: 20 })
      .toMatchObject({
        state: 'open',
        since: openedAt,
        halfOpenAt: openedAt + 60_000,
        failures: expect.any(Number),
      });
    const [row] = await store.listHeartbeats();
    expect((row?.seenAt ?? 0) - openedAt).toBeLessThan(1_000);
    expect(row).toMatchObject({ id: 'w1', role: 'worker', pid: process.pid });
    expect(row?.breakers.ses).toMatchObject({ state: 'closed', successes: expect.any(Number) });

    // A reload's router starts closed; the old router's changes no longer count.
    const next = router();
    heartbeat.track(next);
    await expect.poll(() => breakerIn('w1', 'sendgrid'), { timeout: 1_000 }).toMatchObject({ state: 'closed', fires: 0 });
    live.setBreaker('ses', 'open');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await breakerIn('w1', 'ses')).toMatchObject({ state: 'closed' });
    next.setBreaker('ses', 'open');
    await expect.poll(() => breakerIn('w1', 'ses'), { timeout: 1_000 }).toMatchObject({ state: 'open' });

    await heartbeat.stop();
    expect(await store.listHeartbeats()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('a failed probe reopens the breaker: since moves, notClosedSince stays at the first opening', async () => {
    const flapping = createRouter({
      providers: [
        { provider: createScriptedProvider('sendgrid', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' }, 'sendgrid') },
        { provider: createScriptedProvider('ses', { kind: 'accept' }, 'ses') },
      ],
      breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 300 },
    });
    routers.push(flapping);
    const heartbeat = startHeartbeat({ store, id: 'w4', role: 'worker', intervalMs: 60_000, pruneAfterMs: 600_000, onError: () => {} });
    heartbeat.track(flapping);
    const changes: { state: string; at: number }[] = [];
    flapping.on('breaker', (event) => changes.push(event));
    while (!changes.some((change) => change.state === 'open')) await flapping.send(sampleMessage());
    const firstOpen = changes.find((change) => change.state === 'open')?.at ?? 0;
    await expect.poll(() => changes.some((change) => change.state === 'half_open'), { timeout: 2_000 }).toBe(true);
    // The probe fails: open again.
    await flapping.send(sampleMessage());
    const reopened = changes.filter((change) => change.state === 'open').at(-1)?.at ?? 0;
    expect(reopened).toBeGreaterThan(firstOpen);
    await expect
      .poll(() => breakerIn('w4', 'sendgrid'), { timeout: 1_000 })
      .toMatchObject({
        state: 'open',
        since: reopened,
        notClosedSince: firstOpen,
      });
    flapping.setBreaker('sendgrid', 'closed');
    await expect.poll(() => breakerIn('w4', 'sendgrid'), { timeout: 1_000 }).toMatchObject({ state: 'closed' });
    expect((await breakerIn('w4', 'sendgrid'))?.notClosedSince).toBeUndefined();
    await heartbeat.stop();
  });

  it('beats every interval and deletes rows of processes long gone', async () => {
    const past = await createStore({ url, now: () => Date.now() - 3_600_000 });
    await past.recordHeartbeat({ id: 'gone', role: 'worker', host: 'old', pid: 1, startedAt: Date.now() - 7_200_000, breakers: {} });
    await past.close();
    const heartbeat = startHeartbeat({ store, id: 'w2', role: 'all', intervalMs: 100, pruneAfterMs: 60_000, onError: () => {} });
    heartbeat.track(router());
    await expect.poll(async () => (await store.listHeartbeats()).map((beat) => beat.id), { timeout: 2_000 }).toEqual(['w2']);
    const first = (await store.listHeartbeats())[0]?.seenAt ?? 0;
    await expect.poll(async () => (await store.listHeartbeats())[0]?.seenAt ?? 0, { timeout: 2_000 }).toBeGreaterThan(first);
    await heartbeat.stop();
  });

  it('a failed write is reported, not thrown, and the next beat writes again', async () => {
    const errors: unknown[] = [];
    let failures = 1;
    const flaky: MailStore = {
      ...store,
      recordHeartbeat: (beat) => (failures-- > 0 ? Promise.reject(new Error('database is locked')) : store.recordHeartbeat(beat)),
    };
    const heartbeat = startHeartbeat({
      store: flaky,
      id: 'w3',
      role: 'worker',
      intervalMs: 60_000,
      pruneAfterMs: 600_000,
      onError: (error) => errors.push(error),
    });
    // Tracking writes at once (it fails); this beat joins it and writes again.
    heartbeat.track(router());
    await heartbeat.beat();
    expect(errors).toEqual([new Error('database is locked')]);
    expect((await store.listHeartbeats()).map((beat) => beat.id)).toEqual(['w3']);
    await heartbeat.stop();
    expect(errors).toHaveLength(1);
  });
});
