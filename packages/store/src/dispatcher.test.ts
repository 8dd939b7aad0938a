import { createDispatcher, createRouter, type Dispatcher, type Router } from '@mailroute/core';
import { createScriptedProvider } from '@mailroute/core/testing';
import { afterEach, expect, test } from 'vitest';
import type { MailStore } from './store.js';
import { forEachDatabase } from './test/databases.js';
import { content } from './test/fixtures.js';

/** core's dispatcher driving the real store: the DispatchQueue contract end to end. */
forEachDatabase('core dispatcher on the store', (database) => {
  let dispatcher: Dispatcher | undefined;
  let router: Router | undefined;

  afterEach(async () => {
    await dispatcher?.stop({ graceMs: 1_000 });
    await router?.close();
    dispatcher = undefined;
    router = undefined;
  });

  function start(store: MailStore, provider: ReturnType<typeof createScriptedProvider>, leaseMs = 5_000) {
    router = createRouter({ providers: [{ provider }], breaker: { volumeThreshold: 1_000 } });
    const routerInstance = router;
    dispatcher = createDispatcher({
      queue: store,
      router: () => routerInstance,
      owner: 'worker-1',
      concurrency: 20,
      leaseMs,
      idlePollMs: 5_000,
      retryPolicy: { baseDelayMs: 20, maxDelayMs: 40, maxAttempts: 100, maxAgeMs: 60_000 },
    });
    dispatcher.start();
  }

  const sentCount = async (store: MailStore) => (await store.countByStatus()).sent;

  test('sends every message, wakes at once for new mail, and records every call', async () => {
    const store = await database.open();
    const provider = createScriptedProvider('scripted', { kind: 'accept', latencyMs: 2 });
    await store.enqueueMany(Array.from({ length: 30 }, () => content()));
    start(store, provider);
    await expect.poll(() => sentCount(store), { timeout: 10_000 }).toBe(30);
    const started = Date.now();
    const { id } = await store.enqueue(content());
    await expect.poll(async () => (await store.getMessage(id))?.status, { timeout: 4_000, interval: 10 }).toBe('sent');
    // The idle poll is 5 s: only the wake-up gets it out sooner, with room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(2_500);
    const detail = await store.getMessage(id);
    expect(detail).toMatchObject({ provider: 'scripted', providerMessageId: expect.stringMatching(/^scripted-/) });
    expect(detail?.attempts).toHaveLength(1);
    expect(provider.accepted).toHaveLength(31);
  });

  test('retries while the provider fails, then sends once it recovers', async () => {
    const store = await database.open();
    const provider = createScriptedProvider('scripted', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' });
    const { id } = await store.enqueue(content());
    start(store, provider);
    await expect.poll(async () => (await store.getMessage(id))?.rounds ?? 0, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    provider.behaviour = { kind: 'accept' };
    await expect.poll(async () => (await store.getMessage(id))?.status, { timeout: 5_000 }).toBe('sent');
    const detail = await store.getMessage(id);
    expect(detail?.attempts.filter((attempt) => attempt.outcome === 'failed').length).toBeGreaterThanOrEqual(2);
    expect(detail?.transitions.some((step) => step.to === 'retrying')).toBe(true);
  });

  test('mail claimed by a worker that died is sent once its lease runs out', async () => {
    const store = await database.open();
    const { id } = await store.enqueue(content());
    expect(await store.claim('crashed-worker', 10, 300)).toHaveLength(1);
    start(store, createScriptedProvider('scripted'), 300);
    await expect.poll(async () => (await store.getMessage(id))?.status, { timeout: 5_000 }).toBe('sent');
    const reasons = (await store.getMessage(id))?.transitions.map((step) => step.reason) ?? [];
    expect(reasons.some((reason) => reason.startsWith('lease of crashed-worker expired'))).toBe(true);
  });

  test('an outcome the store cannot take holds up only itself and is stored in its minimal form; none stays sending', async () => {
    const store = await database.open();
    const good = createScriptedProvider('scripted', { kind: 'accept', latencyMs: 2 });
    // A detail no database can take as it is (JSON has no BigInt): the whole transaction fails.
    const poisoned = createScriptedProvider('scripted', {
      kind: 'fail',
      code: 'INVALID_RECIPIENT',
      init: { detail: { status: 550, body: { size: 10n } } },
    });
    const bad = await store.enqueue(content());
    await store.enqueueMany(Array.from({ length: 30 }, () => content()));
    router = createRouter({ providers: [{ provider: good }], breaker: { volumeThreshold: 1_000 } });
    const badRouter = createRouter({ providers: [{ provider: poisoned }] });
    const routerInstance = router;
    const errors: string[] = [];
    dispatcher = createDispatcher({
      queue: store,
      router: () => ({
        ...routerInstance,
        send: (message, options) => (message.id === bad.id ? badRouter : routerInstance).send(message, options),
      }),
      owner: 'worker-1',
      concurrency: 50,
      idlePollMs: 5_000,
      onError: (error, during) => errors.push(`${during}: ${(error as Error).message}`),
    });
    dispatcher.start();
    await expect.poll(() => sentCount(store), { timeout: 5_000 }).toBe(30);
    await expect.poll(async () => (await store.getMessage(bad.id))?.status, { timeout: 10_000 }).toBe('failed');
    expect((await store.countByStatus()).sending).toBe(0);
    const detail = await store.getMessage(bad.id);
    expect(detail?.lastError).toMatchObject({
      code: 'INVALID_RECIPIENT',
      message: expect.stringMatching(/^detail not stored: the database refused it/),
    });
    expect(detail?.attempts).toEqual([
      expect.objectContaining({ provider: 'scripted', outcome: 'failed', errorCode: 'INVALID_RECIPIENT', statusCode: 550 }),
    ]);
    expect(errors.length).toBeGreaterThanOrEqual(4);
    expect(errors.every((error) => error.startsWith('complete: '))).toBe(true);
    await badRouter.close();
  });
});
