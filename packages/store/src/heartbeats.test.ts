import { expect, test } from 'vitest';
import type { HeartbeatInput, ProcessBreaker } from './heartbeats.js';
import { forEachDatabase } from './test/databases.js';
import { manualClock } from './test/fixtures.js';

function breaker(overrides: Partial<ProcessBreaker> = {}): ProcessBreaker {
  return {
    type: 'sendgrid',
    state: 'closed',
    since: Date.UTC(2030, 0, 1, 8),
    enabled: true,
    fires: 10,
    successes: 9,
    failures: 1,
    rejects: 0,
    latencyMeanMs: 42,
    ...overrides,
  };
}

function beat(id: string, startedAt: number, breakers: Record<string, ProcessBreaker>): HeartbeatInput {
  return { id, role: 'worker', host: 'mail-1', pid: 4242, startedAt, breakers };
}

forEachDatabase('process heartbeats', (database) => {
  test('a heartbeat is upserted with seenAt from the store clock and read back whole', async () => {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    const start = clock.now();
    await store.recordHeartbeat(beat('w1', start - 60_000, { sendgrid: breaker() }));
    clock.advance(5_000);
    const opened = breaker({
      state: 'open',
      since: start + 4_000,
      halfOpenAt: start + 34_000,
      notClosedSince: start - 26_000,
      failures: 7,
    });
    const written = await store.recordHeartbeat(beat('w1', start - 60_000, { sendgrid: opened, ses: breaker({ type: 'ses' }) }));
    expect(written.seenAt).toBe(start + 5_000);

    const listed = await store.listHeartbeats();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toEqual({
      id: 'w1',
      role: 'worker',
      host: 'mail-1',
      pid: 4242,
      startedAt: start - 60_000,
      seenAt: start + 5_000,
      breakers: { sendgrid: opened, ses: breaker({ type: 'ses' }) },
    });
  });

  test('since keeps only processes seen recently; prune and remove delete rows', async () => {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    const start = clock.now();
    await store.recordHeartbeat(beat('old', start - 1_000, {}));
    clock.advance(60_000);
    await store.recordHeartbeat(beat('b', start + 30_000, { sendgrid: breaker() }));
    await store.recordHeartbeat(beat('a', start + 20_000, { sendgrid: breaker() }));

    expect((await store.listHeartbeats()).map((row) => row.id)).toEqual(['old', 'a', 'b']);
    expect((await store.listHeartbeats({ since: start + 60_000 })).map((row) => row.id)).toEqual(['a', 'b']);

    expect(await store.pruneHeartbeats(start + 1)).toBe(1);
    expect(await store.pruneHeartbeats(start + 1)).toBe(0);
    expect(await store.removeHeartbeat('a')).toBe(true);
    expect(await store.removeHeartbeat('a')).toBe(false);
    expect((await store.listHeartbeats()).map((row) => row.id)).toEqual(['b']);
  });

  test('a breaker entry this version cannot read is left out, the others stay', async () => {
    const store = await database.open();
    const bad = { state: 'exploded' } as unknown as ProcessBreaker;
    await store.recordHeartbeat(beat('w', Date.now(), { sendgrid: breaker(), ses: bad }));
    const [row] = await store.listHeartbeats();
    expect(Object.keys(row?.breakers ?? {})).toEqual(['sendgrid']);
  });
});
