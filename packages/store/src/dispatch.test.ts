import { type DispatchOutcome, mailError, REDACTED } from '@mailroute/core';
import { expect, test } from 'vitest';
import type { MailStore } from './store.js';
import { forEachDatabase } from './test/databases.js';
import { acceptedAttempt, content, failedAttempt, manualClock } from './test/fixtures.js';

const LEASE = 30_000;

forEachDatabase('dispatch queue', (database) => {
  async function setup() {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    return { clock, store };
  }

  const statusOf = async (store: MailStore, id: string) => (await store.getMessage(id))?.status;

  test('claim leases due mail, oldest first, and hands back the whole message', async () => {
    const { clock, store } = await setup();
    const first = await store.enqueue(content({ tags: ['a'], metadata: { k: 'v' } }));
    clock.advance(1);
    const second = await store.enqueue(content());
    clock.advance(1);
    await store.enqueue(content());
    const claimed = await store.claim('worker-1', 2, LEASE);
    expect(claimed.map((item) => item.message.id)).toEqual([first.id, second.id]);
    expect(claimed[0]?.exclude).toBeUndefined();
    const detail = await store.getMessage(first.id);
    expect(claimed[0]).toEqual({
      message: detail?.message,
      rounds: 0,
      acceptedAt: detail?.createdAt,
      leaseExpiresAt: clock.now() + LEASE,
    });
    expect(detail).toMatchObject({ status: 'sending', leaseOwner: 'worker-1', leaseExpiresAt: clock.now() + LEASE });
    expect(detail?.transitions.at(-1)).toMatchObject({ from: 'queued', to: 'sending', reason: 'claimed by worker-1' });
  });

  test('a second claimer gets nothing while the lease holds; an expired lease is recovered', async () => {
    const { clock, store } = await setup();
    const { id } = await store.enqueue(content());
    expect(await store.claim('worker-1', 10, LEASE)).toHaveLength(1);
    expect(await store.claim('worker-2', 10, LEASE)).toEqual([]);
    clock.advance(LEASE - 1);
    expect(await store.recoverExpiredLeases()).toBe(0);
    clock.advance(2);
    expect(await store.recoverExpiredLeases()).toBe(1);
    const detail = await store.getMessage(id);
    expect(detail?.status).toBe('queued');
    expect(detail?.transitions.at(-1)?.reason).toMatch(/^lease of worker-1 expired at /);
    expect((await store.claim('worker-2', 10, LEASE)).map((item) => item.message.id)).toEqual([id]);
  });

  test('concurrent claimers never share a message', async () => {
    const { store } = await setup();
    const other = await database.open();
    await store.enqueueMany(Array.from({ length: 40 }, () => content()));
    const batches = await Promise.all(
      Array.from({ length: 8 }, (_, index) => (index % 2 === 0 ? store : other).claim(`worker-${index}`, 10, LEASE)),
    );
    const ids = batches.flat().map((item) => item.message.id);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
  });

  test('sent: provider, provider message id and attempts are stored with the status change', async () => {
    const { clock, store } = await setup();
    const { id } = await store.enqueue(content());
    await store.claim('worker-1', 1, LEASE);
    clock.advance(100);
    const attempts = [failedAttempt(id, clock.now() - 80), acceptedAttempt(id, clock.now() - 50, 'ses', 'ses-1')];
    await store.complete('worker-1', [{ kind: 'sent', id, provider: 'ses', providerMessageId: 'ses-1', attempts }]);
    const detail = await store.getMessage(id);
    expect(detail).toMatchObject({ status: 'sent', provider: 'ses', providerMessageId: 'ses-1', rounds: 0, sentAt: clock.now() });
    expect(detail?.leaseOwner).toBeUndefined();
    expect(detail?.attempts).toMatchObject([
      {
        worker: 'worker-1',
        provider: 'sendgrid',
        outcome: 'failed',
        errorCategory: 'provider',
        errorCode: 'PROVIDER_UNAVAILABLE',
        statusCode: 503,
        error: { code: 'PROVIDER_UNAVAILABLE', detail: { status: 503, body: { errors: [{ message: 'try later' }] } } },
      },
      { provider: 'ses', outcome: 'accepted', providerMessageId: 'ses-1', statusCode: 202, latencyMs: 42 },
    ]);
    expect(detail?.transitions.at(-1)).toMatchObject({ from: 'sending', to: 'sent', reason: 'accepted by ses as ses-1' });
  });

  test('failed and dead keep the last error and finish the message', async () => {
    const { clock, store } = await setup();
    const failed = await store.enqueue(content());
    const dead = await store.enqueue(content());
    await store.claim('worker-1', 2, LEASE);
    const error = mailError('INVALID_RECIPIENT', 'no such mailbox', { provider: 'sendgrid' });
    await store.complete('worker-1', [
      { kind: 'failed', id: failed.id, error, attempts: [] },
      { kind: 'dead', id: dead.id, reason: 'max_attempts', error: mailError('NO_PROVIDER', 'all providers failed'), attempts: [] },
    ]);
    const failedDetail = await store.getMessage(failed.id);
    expect(failedDetail).toMatchObject({ status: 'failed', lastErrorCode: 'INVALID_RECIPIENT', lastError: error, finishedAt: clock.now() });
    const deadDetail = await store.getMessage(dead.id);
    expect(deadDetail).toMatchObject({ status: 'dead', lastErrorCode: 'NO_PROVIDER' });
    expect(deadDetail?.transitions.at(-1)?.reason).toMatch(/^max_attempts reached/);
    expect(await store.claim('worker-1', 10, LEASE)).toEqual([]);
  });

  test('retry: not claimable before its time, then claimable with the round counted', async () => {
    const { clock, store } = await setup();
    const { id } = await store.enqueue(content());
    await store.claim('worker-1', 1, LEASE);
    const at = clock.now() + 5_000;
    await store.complete('worker-1', [{ kind: 'retry', id, at, error: mailError('NO_PROVIDER', 'all failed'), attempts: [] }]);
    expect(await store.getMessage(id)).toMatchObject({ status: 'retrying', rounds: 1, nextAttemptAt: at, lastErrorCode: 'NO_PROVIDER' });
    expect(await store.nextDueAt()).toBe(at);
    expect(await store.claim('worker-1', 1, LEASE)).toEqual([]);
    clock.advance(5_000);
    const [again] = await store.claim('worker-2', 1, LEASE);
    expect(again).toMatchObject({ rounds: 1, message: { id } });
  });

  test('held: waits for the provider until the window ends, then is claimable again', async () => {
    const { clock, store } = await setup();
    const { id } = await store.enqueue(content());
    await store.claim('worker-1', 1, LEASE);
    const until = clock.now() + 60_000;
    const error = mailError('TIMEOUT', 'no answer', { provider: 'sendgrid', detail: { requestWritten: true } });
    await store.complete('worker-1', [{ kind: 'held', id, provider: 'sendgrid', until, error, attempts: [] }]);
    expect(await store.getMessage(id)).toMatchObject({ status: 'held', heldProvider: 'sendgrid', heldUntil: until });
    expect(await store.claim('worker-1', 1, LEASE)).toEqual([]);
    clock.advance(60_000);
    const [again] = await store.claim('worker-1', 1, LEASE);
    expect(again).toMatchObject({ message: { id }, rounds: 0, exclude: ['sendgrid'] });
    expect((await store.getMessage(id))?.transitions.at(-1)).toMatchObject({ from: 'held', to: 'sending' });
  });

  test('a worker that lost its lease changes nothing, but its attempts are kept', async () => {
    const { clock, store } = await setup();
    const { id } = await store.enqueue(content());
    await store.claim('worker-1', 1, LEASE);
    clock.advance(LEASE + 1);
    await store.recoverExpiredLeases();
    await store.claim('worker-2', 1, LEASE);
    await store.complete('worker-1', [
      {
        kind: 'sent',
        id,
        provider: 'sendgrid',
        providerMessageId: 'late',
        attempts: [acceptedAttempt(id, clock.now(), 'sendgrid', 'late')],
      },
    ]);
    const detail = await store.getMessage(id);
    expect(detail).toMatchObject({ status: 'sending', leaseOwner: 'worker-2' });
    expect(detail?.providerMessageId).toBeUndefined();
    // Lease recovery recorded the send nobody saw end; the late answer is kept beside it.
    expect(detail?.attempts).toMatchObject([
      { worker: 'worker-1', outcome: 'unknown' },
      { worker: 'worker-1', outcome: 'accepted', providerMessageId: 'late' },
    ]);
  });

  test('release gives claimed mail back unsent; extendLeases keeps only the owner’s leases alive', async () => {
    const { clock, store } = await setup();
    const fresh = await store.enqueue(content());
    const retried = await store.enqueue(content());
    const kept = await store.enqueue(content());
    await store.claim('worker-1', 2, LEASE);
    await store.complete('worker-1', [
      { kind: 'retry', id: retried.id, at: clock.now(), error: mailError('NO_PROVIDER', 'x'), attempts: [] },
    ]);
    expect((await store.claim('worker-1', 3, LEASE)).map((item) => item.message.id).sort()).toEqual([retried.id, kept.id].sort());
    await store.release('worker-1', [fresh.id, retried.id]);
    expect(await statusOf(store, fresh.id)).toBe('queued');
    expect(await statusOf(store, retried.id)).toBe('retrying');
    expect((await store.getMessage(fresh.id))?.transitions.at(-1)?.reason).toBe('released unsent by worker-1');

    clock.advance(LEASE - 1);
    const extendedUntil = clock.now() + LEASE;
    await store.extendLeases('worker-2', [kept.id], LEASE * 10);
    await store.extendLeases('worker-1', [kept.id], LEASE);
    clock.advance(2);
    expect(await store.recoverExpiredLeases()).toBe(0);
    expect(await store.getMessage(kept.id)).toMatchObject({ status: 'sending', leaseExpiresAt: extendedUntil });
  });

  test('a worker’s own calls are plain SQL: Prisma’s client (and its query compiler) never connects', async () => {
    const { clock, store } = await setup();
    const [fresh, retried, expiring] = await store.enqueueMany([content(), content(), content()]);
    if (!fresh || !retried || !expiring) throw new Error('enqueueMany returned too few results');
    await store.setProviderState('ses', 'disabled', 'maintenance');
    await store.close();
    const worker = await database.open({ now: clock.now });
    expect(await worker.listProviderStates()).toMatchObject([
      { provider: 'ses', state: 'disabled', note: 'maintenance', updatedAt: clock.now() },
    ]);
    const beat = { id: 'worker-1', role: 'worker', host: 'h', pid: 1, startedAt: clock.now(), breakers: {} };
    expect(await worker.recordHeartbeat(beat)).toEqual({ ...beat, seenAt: clock.now() });
    expect(await worker.claim('worker-1', 3, LEASE)).toHaveLength(3);
    await worker.extendLeases('worker-1', [fresh.id], LEASE);
    const retryAt = clock.now() + 5_000;
    await worker.complete('worker-1', [{ kind: 'retry', id: retried.id, at: retryAt, error: mailError('NO_PROVIDER', 'x'), attempts: [] }]);
    expect(await worker.nextDueAt()).toBe(retryAt);
    await worker.release('worker-1', [fresh.id]);
    const leaseEnd = clock.now() + LEASE;
    clock.advance(LEASE + 1);
    expect(await worker.recoverExpiredLeases()).toBe(1);
    expect(await worker.nextDueAt()).toBe(clock.now() - LEASE - 1);
    expect(await worker.pruneHeartbeats(clock.now())).toBe(1);
    expect(await worker.removeHeartbeat('worker-1')).toBe(false);
    expect(worker.stats().prismaConnected).toBe(false);

    const detail = await worker.getMessage(expiring.id);
    expect(detail?.transitions.at(-1)?.reason).toBe(`lease of worker-1 expired at ${new Date(leaseEnd).toISOString()}`);
    expect(worker.stats().prismaConnected).toBe(true);
  });

  test('nextDueAt is empty when nothing waits', async () => {
    const { store } = await setup();
    expect(await store.nextDueAt()).toBeUndefined();
  });

  test('secrets a provider forgot to redact never reach the attempt log', async () => {
    const { clock, store } = await setup();
    const { id } = await store.enqueue(content());
    await store.claim('worker-1', 1, LEASE);
    const key = 'SG.abcdefghijklmnop.qrstuvwxyz0123456789';
    const attempt = {
      ...failedAttempt(id, clock.now()),
      requestSummary: { recipients: 1, attachments: 0, tags: [`copied Bearer ${key}`, `also ${key}`] },
      detail: { status: 401, headers: { authorization: `Bearer ${key}` }, body: { message: `bad key ${key}` } },
      error: mailError('PROVIDER_AUTH', `rejected ${key}`, { detail: { status: 401, body: { key } } }),
    };
    const outcome: DispatchOutcome = { kind: 'retry', id, at: clock.now(), error: attempt.error, attempts: [attempt] };
    await store.complete('worker-1', [outcome]);
    const rows = await database.query<Record<string, unknown>>('SELECT * FROM attempt');
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain('abcdefghijklmnop');
    const [view] = (await store.getMessage(id))?.attempts ?? [];
    expect(view?.requestSummary).toEqual({ recipients: 1, attachments: 0, tags: [`copied Bearer ${REDACTED}`, `also ${REDACTED}`] });
    expect(view?.errorMessage).toBe(`rejected ${REDACTED}`);
    expect(JSON.stringify((await store.getMessage(id))?.lastError)).not.toContain('abcdefghijklmnop');
  });

  test('outside text a database refuses as it came (NUL, lone surrogates) is stored cleaned, in every column', async () => {
    const { clock, store } = await setup();
    const sent = await store.enqueue(content());
    const failed = await store.enqueue(content());
    await store.claim('worker-1', 2, LEASE);
    const bad = 'bad \u0000 thing \ud800 here \udc00';
    const clean = 'bad \ufffd thing \ufffd here \ufffd';
    const smtpReply = mailError('INVALID_RECIPIENT', `550 ${bad}`, {
      provider: 'relay',
      detail: { status: 550, body: `550 ${bad}`, headers: { [`x-${bad}`]: bad }, requestWritten: true },
    });
    const outcomes: DispatchOutcome[] = [
      {
        kind: 'sent',
        id: sent.id,
        provider: 'sendgrid',
        providerMessageId: `pm ${bad}`,
        attempts: [
          {
            ...acceptedAttempt(sent.id, clock.now(), 'sendgrid', `pm ${bad}`),
            requestSummary: { recipients: 1, attachments: 0, tags: [bad] },
          },
        ],
      },
      {
        kind: 'failed',
        id: failed.id,
        error: smtpReply,
        attempts: [{ ...failedAttempt(failed.id, clock.now(), 'relay'), error: smtpReply }],
      },
    ];
    await store.complete('worker-1', outcomes);
    const sentDetail = await store.getMessage(sent.id);
    expect(sentDetail).toMatchObject({ status: 'sent', providerMessageId: `pm ${clean}` });
    expect(sentDetail?.attempts[0]).toMatchObject({ providerMessageId: `pm ${clean}`, requestSummary: { tags: [clean] } });
    expect(sentDetail?.transitions.at(-1)?.reason).toBe(`accepted by sendgrid as pm ${clean}`);
    const failedDetail = await store.getMessage(failed.id);
    expect(failedDetail).toMatchObject({ status: 'failed', lastError: { message: `550 ${clean}` } });
    expect(failedDetail?.attempts[0]).toMatchObject({
      errorMessage: `550 ${clean}`,
      error: { detail: { body: `550 ${clean}`, headers: { [`x-${clean}`]: clean } } },
    });
    expect(failedDetail?.transitions.at(-1)?.reason).toBe(`INVALID_RECIPIENT: 550 ${clean}`);
  });
});
