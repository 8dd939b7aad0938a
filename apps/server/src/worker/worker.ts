import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createDispatcher, type Dispatcher, type DispatchOutcome, type Router } from '@mailroute/core';
import type { MailStore } from '@mailroute/store';
import { longestSendMs, type MailrouteConfig } from '../config/schema.js';
import { startHeartbeat } from './heartbeat.js';
import { observedQueue } from './observed-queue.js';
import { type ProviderOverrides, watchProviderOverrides } from './overrides.js';
import { buildRouter } from './router.js';
import { createRouterSwitch } from './router-switch.js';

export interface Worker {
  readonly owner: string;
  readonly dispatcher: Dispatcher;
  /** The router sends go through now. */
  router(): Router;
  /**
   * Swaps in providers and routing from a new configuration. Sends in flight finish on the
   * old router; the next claimed message uses the new one. Throws (and keeps the old router)
   * when a provider cannot be built. Worker, retry and database settings need a restart.
   */
  reload(config: MailrouteConfig): Promise<void>;
  stop(options?: { graceMs?: number }): Promise<void>;
}

export interface WorkerOptions {
  readonly store: MailStore;
  readonly config: MailrouteConfig;
  /** Reported in this process's heartbeat (`all` or `worker`). */
  readonly role?: string;
  readonly onError?: (error: unknown, during: string) => void;
  /** Hears every router this worker builds (the first and each reload), e.g. to log its events. */
  readonly onRouter?: (router: Router) => void;
  /** Hears each dispatch outcome once it is committed. */
  readonly onOutcome?: (outcome: DispatchOutcome) => void;
}

const RETIRE_MARGIN_MS = 5_000;

/** The dispatcher wired to the store and to providers built from configuration. */
export async function startWorker({
  store,
  config,
  role = 'worker',
  onError = () => {},
  onRouter = () => {},
  onOutcome,
}: WorkerOptions): Promise<Worker> {
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const overrides: ProviderOverrides = await watchProviderOverrides(store, config.worker.overridesRefreshMs, (error) =>
    onError(error, 'overrides'),
  );
  const first = await buildRouter(config, overrides.isEnabled);
  onRouter(first);
  const heartbeat = startHeartbeat({
    store,
    id: owner,
    role,
    intervalMs: config.health.heartbeatIntervalMs,
    pruneAfterMs: config.health.staleAfterMs * 10,
    onError: (error) => onError(error, 'heartbeat'),
  });
  heartbeat.track(first);
  const routers = createRouterSwitch(first, (error) => onError(error, 'router close'));
  overrides.follow(routers.current);
  let retireAfterMs = longestSendMs(config) + RETIRE_MARGIN_MS;
  const dispatcher = createDispatcher({
    queue: onOutcome ? observedQueue(store, (outcomes) => outcomes.forEach(onOutcome)) : store,
    router: routers.current,
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
    router: routers.current,
    async reload(next) {
      const router = await buildRouter(next, overrides.isEnabled);
      onRouter(router);
      heartbeat.track(router);
      // The old router's sends may be as long as the old configuration allows.
      routers.swap(router, retireAfterMs);
      // The new breakers start closed: a forced-open provider is forced again before the next send.
      overrides.follow(routers.current);
      retireAfterMs = longestSendMs(next) + RETIRE_MARGIN_MS;
    },
    async stop({ graceMs = config.worker.shutdownGraceMs } = {}) {
      await dispatcher.stop({ graceMs });
      await heartbeat.stop();
      overrides.stop();
      await routers.close();
    },
  };
}
