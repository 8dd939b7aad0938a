import { mailError } from '@mailroute/core';
import { expect, test } from 'vitest';
import type { MailStore } from './store.js';
import { forEachDatabase } from './test/databases.js';
import { content, failedAttempt, manualClock } from './test/fixtures.js';

forEachDatabase('bulk retry with suppression check', (database) => {
  async function setup() {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    return { clock, store };
  }

  /** Claims everything due and fails it (message fault) or kills it. */
  async function fail(store: MailStore, now: number, kind: 'failed' | 'dead' = 'failed') {
    const claimed = await store.claim('worker', 1000, 30_000);
    await store.complete(
      'worker',
      claimed.map(({ message }) =>
        kind === 'failed'
          ? { kind, id: message.id, error: mailError('INVALID_RECIPIENT', 'no such user'), attempts: [failedAttempt(message.id, now)] }
          : { kind, id: message.id, reason: 'max_age' as const, error: mailError('NO_PROVIDER', 'all failed'), attempts: [] },
      ),
    );
  }

  test('keeps back mail to addresses suppressed since, and reports them; a dry run changes nothing', async () => {
    const { clock, store } = await setup();
    const clean = await store.enqueue(content({ to: ['ok@example.org'] }), { tenantId: 'hotel' });
    const bounced = await store.enqueue(content({ to: ['ok@example.org'], cc: ['Gone@Example.org'] }), { tenantId: 'hotel' });
    const otherTenant = await store.enqueue(content({ to: ['gone@example.org'] }), { tenantId: 'spa' });
    await fail(store, clock.now());
    await store.addSuppression({ address: 'gone@example.org', reason: 'hard bounce', source: 'test', tenantId: 'hotel' });

    const dry = await store.retryMessages({ target: { filter: {} }, tenantId: 'hotel', dryRun: true });
    expect(dry).toEqual({
      dryRun: true,
      matched: 2,
      requeued: 1,
      suppressedCount: 1,
      suppressed: [{ id: bounced.id, addresses: ['gone@example.org'] }],
    });
    expect((await store.countByStatus()).failed).toBe(3);

    clock.advance(1_000);
    const done = await store.retryMessages({ target: { ids: [clean.id, bounced.id] }, tenantId: 'hotel', reason: 'incident 7' });
    expect(done).toMatchObject({ dryRun: false, matched: 2, requeued: 1, suppressedCount: 1 });
    expect(await store.getMessage(clean.id)).toMatchObject({ status: 'queued', rounds: 0, nextAttemptAt: clock.now() });
    expect((await store.getMessage(clean.id))?.transitions.at(-1)).toMatchObject({
      from: 'failed',
      to: 'queued',
      reason: 'requeued: incident 7',
    });
    expect((await store.getMessage(bounced.id))?.status).toBe('failed');
    // The suppression is the hotel's: the spa's mail to the same address is not held back.
    expect(await store.retryMessages({ target: { filter: { status: ['failed'] } }, tenantId: 'spa' })).toMatchObject({
      matched: 1,
      requeued: 1,
      suppressedCount: 0,
    });
    expect((await store.getMessage(otherTenant.id))?.status).toBe('queued');
  });

  test('ids of another tenant are not found, and wrong states are refused, changing nothing', async () => {
    const { clock, store } = await setup();
    const mine = await store.enqueue(content(), { tenantId: 'hotel' });
    const theirs = await store.enqueue(content(), { tenantId: 'spa' });
    await fail(store, clock.now(), 'dead');
    const queued = await store.enqueue(content(), { tenantId: 'hotel' });
    await expect(store.retryMessages({ target: { ids: [mine.id, theirs.id] }, tenantId: 'hotel' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      details: { ids: [theirs.id] },
    });
    await expect(store.retryMessages({ target: { ids: [mine.id, queued.id] }, tenantId: 'hotel' })).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringContaining(`${queued.id} is queued`),
    });
    await expect(store.retryMessages({ target: { filter: { status: ['sent'] } } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.retryMessages({ target: { ids: [] } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await store.countByStatus()).toMatchObject({ dead: 2, queued: 1 });
    // Without a tenant (an operator of the whole installation) every id is visible.
    expect(await store.retryMessages({ target: { ids: [mine.id, theirs.id] } })).toMatchObject({ matched: 2, requeued: 2 });
  });

  test('a filter retry takes only matching retryable mail, across more rows than one chunk', async () => {
    const { clock, store } = await setup();
    await store.enqueueMany(Array.from({ length: 1_200 }, (_, index) => content({ tags: [index % 2 === 0 ? 'booking' : 'news'] })));
    await fail(store, clock.now(), 'dead');
    await store.addSuppression({ address: 'guest-suppressed@example.org', reason: 'complaint', source: 'test' });
    const suppressedOne = await store.enqueue(content({ to: ['guest-suppressed@example.org'], tags: ['booking'] }));
    await fail(store, clock.now(), 'dead');
    const report = await store.retryMessages({ target: { filter: { tag: 'booking', status: ['dead'] } } });
    expect(report).toMatchObject({ matched: 601, requeued: 600, suppressedCount: 1, suppressed: [{ id: suppressedOne.id }] });
    expect(await store.countByStatus()).toMatchObject({ queued: 600, dead: 601 });
  });
});
