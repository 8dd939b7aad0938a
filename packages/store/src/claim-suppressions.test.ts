import { createDispatcher, createRouter, type Dispatcher, mailError, type Router } from '@mailroute/core';
import { createScriptedProvider } from '@mailroute/core/testing';
import { afterEach, expect, test } from 'vitest';
import { forEachDatabase } from './test/databases.js';
import { content, manualClock } from './test/fixtures.js';

const LEASE = 30_000;
const HOUR = 3_600_000;

/** The suppression list checked again when a worker claims the mail, not only when it was accepted. */
forEachDatabase('suppressions at send time', (database) => {
  async function setup() {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    return { clock, store };
  }

  test('scheduled mail to an address suppressed after acceptance fails RECIPIENT_SUPPRESSED and is never handed out', async () => {
    const { clock, store } = await setup();
    const { id, status } = await store.enqueue(content({ to: ['Gone@Example.org'], sendAt: new Date(clock.now() + HOUR) }), {
      tenantId: 'hotel',
    });
    expect(status).toBe('scheduled');
    await store.addSuppression({ address: 'gone@example.org', reason: 'hard_bounce', source: 'webhook', tenantId: 'hotel' });
    clock.advance(HOUR);
    expect(await store.claim('worker-1', 10, LEASE)).toEqual([]);
    const detail = await store.getMessage(id);
    expect(detail).toMatchObject({ status: 'failed', lastErrorCode: 'RECIPIENT_SUPPRESSED', finishedAt: clock.now() });
    expect(detail?.leaseOwner).toBeUndefined();
    expect(detail?.lastError).toMatchObject({ code: 'RECIPIENT_SUPPRESSED', category: 'message', retryable: false });
    expect(detail?.transitions.map((step) => [step.from, step.to])).toEqual([
      [undefined, 'scheduled'],
      ['scheduled', 'failed'],
    ]);
    expect(detail?.transitions.at(-1)?.reason).toBe(
      'RECIPIENT_SUPPRESSED when claimed: every recipient is on the suppression list: gone@example.org (hard_bounce)',
    );
    expect(detail?.suppressedRecipients).toEqual([{ address: 'gone@example.org', kind: 'to', reason: 'hard_bounce', at: clock.now() }]);
    expect(detail?.attempts).toEqual([]);
    expect(await store.nextDueAt()).toBeUndefined();
  });

  test('mail waiting for a retry is checked again when it comes due', async () => {
    const { clock, store } = await setup();
    const { id } = await store.enqueue(content({ to: ['complainer@example.org'] }));
    await store.claim('worker-1', 10, LEASE);
    const error = mailError('PROVIDER_UNAVAILABLE', 'sendgrid answered 503');
    await store.complete('worker-1', [{ kind: 'retry', id, at: clock.now() + 5_000, error, attempts: [] }]);
    await store.addSuppression({ address: 'complainer@example.org', reason: 'complaint', source: 'webhook' });
    clock.advance(5_000);
    expect(await store.claim('worker-2', 10, LEASE)).toEqual([]);
    const detail = await store.getMessage(id);
    expect(detail?.status).toBe('failed');
    expect(detail?.transitions.at(-1)).toMatchObject({ from: 'retrying', to: 'failed' });
    expect(detail?.suppressedRecipients.map((entry) => entry.reason)).toEqual(['complaint']);
  });

  test('some recipients suppressed: the rest get it, the ones left out are recorded; the stored message is unchanged', async () => {
    const { clock, store } = await setup();
    const accepted = content({
      to: ['Desk <desk@example.org>', 'gone@example.org'],
      cc: ['manager@example.org', 'bounced@example.org'],
      bcc: ['audit@example.org'],
    });
    const { id } = await store.enqueue(accepted, { tenantId: 'hotel' });
    const untouched = await store.enqueue(content({ to: ['gone@example.org'] }), { tenantId: 'spa' });
    await store.addSuppression({ address: 'gone@example.org', reason: 'hard_bounce', source: 'webhook', tenantId: 'hotel' });
    await store.addSuppression({ address: 'bounced@example.org', reason: 'asked by phone', source: 'operator', tenantId: 'hotel' });
    const claimed = await store.claim('worker-1', 10, LEASE);
    // Suppressions are per tenant: the spa's mail to the same address goes out.
    expect(claimed.map((item) => item.message.id).sort()).toEqual([id, untouched.id].sort());
    const message = claimed.find((item) => item.message.id === id)?.message;
    expect(message?.to).toEqual([{ email: 'desk@example.org', name: 'Desk' }]);
    expect(message?.cc).toEqual([{ email: 'manager@example.org' }]);
    expect(message?.bcc).toEqual([{ email: 'audit@example.org' }]);
    const detail = await store.getMessage(id);
    expect(detail?.status).toBe('sending');
    expect(detail?.message.to).toEqual(accepted.to);
    expect(detail?.message.cc).toEqual(accepted.cc);
    expect(detail?.suppressedRecipients).toEqual([
      { address: 'gone@example.org', kind: 'to', reason: 'hard_bounce', at: clock.now() },
      { address: 'bounced@example.org', kind: 'cc', reason: 'asked by phone', at: clock.now() },
    ]);
    expect(detail?.transitions.at(-1)?.reason).toBe(
      'claimed by worker-1; left out, on the suppression list: gone@example.org (hard_bounce), bounced@example.org (asked by phone)',
    );
    expect((await store.getMessage(untouched.id))?.suppressedRecipients).toEqual([]);
  });

  test('no `to` recipient left: a copy without its addressee is not sent', async () => {
    const { store } = await setup();
    const { id } = await store.enqueue(content({ to: ['gone@example.org'], cc: ['manager@example.org'] }));
    await store.addSuppression({ address: 'gone@example.org', reason: 'hard_bounce', source: 'webhook' });
    expect(await store.claim('worker-1', 10, LEASE)).toEqual([]);
    const detail = await store.getMessage(id);
    expect(detail?.status).toBe('failed');
    expect(detail?.lastError?.message).toBe(
      'no `to` recipient is left, the others are on the suppression list: gone@example.org (hard_bounce)',
    );
  });

  test('an address taken off the list before the next round gets the mail again', async () => {
    const { clock, store } = await setup();
    const { id } = await store.enqueue(content({ to: ['desk@example.org', 'back@example.org'] }));
    await store.addSuppression({ address: 'back@example.org', reason: 'hard_bounce', source: 'webhook' });
    expect((await store.claim('worker-1', 10, LEASE))[0]?.message.to).toEqual([{ email: 'desk@example.org' }]);
    await store.complete('worker-1', [
      { kind: 'retry', id, at: clock.now() + 1_000, error: mailError('PROVIDER_UNAVAILABLE', '503'), attempts: [] },
    ]);
    await store.removeSuppression('back@example.org');
    clock.advance(1_000);
    expect((await store.claim('worker-1', 10, LEASE))[0]?.message.to).toEqual([
      { email: 'desk@example.org' },
      { email: 'back@example.org' },
    ]);
    expect((await store.getMessage(id))?.suppressedRecipients).toEqual([]);
  });

  test('a claim of many messages checks them all in one pass', async () => {
    const { store } = await setup();
    const results = await store.enqueueMany(
      Array.from({ length: 60 }, (_, index) => content({ to: [index % 3 === 0 ? 'gone@example.org' : `guest-${index}@example.org`] })),
    );
    await store.addSuppression({ address: 'gone@example.org', reason: 'complaint', source: 'webhook' });
    const claimed = await store.claim('worker-1', 100, LEASE);
    expect(claimed).toHaveLength(40);
    const counts = await store.countByStatus();
    expect(counts).toMatchObject({ failed: 20, sending: 40 });
    const failed = results.filter((_, index) => index % 3 === 0).map((result) => result.id);
    for (const id of failed.slice(0, 3)) expect((await store.getMessage(id))?.lastErrorCode).toBe('RECIPIENT_SUPPRESSED');
  });
});

/** With core's dispatcher: what the provider gets. */
forEachDatabase('suppressions at send time, through the dispatcher', (database) => {
  let dispatcher: Dispatcher | undefined;
  let router: Router | undefined;

  afterEach(async () => {
    await dispatcher?.stop({ graceMs: 1_000 });
    await router?.close();
    dispatcher = undefined;
    router = undefined;
  });

  test('mail retrying after a provider failure: no provider call for a suppressed recipient, the others get theirs', async () => {
    const store = await database.open();
    const provider = createScriptedProvider('scripted', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' });
    router = createRouter({ providers: [{ provider }], breaker: { volumeThreshold: 1_000 } });
    const routerInstance = router;
    const alone = await store.enqueue(content({ to: ['gone@example.org'] }));
    const shared = await store.enqueue(content({ to: ['desk@example.org'], bcc: ['gone@example.org'] }));
    const startWorker = () => {
      dispatcher = createDispatcher({
        queue: store,
        router: () => routerInstance,
        owner: 'worker-1',
        concurrency: 10,
        leaseMs: 5_000,
        idlePollMs: 200,
        retryPolicy: { baseDelayMs: 300, maxDelayMs: 300, maxAttempts: 100, maxAgeMs: 60_000 },
      });
      dispatcher.start();
    };
    startWorker();
    const retrying = async () =>
      (await Promise.all([alone.id, shared.id].map(async (id) => (await store.getMessage(id))?.status))).every((s) => s === 'retrying');
    await expect.poll(retrying, { timeout: 5_000 }).toBe(true);
    // Nothing in flight while the address goes on the list: the next call can only come from a new claim.
    await dispatcher?.stop({ graceMs: 1_000 });
    expect(await retrying()).toBe(true);
    await store.addSuppression({ address: 'gone@example.org', reason: 'hard_bounce', source: 'webhook' });
    const callsBefore = provider.calls.filter((message) => message.id === alone.id).length;
    provider.behaviour = { kind: 'accept' };
    startWorker();
    await expect.poll(async () => (await store.getMessage(shared.id))?.status, { timeout: 5_000 }).toBe('sent');
    await expect.poll(async () => (await store.getMessage(alone.id))?.status, { timeout: 5_000 }).toBe('failed');
    expect(provider.calls.filter((message) => message.id === alone.id)).toHaveLength(callsBefore);
    expect(provider.accepted.filter((message) => message.id === alone.id)).toEqual([]);
    const delivered = provider.accepted.find((message) => message.id === shared.id);
    expect(delivered?.to).toEqual([{ email: 'desk@example.org' }]);
    expect(delivered?.bcc).toEqual([]);
    expect((await store.getMessage(alone.id))?.lastErrorCode).toBe('RECIPIENT_SUPPRESSED');
  });
});
