import { expect, test } from 'vitest';
import { forEachDatabase } from './test/databases.js';
import { acceptedAttempt, content, manualClock } from './test/fixtures.js';

const LEASE = 30_000;

/** A worker that died mid-send leaves a trace: lease recovery records the attempt nobody saw end. */
forEachDatabase('lease recovery', (database) => {
  async function setup() {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    return { clock, store };
  }

  test('a recovered lease writes an attempt with outcome unknown, by the worker that held it, from claim to lease end', async () => {
    const { clock, store } = await setup();
    const first = await store.enqueue(content());
    const second = await store.enqueue(content());
    clock.advance(5);
    const claimedAt = clock.now();
    expect(await store.claim('worker-7', 10, LEASE)).toHaveLength(2);
    clock.advance(LEASE + 1);
    expect(await store.recoverExpiredLeases()).toBe(2);
    for (const id of [first.id, second.id]) {
      const detail = await store.getMessage(id);
      expect(detail?.status).toBe('queued');
      expect(detail?.attempts).toEqual([
        {
          id: expect.any(String),
          messageId: id,
          worker: 'worker-7',
          startedAt: claimedAt,
          finishedAt: claimedAt + LEASE,
          latencyMs: 0,
          outcome: 'unknown',
          errorMessage: `worker-7 stopped while it held the message (its lease expired at ${new Date(claimedAt + LEASE).toISOString()}): the provider may have accepted it, so the next send may deliver it twice`,
        },
      ]);
    }
    // Sent again afterwards: both attempts are in the record, and the provider's health ignores the unknown one.
    await store.claim('worker-8', 10, LEASE);
    clock.advance(10);
    await store.complete('worker-8', [
      {
        kind: 'sent',
        id: first.id,
        provider: 'sendgrid',
        providerMessageId: 'pm-1',
        attempts: [acceptedAttempt(first.id, clock.now() - 5)],
      },
    ]);
    expect((await store.getMessage(first.id))?.attempts.map((attempt) => [attempt.outcome, attempt.worker])).toEqual([
      ['unknown', 'worker-7'],
      ['accepted', 'worker-8'],
    ]);
    const activity = await store.providerActivity(0);
    expect(activity.map((entry) => [entry.provider, entry.attempts, entry.accepted])).toEqual([['sendgrid', 1, 1]]);
    const page = await store.exportMessages();
    expect(Object.fromEntries(page.rows.map((row) => [row.id, [row.possibleDuplicate, row.attempts]]))).toEqual({
      [first.id]: [true, 2],
      [second.id]: [true, 1],
    });
  });

  test('a message claimed more than once: the unknown attempt starts at the latest claim', async () => {
    const { clock, store } = await setup();
    const { id } = await store.enqueue(content());
    await store.claim('worker-1', 10, LEASE);
    await store.release('worker-1', [id]);
    clock.advance(1_000);
    const latestClaim = clock.now();
    await store.claim('worker-2', 10, LEASE);
    clock.advance(LEASE + 1);
    await store.recoverExpiredLeases();
    const [attempt] = (await store.getMessage(id))?.attempts ?? [];
    expect(attempt).toMatchObject({ outcome: 'unknown', worker: 'worker-2', startedAt: latestClaim });
  });

  test('mail given back unsent (graceful stop) and mail still leased leave no such attempt', async () => {
    const { clock, store } = await setup();
    const released = await store.enqueue(content());
    const held = await store.enqueue(content());
    await store.claim('worker-1', 1, LEASE);
    await store.release('worker-1', [released.id]);
    await store.claim('worker-2', 10, LEASE);
    clock.advance(LEASE - 1);
    expect(await store.recoverExpiredLeases()).toBe(0);
    expect((await store.getMessage(released.id))?.attempts).toEqual([]);
    expect((await store.getMessage(held.id))?.attempts).toEqual([]);
    expect((await store.exportMessages()).rows.every((row) => !row.possibleDuplicate)).toBe(true);
  });
});
