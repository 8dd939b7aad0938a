import type { ApiDependencies } from '@mailroute/api';
import { createStore, type MailStore } from '@mailroute/store';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { withCaptureFallback } from '../config/capture-fallback.js';
import type { MailrouteConfig } from '../config/schema.js';
import { type ConfigSource, readConfig } from '../config/source.js';
import { createHttpApp } from '../http/app.js';
import { createReadinessCheck } from '../http/readiness.js';
import { logOutcome, logRouterEvents } from '../logging.js';
import { startWorker, type Worker } from '../worker/worker.js';
import { ensureFirstAdminKey } from './admin-key.js';
import { waitForMigrations } from './migrations.js';

export const roles = ['all', 'api', 'worker'] as const;
export type Role = (typeof roles)[number];

type Env = Readonly<Record<string, string | undefined>>;

export interface ServiceOptions {
  readonly role: Role;
  readonly config: MailrouteConfig;
  /** Re-read on `reload()`. */
  readonly source: ConfigSource;
  readonly env: Env;
  readonly logger: Logger;
  /** The first admin key from the environment (`MAILROUTE_ADMIN_KEY`). */
  readonly adminKey?: string | undefined;
  /** Shows a drawn first admin key once (standard output). */
  readonly print: (text: string) => void;
  /** Command-line `--host` / `--port`, over `server.host` / `server.port`. */
  readonly listen?: { readonly host?: string; readonly port?: number };
}

export type ReloadResult =
  | { readonly status: 'reloaded'; readonly providers: readonly string[] }
  | { readonly status: 'unchanged' }
  | { readonly status: 'rejected'; readonly error: string };

export interface Service {
  /** `http://host:port` of the API; absent for the worker role. */
  readonly url?: string;
  readonly worker?: Worker;
  readonly store: MailStore;
  /** Re-reads and validates the configuration file; on any error the configuration in force stays. */
  reload(): Promise<ReloadResult>;
  /** Stops taking requests, lets requests and sends in flight finish, closes the database. */
  stop(): Promise<void>;
}

/** Sections read once at start; a change to them is reported as needing a restart. */
const RESTART_SECTIONS = ['database', 'server', 'worker', 'retry'] as const;

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
  try {
    if (role !== 'worker') {
      const api: ApiDependencies = {
        store,
        providerNames: () => config.providers.map((provider) => provider.name),
        ...(role === 'all' ? { liveProviders: () => worker?.router().health() ?? [], wake: () => worker?.dispatcher.wake() } : {}),
      };
      app = await createHttpApp({
        settings: config.server,
        logger,
        api,
        role,
        readiness: createReadinessCheck(config.database.url, () => stopping),
      });
      await app.listen({ host: options.listen?.host ?? config.server.host, port: options.listen?.port ?? config.server.port });
      url = listeningUrl(app);
      logger.info({ url, role }, 'api listening');
    }
    // SQLite is migrated by createStore; PostgreSQL waits for `mailroute migrate` (readyz says so meanwhile).
    await waitForMigrations(config.database.url, logger);
    if (role !== 'worker') await ensureFirstAdminKey(store, { providedKey: options.adminKey, logger, print: options.print });
    if (role !== 'api') {
      worker = await startWorker({
        store,
        config,
        onError: (error, during) => logger.error({ err: error, during }, 'worker storage error'),
        onRouter: (router) => logRouterEvents(router, logger),
        onOutcome: (outcome) => logOutcome(outcome, logger),
      });
      logger.info({ owner: worker.owner, providers: config.providers.map((provider) => provider.name) }, 'worker started');
    }
  } catch (error) {
    await app?.close();
    await worker?.stop({ graceMs: 0 });
    await store.close();
    throw error;
  }

  let reloading: Promise<ReloadResult> = Promise.resolve({ status: 'unchanged' });
  async function reloadOnce(): Promise<ReloadResult> {
    const previous = config;
    let next: MailrouteConfig;
    let restartNeeded: string[];
    try {
      const { config: raw } = await readConfig(options.source, options.env);
      const candidate = withCaptureFallback(raw).config;
      restartNeeded = RESTART_SECTIONS.filter((section) => differ(candidate[section], previous[section]));
      if (!differ([candidate.providers, candidate.routing], [previous.providers, previous.routing])) {
        if (restartNeeded.length > 0)
          logger.warn({ sections: restartNeeded }, 'these sections changed and take effect only after a restart');
        else logger.info({ file: options.source.path }, 'configuration unchanged');
        return { status: 'unchanged' };
      }
      next = effective(raw, logger);
      worker?.reload(next);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.error({ file: options.source.path, error: message }, 'configuration rejected; the previous configuration stays in force');
      return { status: 'rejected', error: message };
    }
    config = { ...previous, providers: next.providers, routing: next.routing };
    const providers = config.providers.map((provider) => provider.name);
    logger.info({ file: options.source.path, providers, strategy: config.routing.strategy }, 'configuration reloaded');
    if (restartNeeded.length > 0) logger.warn({ sections: restartNeeded }, 'these sections changed and take effect only after a restart');
    return { status: 'reloaded', providers };
  }

  let stopped: Promise<void> | undefined;
  return {
    ...(url ? { url } : {}),
    ...(worker ? { worker } : {}),
    store,
    reload() {
      reloading = reloading.then(reloadOnce, reloadOnce);
      return reloading;
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        // Fastify answers 503 to new requests and waits for the ones in flight (their mail is committed).
        await app?.close();
        await worker?.stop();
        await store.close();
      })();
      return stopped;
    },
  };
}

const differ = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);

function listeningUrl(app: FastifyInstance): string {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return String(address);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
