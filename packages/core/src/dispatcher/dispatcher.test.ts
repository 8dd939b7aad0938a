import { afterEach, describe, expect, it } from 'vitest';
import { createRouter, type Router } from '../router/router.js';
import { createMemoryQueue, createScriptedProvider, type MemoryQueue, sampleMessage } from '../testing.js';
import { createDispatcher, type Dispatcher } from './dispatcher.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

let dispatcher: Dispatcher | undefined;
let router: Router | undefined;
afterEach(async () => {
  await dispatcher?.stop({ graceMs: 1000 });
  await router?.close();
  dispatcher = undefined;
  router = undefined;
});

function setup(queue: MemoryQueue, routerInstance: Router, options: Partial<Parameters<typeof createDispatcher>[0]> = {}) {
  router = routerInstance;
  dispatcher = createDispatcher({ queue, router: () => routerInstance, owner: 'w1', idlePollMs: 10_000, leaseMs: 5_000, ...options });
  dispatcher.start();
  return dispatcher;
}

describe('dispatcher', () => {
  it('sends every queued message and records one attempt per provider call', async () => {
    const queue = createMemoryQueue();
    const a = createScriptedProvider('a', { kind: 'accept', latencyMs: 5 });
    for (let i = 0; i < 50; i += 1) queue.enqueue(sampleMessage());
    setup(queue, createRouter({ providers: [{ provider: a }] }), { concurrency: 10 });
    await until(() => queue.rows().every((row) => row.status === 'sent'));
    expect(a.accepted).toHaveLength(50);
    expect(a.maxInFlight).toBeLessThanOrEqual(10);
    expect(queue.attempts).toHaveLength(50);
    expect(queue.completeCalls).toBeLessThanOrEqual(20);
  });

  it('picks up a new message at once, not on the idle poll', async () => {
    const queue = createMemoryQueue();
    const a = createScriptedProvider('a');
    setup(queue, createRouter({ providers: [{ provider: a }] }));
    await sleep(20);
    const message = sampleMessage();
    const started = Date.now();
    queue.enqueue(message);
    await until(() => queue.row(message.id)?.status === 'sent');
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('reschedules with backoff when every provider fails, and sends once they recover', async () => {
    const queue = createMemoryQueue();
    const a = createScriptedProvider('a', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' });
    const message = sampleMessage();
    queue.enqueue(message);
    setup(queue, createRouter({ providers: [{ provider: a }], breaker: { volumeThreshold: 1000 } }), {
      retryPolicy: { baseDelayMs: 20, maxDelayMs: 50, maxAttempts: 100, maxAgeMs: 60_000 },
    });
    await until(() => (queue.row(message.id)?.rounds ?? 0) >= 3);
    expect(queue.row(message.id)?.status).toMatch(/retrying|sending/);
    a.behaviour = { kind: 'accept' };
    await until(() => queue.row(message.id)?.status === 'sent');
    expect(a.accepted).toHaveLength(1);
  });

  it('honours a Retry-After longer than the backoff', async () => {
    const queue = createMemoryQueue();
    const a = createScriptedProvider('a', { kind: 'fail', code: 'RATE_LIMITED', init: { retryAfterMs: 400 } });
    const message = sampleMessage();
    queue.enqueue(message);
    setup(queue, createRouter({ providers: [{ provider: a }] }), {
      retryPolicy: { baseDelayMs: 1, maxDelayMs: 1, maxAttempts: 10, maxAgeMs: 60_000 },
    });
    await until(() => queue.row(message.id)?.status === 'retrying');
    const outcome = queue.row(message.id)?.outcome;
    expect(outcome?.kind).toBe('retry');
    if (outcome?.kind === 'retry') expect(outcome.at - Date.now()).toBeGreaterThan(300);
  });

  it('declares a message dead after max attempts with the last error kept', async () => {
    const queue = createMemoryQueue();
    const a = createScriptedProvider('a', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' });
    const message = sampleMessage();
    queue.enqueue(message);
    setup(queue, createRouter({ providers: [{ provider: a }], breaker: { volumeThreshold: 1000 } }), {
      retryPolicy: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 3, maxAgeMs: 60_000 },
    });
    await until(() => queue.row(message.id)?.status === 'dead');
    const outcome = queue.row(message.id)?.outcome;
    expect(outcome?.kind === 'dead' && outcome.reason).toBe('max_attempts');
    expect(outcome?.kind === 'dead' && outcome.error.code).toBe('NO_PROVIDER');
    expect(a.calls).toHaveLength(3);
  });

  it('marks message faults failed without retrying', async () => {
    const queue = createMemoryQueue();
    const a = createScriptedProvider('a', { kind: 'fail', code: 'INVALID_RECIPIENT' });
    const message = sampleMessage();
    queue.enqueue(message);
    setup(queue, createRouter({ providers: [{ provider: a }] }));
    await until(() => queue.row(message.id)?.status === 'failed');
    expect(a.calls).toHaveLength(1);
  });

  it('holds an ambiguous send under the confirm policy, then sends elsewhere after the window', async () => {
    const queue = createMemoryQueue();
    const a = createScriptedProvider('a', { kind: 'fail', code: 'CONNECTION_RESET' });
    const b = createScriptedProvider('b');
    const message = sampleMessage();
    queue.enqueue(message);
    setup(queue, createRouter({ providers: [{ provider: a }, { provider: b }], ambiguousPolicy: 'confirm' }), { confirmWindowMs: 100 });
    await until(() => queue.row(message.id)?.status === 'held');
    expect(b.calls).toHaveLength(0);
    await until(() => queue.row(message.id)?.status === 'sent');
    expect(a.calls).toHaveLength(1);
    expect(b.accepted.map((m) => m.id)).toEqual([message.id]);
  });

  it('keeps extending the lease of a long send and stops gracefully', async () => {
    const queue = createMemoryQueue();
    const a = createScriptedProvider('a', { kind: 'accept', latencyMs: 400 });
    const message = sampleMessage();
    queue.enqueue(message);
    const d = setup(queue, createRouter({ providers: [{ provider: a }] }), { leaseMs: 150 });
    await until(() => queue.row(message.id)?.status === 'sending');
    const firstExpiry = queue.row(message.id)?.leaseExpiresAt ?? 0;
    await sleep(200);
    expect(queue.row(message.id)?.leaseExpiresAt).toBeGreaterThan(firstExpiry);
    expect(queue.row(message.id)?.status).toBe('sending');
    await d.stop({ graceMs: 2000 });
    expect(queue.row(message.id)?.status).toBe('sent');
    expect(a.calls).toHaveLength(1);
  });

  it('recovers messages whose lease expired in a dead worker', async () => {
    const queue = createMemoryQueue();
    const message = sampleMessage();
    queue.enqueue(message);
    await queue.claim('dead-worker', 10, 50);
    const a = createScriptedProvider('a');
    setup(queue, createRouter({ providers: [{ provider: a }] }), { leaseMs: 100 });
    await until(() => queue.row(message.id)?.status === 'sent');
    expect(a.accepted.map((m) => m.id)).toEqual([message.id]);
  });

  it('sends a scheduled message when it becomes due, not before', async () => {
    const queue = createMemoryQueue();
    const a = createScriptedProvider('a');
    const message = sampleMessage();
    queue.enqueue(message, { sendAt: Date.now() + 250 });
    setup(queue, createRouter({ providers: [{ provider: a }] }));
    await sleep(150);
    expect(a.calls).toHaveLength(0);
    await until(() => queue.row(message.id)?.status === 'sent');
  });

  it('retries storage failures instead of losing outcomes', async () => {
    const queue = createMemoryQueue();
    const realComplete = queue.complete.bind(queue);
    let failures = 2;
    queue.complete = async (owner, outcomes) => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('database is locked');
      }
      return realComplete(owner, outcomes);
    };
    const errors: string[] = [];
    const message = sampleMessage();
    queue.enqueue(message);
    setup(queue, createRouter({ providers: [{ provider: createScriptedProvider('a') }] }), {
      onError: (error, during) => errors.push(`${during}: ${(error as Error).message}`),
    });
    await until(() => queue.row(message.id)?.status === 'sent');
    expect(errors).toEqual(['complete: database is locked', 'complete: database is locked']);
  });

  it('an outcome the store refuses holds up only itself; after a few tries it is stored in its minimal form', async () => {
    const queue = createMemoryQueue();
    const realComplete = queue.complete.bind(queue);
    const poison = sampleMessage();
    // Refuses the poison outcome while it still carries the provider's words, as PostgreSQL refused a NUL.
    queue.complete = async (owner, outcomes) => {
      if (
        outcomes.some(
          (outcome) => outcome.id === poison.id && outcome.kind === 'failed' && !outcome.error.message.startsWith('detail not stored'),
        )
      ) {
        throw new Error('invalid byte sequence for encoding "UTF8": 0x00');
      }
      return realComplete(owner, outcomes);
    };
    const others = Array.from({ length: 20 }, () => sampleMessage());
    queue.enqueue(poison);
    for (const message of others) queue.enqueue(message);
    const a = createScriptedProvider('a', { kind: 'accept', latencyMs: 5 });
    const bad = createScriptedProvider('a', {
      kind: 'fail',
      code: 'INVALID_RECIPIENT',
      init: { detail: { status: 400, body: 'bad \u0000 thing' } },
    });
    const routed = createRouter({ providers: [{ provider: a }] });
    const badRouter = createRouter({ providers: [{ provider: bad }] });
    const errors: string[] = [];
    const started = Date.now();
    setup(queue, routed, {
      router: () => ({
        ...routed,
        send: (message, options) => (message.id === poison.id ? badRouter.send(message, options) : routed.send(message, options)),
      }),
      onError: (error, during) => errors.push(`${during}: ${(error as Error).message}`),
    });
    await until(() => others.every((message) => queue.row(message.id)?.status === 'sent'));
    // Sent while the poison outcome was still being refused.
    expect(Date.now() - started).toBeLessThan(1_000);
    await until(() => queue.row(poison.id)?.status === 'failed', 5_000);
    const outcome = queue.row(poison.id)?.outcome;
    expect(outcome?.kind === 'failed' && outcome.error).toMatchObject({
      code: 'INVALID_RECIPIENT',
      message: expect.stringMatching(/^detail not stored: the database refused it \(invalid byte sequence/),
    });
    expect(outcome?.attempts[0]).toMatchObject({ provider: 'a', outcome: 'failed', detail: { status: 400 } });
    expect(JSON.stringify(outcome)).not.toContain('bad \u0000 thing');
    expect(errors.length).toBeGreaterThanOrEqual(4);
    expect(new Set(errors)).toEqual(new Set(['complete: invalid byte sequence for encoding "UTF8": 0x00']));
    expect(dispatcher?.stats().inFlight).toBe(0);
    await badRouter.close();
  });

  it('an outcome that cannot be stored even in its minimal form is given up after a lease time; its slot and lease are let go', async () => {
    const queue = createMemoryQueue();
    const realComplete = queue.complete.bind(queue);
    const poison = sampleMessage();
    queue.complete = async (owner, outcomes) => {
      if (outcomes.some((outcome) => outcome.id === poison.id)) throw new Error('disk I/O error');
      return realComplete(owner, outcomes);
    };
    queue.enqueue(poison);
    const errors: string[] = [];
    setup(queue, createRouter({ providers: [{ provider: createScriptedProvider('a') }] }), {
      leaseMs: 600,
      onError: (error, during) => errors.push(`${during}: ${(error as Error).message}`),
    });
    await until(() => errors.some((error) => error.includes('gave up')), 5_000);
    expect(errors.at(-1)).toMatch(
      /^complete: gave up storing the sent outcome of message .* after \d+ tries; it is sent again once its lease runs out$/,
    );
    expect(dispatcher?.stats().inFlight).toBe(0);
    const expiry = queue.row(poison.id)?.leaseExpiresAt ?? 0;
    await sleep(400);
    expect(queue.row(poison.id)).toMatchObject({ status: 'sending', leaseExpiresAt: expiry });
  });

  it('stop: a send still unanswered at the deadline is recorded as ambiguous and goes back to the queue', async () => {
    const queue = createMemoryQueue();
    const hung = createScriptedProvider('a', { kind: 'hang' });
    const message = sampleMessage();
    queue.enqueue(message);
    const d = setup(queue, createRouter({ providers: [{ provider: hung }], breaker: { timeoutMs: 60_000 } }));
    await until(() => hung.calls.length === 1);
    const started = Date.now();
    await d.stop({ graceMs: 200 });
    expect(Date.now() - started).toBeLessThan(1_000);
    const row = queue.row(message.id);
    expect(row?.status).toBe('retrying');
    expect(row?.outcome?.kind === 'retry' && row.outcome.error).toMatchObject({
      code: 'TIMEOUT',
      category: 'ambiguous',
      message: expect.stringContaining('the worker stopped with this send in flight'),
    });
    expect(d.stats().inFlight).toBe(0);
  });
});
