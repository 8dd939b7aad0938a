import { mailError } from '@mailroute/core';
import { expect, test } from 'vitest';
import type { MailStore } from './store.js';
import { forEachDatabase } from './test/databases.js';
import { acceptedAttempt, content, failedAttempt, manualClock } from './test/fixtures.js';

const LEASE = 30_000;

forEachDatabase('operator operations', (database) => {
  async function setup() {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    return { clock, store };
  }

  /** Claims the given messages and completes each with the outcome kind asked for. */
  async function finish(store: MailStore, now: number, plan: Record<string, 'sent' | 'failed' | 'dead'>) {
    await store.claim('worker', 100, LEASE);
    await store.complete(
      'worker',
      Object.entries(plan).map(([id, kind]) =>
        kind === 'sent'
          ? { kind, id, provider: 'sendgrid', providerMessageId: `pm-${id}`, attempts: [acceptedAttempt(id, now)] }
          : kind === 'failed'
            ? { kind, id, error: mailError('INVALID_RECIPIENT', 'no such user'), attempts: [failedAttempt(id, now, 'ses')] }
            : { kind, id, reason: 'max_age' as const, error: mailError('NO_PROVIDER', 'all failed'), attempts: [] },
      ),
    );
  }

  test('getMessage gives the timeline and honours the tenant', async () => {
    const { clock, store } = await setup();
    const { id } = await store.enqueue(content(), { tenantId: 'hotel' });
    clock.advance(10);
    await finish(store, clock.now(), { [id]: 'sent' });
    const detail = await store.getMessage(id, { tenantId: 'hotel' });
    expect(detail?.transitions.map((step) => [step.from, step.to])).toEqual([
      [undefined, 'queued'],
      ['queued', 'sending'],
      ['sending', 'sent'],
    ]);
    expect(detail?.attempts).toHaveLength(1);
    expect(await store.getMessage(id, { tenantId: 'other' })).toBeUndefined();
    expect(await store.getMessage('00000000-0000-7000-8000-000000000000')).toBeUndefined();
  });

  test('listMessages filters by status, provider, recipient, tag, time and tenant', async () => {
    const { clock, store } = await setup();
    const start = clock.now();
    const a = await store.enqueue(content({ to: ['Alice@Example.org'], tags: ['booking'] }));
    clock.advance(1_000);
    const b = await store.enqueue(content({ cc: ['alice@example.org'], tags: ['reminder'] }));
    clock.advance(1_000);
    const c = await store.enqueue(content({ tags: ['booking'] }), { tenantId: 'other' });
    await finish(store, clock.now(), { [a.id]: 'sent', [b.id]: 'failed' });
    const ids = async (filter: Parameters<MailStore['listMessages']>[0]) =>
      (await store.listMessages(filter)).items.map((item) => item.id).sort();
    expect(await ids({ status: ['sent'] })).toEqual([a.id]);
    expect(await ids({ status: ['failed', 'queued'] })).toEqual([b.id].sort());
    expect(await ids({ provider: 'sendgrid' })).toEqual([a.id]);
    expect(await ids({ provider: 'ses' })).toEqual([b.id]);
    expect(await ids({ recipient: 'ALICE@example.org' })).toEqual([a.id, b.id].sort());
    expect(await ids({ tag: 'booking' })).toEqual([a.id, c.id].sort());
    expect(await ids({ tag: 'booking', tenantId: 'default' })).toEqual([a.id]);
    expect(await ids({ createdFrom: start + 500, createdTo: start + 2_000 })).toEqual([b.id]);
    expect(await ids({ createdFrom: new Date(start + 2_000).toISOString() })).toEqual([c.id]);
    const [summary] = (await store.listMessages({ status: ['sent'] })).items;
    expect(summary).toMatchObject({
      id: a.id,
      status: 'sent',
      provider: 'sendgrid',
      tags: ['booking'],
      to: [{ email: 'Alice@Example.org' }],
    });
  });

  test('bad filters are refused with a clear error', async () => {
    const { store } = await setup();
    await expect(store.listMessages({ status: ['lost' as 'sent'] })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('status.0'),
    });
    await expect(store.listMessages({ colour: 'red' } as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.listMessages({}, { limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.listMessages({}, { cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  test('pages are newest first and stay stable while new mail arrives', async () => {
    const { clock, store } = await setup();
    const made: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      made.push((await store.enqueue(content())).id);
      if (index % 2 === 0) clock.advance(1);
    }
    const first = await store.listMessages({}, { limit: 2 });
    await store.enqueueMany([content(), content()]);
    const second = await store.listMessages({}, { limit: 2, ...(first.nextCursor ? { cursor: first.nextCursor } : {}) });
    const third = await store.listMessages({}, { limit: 2, ...(second.nextCursor ? { cursor: second.nextCursor } : {}) });
    expect([...first.items, ...second.items, ...third.items].map((item) => item.id)).toEqual([...made].reverse());
    expect(third.nextCursor).toBeUndefined();
  });

  test('requeue by ids moves failed, dead and cancelled mail back to the queue; a dry run changes nothing', async () => {
    const { clock, store } = await setup();
    const failed = await store.enqueue(content());
    const dead = await store.enqueue(content());
    const cancelled = await store.enqueue(content({ sendAt: new Date(clock.now() + 60_000) }));
    await finish(store, clock.now(), { [failed.id]: 'failed', [dead.id]: 'dead' });
    await store.cancel(cancelled.id);
    const ids = [failed.id, dead.id, cancelled.id];
    expect(await store.requeue({ ids }, { dryRun: true })).toEqual({ count: 3, dryRun: true });
    expect((await store.countByStatus()).queued).toBe(0);
    clock.advance(5_000);
    expect(await store.requeue({ ids }, { reason: 'incident 42' })).toEqual({ count: 3, dryRun: false });
    for (const id of ids) {
      const detail = await store.getMessage(id);
      expect(detail).toMatchObject({ status: 'queued', rounds: 0, nextAttemptAt: clock.now() });
      expect(detail?.finishedAt).toBeUndefined();
      expect(detail?.transitions.at(-1)).toMatchObject({ to: 'queued', reason: 'requeued: incident 42' });
    }
    expect((await store.claim('worker', 10, LEASE)).map((item) => item.message.id).sort()).toEqual([...ids].sort());
  });

  test('requeue refuses mail that is not failed, dead or cancelled, and unknown ids, changing nothing', async () => {
    const { clock, store } = await setup();
    const failed = await store.enqueue(content());
    const sent = await store.enqueue(content());
    await finish(store, clock.now(), { [failed.id]: 'failed', [sent.id]: 'sent' });
    await expect(store.requeue({ ids: [failed.id, sent.id] })).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringContaining(`${sent.id} is sent`),
    });
    await expect(store.requeue({ ids: [failed.id, 'missing'] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.requeue({ ids: [] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.requeue({ filter: { status: ['sent'] } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await store.getMessage(failed.id)).toMatchObject({ status: 'failed' });
    expect(await store.getMessage(sent.id)).toMatchObject({ status: 'sent' });
  });

  test('requeue by filter takes only matching requeueable mail', async () => {
    const { clock, store } = await setup();
    const booking = await store.enqueue(content({ tags: ['booking'] }));
    const other = await store.enqueue(content({ tags: ['newsletter'] }));
    const sentBooking = await store.enqueue(content({ tags: ['booking'] }));
    await finish(store, clock.now(), { [booking.id]: 'dead', [other.id]: 'dead', [sentBooking.id]: 'sent' });
    expect(await store.requeue({ filter: { tag: 'booking' } }, { dryRun: true })).toEqual({ count: 1, dryRun: true });
    expect(await store.requeue({ filter: { tag: 'booking', status: ['dead'] } })).toEqual({ count: 1, dryRun: false });
    expect(await store.countByStatus()).toMatchObject({ queued: 1, dead: 1, sent: 1 });
    expect((await store.getMessage(booking.id))?.status).toBe('queued');
  });

  test('cancel stops queued, scheduled and retrying mail and refuses the rest', async () => {
    const { clock, store } = await setup();
    const queued = await store.enqueue(content());
    const scheduled = await store.enqueue(content({ sendAt: new Date(clock.now() + 60_000) }));
    const sending = await store.enqueue(content());
    expect((await store.cancel(queued.id)).previous).toBe('queued');
    expect((await store.cancel(scheduled.id, { reason: 'guest asked' })).previous).toBe('scheduled');
    await store.claim('worker', 1, LEASE);
    await expect(store.cancel(sending.id)).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('sending') });
    await store.complete('worker', [{ kind: 'sent', id: sending.id, provider: 'sendgrid', providerMessageId: 'x', attempts: [] }]);
    await expect(store.cancel(sending.id)).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: `message ${sending.id} is sent; only queued, scheduled, retrying messages can be cancelled`,
    });
    await expect(store.cancel('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.cancel(queued.id, { tenantId: 'other' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await store.getMessage(sending.id)).toMatchObject({ status: 'sent' });
    expect((await store.getMessage(scheduled.id))?.transitions.at(-1)).toMatchObject({ to: 'cancelled', reason: 'cancelled: guest asked' });
    clock.advance(120_000);
    expect(await store.claim('worker', 10, LEASE)).toEqual([]);
  });

  test('resent mail is late from its requeue, not its acceptance; a requeue wakes the workers here and in other processes', async () => {
    const { clock, store } = await setup();
    const other = await database.open({ now: clock.now });
    let here = 0;
    let there = 0;
    store.onEnqueued(() => {
      here += 1;
    });
    other.onEnqueued(() => {
      there += 1;
    });
    const first = await store.enqueue(content());
    const second = await store.enqueue(content());
    await finish(store, clock.now(), { [first.id]: 'dead', [second.id]: 'dead' });
    expect(await store.oldestUnsentAt()).toBeUndefined();
    const heardBefore = here;

    clock.advance(2 * 60 * 60_000);
    const requeuedAt = clock.now();
    expect(await store.requeue({ ids: [first.id] })).toEqual({ count: 1, dryRun: false });
    expect(await store.oldestUnsentAt()).toBe(requeuedAt);
    expect(here).toBe(heardBefore + 1);
    clock.advance(60_000);
    expect((await store.retryMessages({ target: { ids: [second.id] } })).requeued).toBe(1);
    expect(await store.oldestUnsentAt()).toBe(requeuedAt);
    expect(here).toBe(heardBefore + 2);
    // A dry run wakes nobody.
    await store.retryMessages({ target: { filter: { status: ['dead'] } }, dryRun: true });
    expect(here).toBe(heardBefore + 2);
    if (database.dialect === 'postgres') await expect.poll(() => there, { timeout: 3_000 }).toBeGreaterThanOrEqual(4);
  });

  test('countByStatus and oldestUnsentAt watch the queue; scheduled mail not yet due is not late', async () => {
    const { clock, store } = await setup();
    expect(await store.oldestUnsentAt()).toBeUndefined();
    const start = clock.now();
    await store.enqueue(content({ sendAt: new Date(start + 600_000) }));
    expect(await store.oldestUnsentAt()).toBeUndefined();
    clock.advance(1_000);
    const queued = await store.enqueue(content());
    await store.enqueue(content(), { tenantId: 'other' });
    expect(await store.oldestUnsentAt()).toBe(start + 1_000);
    clock.advance(600_000);
    expect(await store.oldestUnsentAt()).toBe(start + 1_000);
    await finish(store, clock.now(), { [queued.id]: 'sent' });
    expect(await store.oldestUnsentAt({ tenantId: 'default' })).toBe(start + 600_000);
    const counts = await store.countByStatus();
    expect(counts).toMatchObject({ sent: 1, sending: 2, queued: 0, dead: 0 });
    expect(Object.values(await store.countByStatus({ tenantId: 'other' })).reduce((sum, n) => sum + n, 0)).toBe(1);
  });

  test('provider overrides are stored once per provider', async () => {
    const { clock, store } = await setup();
    await store.setProviderState('sendgrid', 'disabled', 'incident 42');
    clock.advance(1_000);
    await store.setProviderState('sendgrid', 'drained');
    await store.setProviderState('ses', 'enabled');
    expect(await store.listProviderStates()).toEqual([
      { provider: 'sendgrid', state: 'drained', updatedAt: clock.now() },
      { provider: 'ses', state: 'enabled', updatedAt: clock.now() },
    ]);
    await expect(store.setProviderState('ses', 'paused' as 'enabled')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
