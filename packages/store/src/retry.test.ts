import { mailError } from '@mailroute/core';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import type { MailStore } from './store.js';
import { forEachDatabase, type TestDatabase } from './test/databases.js';
import { acceptedAttempt, content, failedAttempt, manualClock } from './test/fixtures.js';

/** An event row as webhook ingestion stores it; the test helper's SQLite connection is read-only. */
async function insertEvent(database: TestDatabase, event: { id: string; type: string; messageId: string; at: number }) {
  const columns = 'id, provider, provider_event_id, type, provider_type, occurred_at, received_at, effect, message_id, payload';
  const at = new Date(event.at).toISOString();
  const values = [event.id, 'sendgrid', `sg-${event.id}`, event.type, event.type, at, at, 'recorded', event.messageId, '{}'];
  if (database.dialect === 'postgres') {
    await database.query(`INSERT INTO event (${columns}) VALUES (${values.map((_, index) => `$${index + 1}`).join(', ')})`, values);
    return;
  }
  const db = new Database(database.url.replace(/^file:/, ''));
  try {
    db.prepare(`INSERT INTO event (${columns}) VALUES (${values.map(() => '?').join(', ')})`).run(...values);
  } finally {
    db.close();
  }
}

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

  test('keeps back mail whose sender the policy refuses now, and reports the sender', async () => {
    const { clock, store } = await setup();
    const allowed = await store.enqueue(content({ from: 'desk@spa.example' }), { tenantId: 'spa' });
    const moved = await store.enqueue(content({ from: 'Desk@Old-Spa.example' }), { tenantId: 'spa' });
    await fail(store, clock.now());
    const asked: string[] = [];
    const senderAllowed = (from: string, tenantId: string) => {
      asked.push(`${tenantId}:${from}`);
      return from.toLowerCase().endsWith('@spa.example');
    };
    const report = await store.retryMessages({ target: { filter: {} }, tenantId: 'spa', senderAllowed });
    expect(report).toEqual({
      dryRun: false,
      matched: 2,
      requeued: 1,
      requeuedIds: [allowed.id],
      keptBackCount: { suppressed: 0, sender_not_allowed: 1, provider_has_it: 0, not_retryable: 0 },
      keptBack: [{ id: moved.id, reason: 'sender_not_allowed', sender: 'Desk@Old-Spa.example' }],
    });
    expect(asked.sort()).toEqual(['spa:Desk@Old-Spa.example', 'spa:desk@spa.example']);
    expect((await store.getMessage(moved.id))?.status).toBe('failed');
    expect((await store.getMessage(allowed.id))?.status).toBe('queued');
  });

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
      requeuedIds: [clean.id],
      keptBackCount: { suppressed: 1, sender_not_allowed: 0, provider_has_it: 0, not_retryable: 0 },
      keptBack: [{ id: bounced.id, reason: 'suppressed', addresses: ['gone@example.org'] }],
    });
    expect((await store.countByStatus()).failed).toBe(3);

    clock.advance(1_000);
    const done = await store.retryMessages({ target: { ids: [clean.id, bounced.id] }, tenantId: 'hotel', reason: 'incident 7' });
    expect(done).toMatchObject({ dryRun: false, matched: 2, requeued: 1, keptBackCount: { suppressed: 1 } });
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
      keptBackCount: { suppressed: 0 },
    });
    expect((await store.getMessage(otherTenant.id))?.status).toBe('queued');
  });

  test('ids of another tenant are not found, changing nothing; ids that moved on are reported, so a repeat does nothing', async () => {
    const { clock, store } = await setup();
    const mine = await store.enqueue(content(), { tenantId: 'hotel' });
    const theirs = await store.enqueue(content(), { tenantId: 'spa' });
    await fail(store, clock.now(), 'dead');
    const queued = await store.enqueue(content(), { tenantId: 'hotel' });
    await expect(store.retryMessages({ target: { ids: [mine.id, theirs.id] }, tenantId: 'hotel' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      details: { ids: [theirs.id] },
    });
    await expect(store.retryMessages({ target: { filter: { status: ['sent'] } } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.retryMessages({ target: { ids: [] } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await store.countByStatus()).toMatchObject({ dead: 2, queued: 1 });

    const first = await store.retryMessages({ target: { ids: [mine.id, queued.id] }, tenantId: 'hotel' });
    expect(first).toMatchObject({
      matched: 2,
      requeued: 1,
      requeuedIds: [mine.id],
      keptBackCount: { not_retryable: 1 },
      keptBack: [{ id: queued.id, reason: 'not_retryable', status: 'queued' }],
    });
    // The same request again (a retried HTTP call, a second operator): nothing left to do.
    const again = await store.retryMessages({ target: { ids: [mine.id, queued.id] }, tenantId: 'hotel' });
    expect(again).toMatchObject({ matched: 2, requeued: 0, requeuedIds: [], keptBackCount: { not_retryable: 2 } });
    expect((await store.getMessage(mine.id))?.transitions.filter((step) => step.to === 'queued')).toHaveLength(2);
    expect(await store.retryMessages({ target: { filter: { status: ['dead'] } }, tenantId: 'hotel' })).toMatchObject({
      matched: 0,
      requeued: 0,
    });
    // Without a tenant (an operator of the whole installation) every id is visible.
    expect(await store.retryMessages({ target: { ids: [mine.id, theirs.id] } })).toMatchObject({ matched: 2, requeued: 1 });
  });

  test('two operators retrying the same mail at once requeue each message once', async () => {
    const { clock, store } = await setup();
    await store.enqueueMany(Array.from({ length: 50 }, () => content()));
    await fail(store, clock.now(), 'dead');
    const reports = await Promise.all([1, 2].map(() => store.retryMessages({ target: { filter: { status: ['dead'] } } })));
    expect(reports.reduce((sum, report) => sum + report.requeued, 0)).toBe(50);
    expect(await store.countByStatus()).toMatchObject({ dead: 0, queued: 50 });
    const detail = await store.getMessage((await store.listMessages({}, { limit: 1 })).items[0]?.id ?? '');
    expect(detail?.transitions.filter((step) => step.to === 'queued')).toHaveLength(2);
  });

  test('keeps back mail a provider already has: an accepted attempt, or webhook events that came while it was failing', async () => {
    const { clock, store } = await setup();
    const plain = await store.enqueue(content());
    const accepted = await store.enqueue(content());
    const delivered = await store.enqueue(content());
    const claimed = await store.claim('worker', 10, 30_000);
    expect(claimed).toHaveLength(3);
    // A timed-out send whose provider did take the message: its delivered event arrives while the
    // worker still holds it (the status stays), then the worker gives up on every provider.
    await insertEvent(database, { id: 'ev-1', type: 'delivered', messageId: delivered.id, at: clock.now() });
    await store.complete(
      'worker',
      claimed.map(({ message }) => ({
        kind: 'dead' as const,
        id: message.id,
        reason: 'max_age' as const,
        error: mailError('NO_PROVIDER', 'all failed'),
        attempts: message.id === accepted.id ? [acceptedAttempt(message.id, clock.now(), 'ses')] : [failedAttempt(message.id, clock.now())],
      })),
    );
    expect(await store.countByStatus()).toMatchObject({ dead: 3 });

    const dry = await store.retryMessages({ target: { filter: { status: ['dead'] } }, dryRun: true });
    expect(dry).toMatchObject({
      matched: 3,
      requeued: 1,
      requeuedIds: [plain.id],
      keptBackCount: { suppressed: 0, sender_not_allowed: 0, provider_has_it: 2, not_retryable: 0 },
    });
    expect(new Map(dry.keptBack.map((kept) => [kept.id, kept]))).toEqual(
      new Map([
        [accepted.id, { id: accepted.id, reason: 'provider_has_it', evidence: ['accepted by ses'] }],
        [delivered.id, { id: delivered.id, reason: 'provider_has_it', evidence: ['delivered event from sendgrid'] }],
      ]),
    );
    const done = await store.retryMessages({ target: { filter: { status: ['dead'] } } });
    expect(done).toMatchObject({ requeued: 1, keptBackCount: { provider_has_it: 2 } });
    expect(await store.countByStatus()).toMatchObject({ dead: 2, queued: 1 });
    expect(await store.retryMessages({ target: { filter: { status: ['dead'] } } })).toMatchObject({ matched: 2, requeued: 0 });
  });

  test('a filter retry takes only matching retryable mail, across more rows than one chunk', async () => {
    const { clock, store } = await setup();
    await store.enqueueMany(Array.from({ length: 1_200 }, (_, index) => content({ tags: [index % 2 === 0 ? 'booking' : 'news'] })));
    await fail(store, clock.now(), 'dead');
    const suppressedOne = await store.enqueue(content({ to: ['guest-suppressed@example.org'], tags: ['booking'] }));
    await fail(store, clock.now(), 'dead');
    // Suppressed after it went dead (suppressed earlier, the worker's claim would have failed it).
    await store.addSuppression({ address: 'guest-suppressed@example.org', reason: 'complaint', source: 'test' });
    const report = await store.retryMessages({ target: { filter: { tag: 'booking', status: ['dead'] } } });
    expect(report).toMatchObject({
      matched: 601,
      requeued: 600,
      keptBackCount: { suppressed: 1 },
      keptBack: [{ id: suppressedOne.id, reason: 'suppressed' }],
    });
    expect(report.requeuedIds).toHaveLength(600);
    expect(await store.countByStatus()).toMatchObject({ queued: 600, dead: 601 });
  });
});
