import { createDispatcher, createRouter, type Dispatcher, type Router } from '@mailroute/core';
import { createScriptedProvider } from '@mailroute/core/testing';
import { afterEach, expect, test } from 'vitest';
import type { MailStore } from './store.js';
import { forEachDatabase } from './test/databases.js';
import { content } from './test/fixtures.js';

/**
 * Every provider down for longer than retry.maxAttempts rounds: rounds that found every breaker
 * open (or only probed a half-open one) call no provider for the message and must not count,
 * so the mail waits and goes out when a provider is back, instead of going dead untried.
 */
forEachDatabase('all providers down past maxAttempts rounds', (database) => {
  let dispatcher: Dispatcher | undefined;
  let router: Router | undefined;

  afterEach(async () => {
    await dispatcher?.stop({ graceMs: 1_000 });
    await router?.close();
    dispatcher = undefined;
    router = undefined;
  });

  const claims = async (store: MailStore, id: string) =>
    (await store.getMessage(id))?.transitions.filter((step) => step.to === 'sending').length ?? 0;

  test('the mail waits through more than 12 rounds of open breakers and is sent when one provider recovers', async () => {
    const store = await database.open();
    const primary = createScriptedProvider('primary', { kind: 'fail', code: 'PROVIDER_UNAVAILABLE' });
    const backup = createScriptedProvider('backup', { kind: 'fail', code: 'PROVIDER_UNREACHABLE' });
    router = createRouter({
      providers: [{ provider: primary }, { provider: backup }],
      breaker: { volumeThreshold: 1, resetTimeoutMs: 400 },
    });
    const routerInstance = router;
    dispatcher = createDispatcher({
      queue: store,
      router: () => routerInstance,
      owner: 'worker-1',
      concurrency: 10,
      leaseMs: 5_000,
      idlePollMs: 50,
      // The product's maxAttempts (12), with short delays so many rounds fit in a test.
      retryPolicy: { baseDelayMs: 20, maxDelayMs: 40, maxAttempts: 12, maxAgeMs: 60_000 },
    });
    const ids = (await store.enqueueMany(Array.from({ length: 3 }, () => content()))).map((result) => result.id);
    dispatcher.start();

    await expect
      .poll(async () => Math.min(...(await Promise.all(ids.map((id) => claims(store, id))))), { timeout: 20_000, interval: 100 })
      .toBeGreaterThan(12);
    const during = await Promise.all(ids.map((id) => store.getMessage(id)));
    for (const detail of during) {
      expect(['retrying', 'sending', 'queued']).toContain(detail?.status);
      // Only rounds that tried a provider with its breaker closed count: the first ones, before the breakers opened.
      expect(detail?.rounds).toBeLessThan(12);
    }
    expect((await store.countByStatus()).dead).toBe(0);
    const waiting = during.filter((detail) => detail?.status === 'retrying').map((detail) => detail?.lastErrorCode);
    expect(waiting.length === 0 || waiting.some((code) => code === 'BREAKER_OPEN')).toBe(true);

    backup.behaviour = { kind: 'accept' };
    await expect.poll(async () => (await store.countByStatus()).sent, { timeout: 10_000, interval: 50 }).toBe(ids.length);
    expect((await store.countByStatus()).dead).toBe(0);
    expect(backup.accepted).toHaveLength(ids.length);
  });
});
