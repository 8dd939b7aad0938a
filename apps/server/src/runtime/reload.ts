import type { Logger } from 'pino';
import { withCaptureFallback } from '../config/capture-fallback.js';
import type { MailrouteConfig } from '../config/schema.js';
import { type ConfigSource, readConfig } from '../config/source.js';

export type ReloadResult =
  | { readonly status: 'reloaded'; readonly providers: readonly string[] }
  | { readonly status: 'unchanged' }
  | { readonly status: 'rejected'; readonly error: string };

/** Sections read once at start; a change to them is reported as needing a restart. */
const RESTART_SECTIONS = ['database', 'server', 'worker', 'retry', 'webhooks', 'health', 'metrics', 'alerts'] as const;

export interface ReloaderOptions {
  readonly source: ConfigSource;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  /** The configuration in force. */
  readonly current: () => MailrouteConfig;
  /** The raw file content made ready to run (the capture fallback, with its log line). */
  readonly prepare: (raw: MailrouteConfig) => MailrouteConfig;
  /** Puts new providers and routing in force; throwing rejects the reload. */
  readonly apply: (next: MailrouteConfig) => Promise<void>;
}

const differ = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);

/**
 * Re-reads and validates the configuration file. Providers and routing change in place;
 * anything invalid (the file, a provider that cannot be built) leaves the configuration in
 * force and is logged with the exact problem. Calls run one after another.
 */
export function createReloader({ source, env, logger, current, prepare, apply }: ReloaderOptions): () => Promise<ReloadResult> {
  async function reloadOnce(): Promise<ReloadResult> {
    const previous = current();
    let restartNeeded: string[];
    let providers: string[];
    try {
      const { config: raw } = await readConfig(source, env);
      const candidate = withCaptureFallback(raw).config;
      restartNeeded = RESTART_SECTIONS.filter((section) => differ(candidate[section], previous[section]));
      if (!differ([candidate.providers, candidate.routing], [previous.providers, previous.routing])) {
        if (restartNeeded.length > 0)
          logger.warn({ sections: restartNeeded }, 'these sections changed and take effect only after a restart');
        else logger.info({ file: source.path }, 'configuration unchanged');
        return { status: 'unchanged' };
      }
      const next = prepare(raw);
      await apply(next);
      providers = next.providers.map((provider) => provider.name);
      logger.info({ file: source.path, providers, strategy: next.routing.strategy }, 'configuration reloaded');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.error({ file: source.path, error: message }, 'configuration rejected; the previous configuration stays in force');
      return { status: 'rejected', error: message };
    }
    if (restartNeeded.length > 0) logger.warn({ sections: restartNeeded }, 'these sections changed and take effect only after a restart');
    return { status: 'reloaded', providers };
  }

  let queue: Promise<ReloadResult> = Promise.resolve({ status: 'unchanged' });
  return () => {
    queue = queue.then(reloadOnce, reloadOnce);
    return queue;
  };
}
