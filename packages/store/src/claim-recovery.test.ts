import { expect, test } from 'vitest';
import { forEachDatabase } from './test/databases.js';
import { content, manualClock } from './test/fixtures.js';

const LEASE = 30_000;

/** A worker that died holding mail: the next claim anywhere takes it once the lease is over, with no recovery tick needed. */
forEachDatabase('expired leases on the claim path', (database) => {
  test('a claim after the lease ran out takes the dead worker’s mail and records the call nobody saw end', async () => {
    const clock = manualClock();
    const store = await database.open({ now: clock.now, listen: false });
    const { id } = await store.enqueue(content());
    expect((await store.claim('worker-1', 10, LEASE)).map((item) => item.message.id)).toEqual([id]);

    clock.advance(LEASE - 1);
    expect(await store.claim('worker-2', 10, LEASE)).toEqual([]);
    clock.advance(2);
    expect((await store.claim('worker-2', 10, LEASE)).map((item) => item.message.id)).toEqual([id]);
    const detail = await store.getMessage(id);
    expect(detail).toMatchObject({ status: 'sending', leaseOwner: 'worker-2' });
    expect(detail?.attempts).toMatchObject([{ worker: 'worker-1', outcome: 'unknown' }]);
    expect(detail?.transitions.map((step) => step.to)).toEqual(['queued', 'sending', 'queued', 'sending']);
    // Nothing left for the recovery timer.
    expect(await store.recoverExpiredLeases()).toBe(0);
  });
});
