import type { ApiDependencies, SubscriptionConfirmer, WebhookSettings } from '@mailroute/api';
import type { Router } from '@mailroute/core';
import { type CertificateSource, httpsCertificateSource } from '@mailroute/providers/ses';
import { createStore, type MailStore } from '@mailroute/store';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { withCaptureFallback } from '../config/capture-fallback.js';
import type { MailrouteConfig } from '../config/schema.js';
import type { ConfigSource } from '../config/source.js';
import type { ServiceMetrics } from '../http/metrics.js';
import type { MetricsServer } from '../http/metrics-route.js';
import { createReadinessCheck } from '../http/readiness.js';
import { logOutcome, logRouterEvents } from '../logging.js';
import type { Monitor } from '../monitor/monitor.js';
import { startWorker, type Worker } from '../worker/worker.js';
import { ensureFirstAdminKey } from './admin-key.js';
import { migrationsApplied, waitForMigrations } from './migrations.js';
import { createReloader, type ReloadResult } from './reload.js';

export const roles = ['all', 'api', 'worker'] as const;
export type Role = (typeof roles)[number];

type Env = Readonly<Record<string, string | undefined>>;

export interface ServiceOptions {
  readonly role: Role;
  readonly config: MailrouteConfig;
  /** Re-read on `reload()`. */
  readonly source: ConfigSource;
  /** Whether `config` was read from `source` (default) or is the embedded defaults (no file yet). */
  readonly fromFile?: boolean;
  readonly env: Env;
  readonly logger: Logger;
  /** The first admin key from the environment (`MAILROUTE_ADMIN_KEY`). */
  readonly adminKey?: string | undefined;
  /** Shows a drawn first admin key once (standard output of an interactive terminal). */
  readonly print: (text: string) => void;
  /** When standard output is not a terminal: the owner-only file a drawn first admin key goes to instead. */
  readonly adminKeyFile?: string | undefined;
  /** Command-line `--host` / `--port`, over `server.host` / `server.port`. */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** Where SNS signing certificates come from; HTTPS from SNS hosts (cached) by default. Tests inject their own. */
  readonly certificateSource?: CertificateSource;
  /** Calls SNS SubscribeURLs; `fetch` by default. */
  readonly confirmSubscription?: SubscriptionConfirmer;
}

export interface Service {
  /** `http://host:port` of the API; absent for the worker role. */
  readonly url?: string;
  readonly worker?: Worker;
  /** `http://host:port` of the separate /metrics listener (`metrics.port`). */
  readonly metricsUrl?: string;
  readonly store: MailStore;
  /** Re-reads and validates the configuration file; on any error the configuration in force stays. */
  reload(): Promise<ReloadResult>;
  /** Stops taking requests, lets requests and sends in flight finish, closes the database. */
  stop(): Promise<void>;
}

function effective(config: MailrouteConfig, logger: Logger): MailrouteConfig {
  const fallback = withCaptureFallback(config);
  if (fallback.captureDirectory) {
    logger.warn(
      { captureDirectory: fallback.captureDirectory },
      `no providers configured: mail is NOT delivered; it is captured as .eml and .json files in ${fallback.captureDirectory}`,
    );
  }
  return fallback.config;
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const { role, logger } = options;
  let config = effective(options.config, logger);
  const store = await createStore({
    url: config.database.url,
    onError: (error) => logger.error({ err: error }, 'database notification connection failed; reconnecting'),
  });
  let worker: Worker | undefined;
  let app: FastifyInstance | undefined;
  let stopping = false;
  let url: string | undefined;
  const metrics = await createMetrics(role, config, store, () => worker?.router(), logger);
  let metricsServer: MetricsServer | undefined;
  let monitor: Monitor | undefined;
  async function listen(): Promise<void> {
    const api: ApiDependencies = {
      store,
      providerNames: () => config.providers.map((provider) => provider.name),
      processStaleAfterMs: config.health.staleAfterMs,
      sessionTtlMs: config.dashboard.sessionTtlMs,
      ...(config.dashboard.publicUrl === undefined ? {} : { dashboardUrl: config.dashboard.publicUrl }),
      webhooks: {
        settings: () => webhookSettings(config),
        certificateSource: options.certificateSource ?? httpsCertificateSource(),
        ...(options.confirmSubscription ? { confirmSubscription: options.confirmSubscription } : {}),
        logger,
      },
      ...(role === 'all' ? { liveProviders: () => worker?.router().health() ?? [], wake: () => worker?.dispatcher.wake() } : {}),
    };
    // Loaded only by API processes: a worker never holds Fastify and the tRPC router.
    const { createHttpApp } = await import('../http/app.js');
    app = await createHttpApp({
      settings: config.server,
      logger,
      api,
      role,
      readiness: createReadinessCheck(config.database.url, () => stopping),
      ...(metrics && config.metrics.port === undefined ? { metrics } : {}),
      webhookBodyLimitBytes: config.webhooks.bodyLimitBytes,
      dashboard: config.dashboard.enabled,
      webhookBytesInFlight: config.webhooks.bodyBytesInFlight,
    });
    await app.listen({ host: options.listen?.host ?? config.server.host, port: options.listen?.port ?? config.server.port });
    url = listeningUrl(app);
    logger.info({ url, role }, 'api listening');
  }

  try {
    // SQLite is migrated by createStore. PostgreSQL waits for `mailroute migrate`; meanwhile an
    // API process already listens, so /readyz can say why it is not ready.
    if (!(await migrationsApplied(config.database.url))) {
      if (role !== 'worker') await listen();
      await waitForMigrations(config.database.url, logger);
    }
    if (role !== 'worker') {
      // Before listening when possible: the first admin key works from the first request.
      await ensureFirstAdminKey(store, { providedKey: options.adminKey, logger, print: options.print, keyFile: options.adminKeyFile });
      if (!app) await listen();
    }
    if (role !== 'api') {
      worker = await startWorker({
        store,
        config,
        role,
        onError: (error, during) => logger.error({ err: error, during }, 'worker storage error'),
        onRouter: (router) => {
          logRouterEvents(router, logger);
          metrics?.observeRouter(router);
        },
        onOutcome: (outcome) => logOutcome(outcome, logger),
      });
      logger.info({ owner: worker.owner, providers: config.providers.map((provider) => provider.name) }, 'worker started');
    }
    if (metrics && config.metrics.port !== undefined) {
      const { startMetricsServer } = await import('../http/metrics-route.js');
      metricsServer = await startMetricsServer(metrics, config.metrics.host, config.metrics.port);
      logger.info({ url: metricsServer.url }, 'metrics listening');
    }
    if (config.alerts.enabled && role !== 'worker') {
      // Every process that serves the API runs one (every deployment has one); the lease in the
      // database lets one at a time check and notify. Not worker-only processes: the checks'
      // operator queries start Prisma's query compiler, and an idle worker measured 90 MB RSS
      // without the monitor against 180-195 MB with it.
      const { createMonitor } = await import('../monitor/monitor.js');
      monitor = createMonitor({
        store,
        settings: config.alerts,
        providerNames: () => config.providers.map((provider) => provider.name),
        logger,
        staleAfterMs: config.health.staleAfterMs,
        ...(config.dashboard.publicUrl === undefined ? {} : { dashboardUrl: config.dashboard.publicUrl }),
      });
      monitor.start();
    }
  } catch (error) {
    await monitor?.stop();
    await metricsServer?.close();
    await app?.close();
    await worker?.stop({ graceMs: 0 });
    await store.close();
    throw error;
  }

  const reload = createReloader({
    source: options.source,
    env: options.env,
    logger,
    current: () => config,
    fromFile: options.fromFile ?? true,
    capturing: options.config.providers.length === 0,
    onResult: (result) => metrics?.observeConfigReload(result),
    prepare: (raw) => effective(raw, logger),
    async apply(next) {
      await worker?.reload(next);
      config = { ...config, providers: next.providers, routing: next.routing };
    },
  });

  let stopped: Promise<void> | undefined;
  return {
    ...(url ? { url } : {}),
    ...(worker ? { worker } : {}),
    ...(metricsServer ? { metricsUrl: metricsServer.url } : {}),
    store,
    reload,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        // Fastify answers 503 to new requests and waits for the ones in flight (their mail is committed).
        await app?.close();
        await metricsServer?.close();
        // The lease is given up at once: another process's monitor takes over at its next check.
        await monitor?.stop();
        await worker?.stop();
        await store.close();
      })();
      return stopped;
    },
  };
}

/** The providers' webhook keys and topics as configured now (after any reload). */
function webhookSettings(config: MailrouteConfig): WebhookSettings {
  return {
    toleranceSeconds: config.webhooks.toleranceSeconds,
    maxEventsPerRequest: config.webhooks.maxEventsPerRequest,
    sendgrid: config.providers.flatMap((provider) =>
      provider.type === 'sendgrid' ? [{ name: provider.name, publicKey: provider.webhookPublicKey }] : [],
    ),
    ses: config.providers.flatMap((provider) =>
      provider.type === 'ses' ? [{ name: provider.name, topicArns: provider.webhookTopicArns }] : [],
    ),
  };
}

/**
 * /metrics is served on the API port, or on `metrics.port` when set: the only way for a
 * worker-only process, which has no API port, to expose its provider counters.
 */
async function createMetrics(
  role: Role,
  config: MailrouteConfig,
  store: MailStore,
  liveRouter: () => Router | undefined,
  logger: Logger,
): Promise<ServiceMetrics | undefined> {
  if (!config.metrics.enabled || (role === 'worker' && config.metrics.port === undefined)) return undefined;
  const { createServiceMetrics } = await import('../http/metrics.js');
  return createServiceMetrics({
    store,
    staleAfterMs: config.health.staleAfterMs,
    ...(role === 'api' ? {} : { liveRouter }),
    databaseMetrics: role !== 'worker',
    onError: (error) => logger.error({ err: error }, 'metrics: database read failed'),
  });
}

function listeningUrl(app: FastifyInstance): string {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return String(address);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
