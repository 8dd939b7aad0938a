import type { DeliveryEvent, DispatchOutcome } from '@mailroute/core';
import { expect, test } from 'vitest';
import { forEachDatabase } from './test/databases.js';
import { acceptedAttempt, content } from './test/fixtures.js';

const RUN_MS = 4_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MESSAGES = 200;

/** Reversed, then every other one swapped: an order as far from the id order as it gets. */
function scrambled<T>(items: readonly T[]): T[] {
  const out = [...items].reverse();
  for (let index = 0; index + 1 < out.length; index += 2) [out[index], out[index + 1]] = [out[index + 1] as T, out[index] as T];
  return out;
}

/**
 * The worker's completion and webhook ingestion write the same message rows. Both lock them in
 * one order, by message id, before writing anything that refers to them; in another order two
 * such transactions wait on each other and PostgreSQL kills one (40P01), which ingestion then
 * retries and the worker commits again, and under load some run out of retries.
 */
forEachDatabase('lock order between completion and webhook ingestion', (database) => {
  test('complete() and two ingestions on the same messages for some seconds: no deadlock, nothing lost', async () => {
    const worker = await database.open();
    // Two stores: two connections, as a worker process and an API process have (SQLite has one writer: one store).
    const webhooks = database.dialect === 'postgres' ? await database.open() : worker;
    const deadlocksBefore = await deadlocks();
    const failures: unknown[] = [];
    let rounds = 0;
    let eventCount = 0;
    const until = Date.now() + RUN_MS;
    while (Date.now() < until) {
      rounds += 1;
      const contents = Array.from({ length: MESSAGES }, () => content());
      const ids = (await worker.enqueueMany(contents)).map((result) => result.id);
      const addresses = new Map(ids.map((id, index) => [id, contents[index]?.to[0]?.email ?? '']));
      expect(await worker.claim('worker-1', MESSAGES, 60_000)).toHaveLength(MESSAGES);
      const now = Date.now();
      const outcomes: DispatchOutcome[] = scrambled(ids).map((id) => ({
        kind: 'sent',
        id,
        provider: 'sendgrid',
        providerMessageId: `pm-${id}`,
        attempts: [acceptedAttempt(id, now, 'sendgrid', `pm-${id}`)],
      }));
      const events = (type: 'delivered' | 'opened', order: readonly string[]): DeliveryEvent[] =>
        order.map((id) => {
          eventCount += 1;
          return {
            provider: 'sendgrid',
            providerType: 'sendgrid',
            providerEventId: `${type}-${eventCount}`,
            type,
            providerEventType: type,
            occurredAt: now,
            recipient: addresses.get(id) ?? '',
            mailrouteId: id,
            providerMessageId: `pm-${id}`,
            raw: {},
          };
        });
      // Started a little apart, so each phase of one meets each phase of the other over the rounds.
      const results = await Promise.allSettled([
        sleep(rounds % 7).then(() => worker.complete('worker-1', outcomes)),
        webhooks.ingestEvents(events('delivered', scrambled(ids))),
        webhooks.ingestEvents(events('opened', [...ids].reverse())),
      ]);
      for (const result of results) if (result.status === 'rejected') failures.push(result.reason);
    }
    expect(failures).toEqual([]);
    expect(rounds).toBeGreaterThanOrEqual(2);
    const counts = await worker.countByStatus();
    expect(counts.sending).toBe(0);
    expect(counts.delivered + counts.sent).toBe(rounds * MESSAGES);
    await worker.close();
    if (webhooks !== worker) await webhooks.close();
    // A deadlock ingestion retried away leaves no failure: PostgreSQL's own counter tells (flushed as the connections close).
    if (database.dialect === 'postgres') expect((await deadlocks()) - deadlocksBefore).toBe(0);
  }, 30_000);

  async function deadlocks(): Promise<number> {
    if (database.dialect !== 'postgres') return 0;
    const [row] = await database.query<{ deadlocks: string }>('SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()');
    return Number(row?.deadlocks ?? 0);
  }
});
