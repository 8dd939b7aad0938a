import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createDispatcher, type Dispatcher, type Router } from '@mailroute/core';
import type { MailStore } from '@mailroute/store';
import type { MailrouteConfig } from '../config/schema.js';
import { type ProviderOverrides, watchProviderOverrides } from './overrides.js';
import { buildRouter } from './router.js';

export interface Worker {
  readonly owner: string;
  readonly dispatcher: Dispatcher;
  router(): Router;
  stop(options?: { graceMs?: number }): Promise<void>;
}

export interface WorkerOptions {
  readonly store: MailStore;
  readonly config: MailrouteConfig;
  readonly onError?: (error: unknown, during: string) => void;
}

/** The dispatcher wired to the store and to providers built from configuration. */
export async function startWorker({ store, config, onError = () => {} }: WorkerOptions): Promise<Worker> {
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const overrides: ProviderOverrides = await watchProviderOverrides(store, config.worker.overridesRefreshMs, (error) =>
    onError(error, 'overrides'),
  );
  const router = buildRouter(config, overrides.isEnabled);
  const dispatcher = createDispatcher({
    queue: store,
    router: () => router,
    owner,
    concurrency: config.worker.concurrency,
    leaseMs: config.worker.leaseMs,
    idlePollMs: config.worker.idlePollMs,
    retryPolicy: config.retry,
    confirmWindowMs: config.routing.confirmWindowMs,
    onError,
  });
  dispatcher.start();

  return {
    owner,
    dispatcher,
    router: () => router,
    async stop({ graceMs = 30_000 } = {}) {
      await dispatcher.stop({ graceMs });
      overrides.stop();
      await router.close();
    },
  };
}
