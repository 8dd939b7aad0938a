import type { Logger } from 'pino';
import { withCaptureFallback } from '../config/capture-fallback.js';
import { ConfigError } from '../config/load.js';
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
  /** Whether the configuration in force was read from the file (false: embedded defaults, no file yet). */
  readonly fromFile: boolean;
  /** Whether the capture fallback is in force (no provider configured when the process started). */
  readonly capturing: boolean;
  /** Hears every outcome, e.g. for the reload metrics. */
  readonly onResult?: (result: ReloadResult) => void;
}

const differ = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);

/**
 * Re-reads and validates the configuration file. Providers and routing change in place;
 * anything invalid (the file, a provider that cannot be built) leaves the configuration in
 * force and is logged with the exact problem. Calls run one after another.
 *
 * Never fails open: once the configuration came from a file, a file that disappears or
 * cannot be read is an invalid file, not a return to the embedded defaults; and a process
 * that sends through real providers never switches to the capture fallback by itself (mail
 * would be marked sent and delivered nowhere). Only a restart without providers does that.
 */
export function createReloader(options: ReloaderOptions): () => Promise<ReloadResult> {
  const { source, env, logger, current, prepare, apply } = options;
  let fromFile = options.fromFile;
  let capturing = options.capturing;

  async function reloadOnce(): Promise<ReloadResult> {
    const previous = current();
    let restartNeeded: string[];
    let providers: string[];
    try {
      const loaded = await readConfig(fromFile ? { ...source, explicit: true } : source, env);
      if (loaded.fromFile) fromFile = true;
      const raw = loaded.config;
      if (raw.providers.length === 0 && !capturing) {
        throw new ConfigError(
          'no providers configured: a running process does not switch to the capture provider by itself (restart it to run without providers)',
        );
      }
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
      capturing = raw.providers.length === 0;
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

  async function reportedReload(): Promise<ReloadResult> {
    const result = await reloadOnce();
    options.onResult?.(result);
    return result;
  }

  let queue: Promise<ReloadResult> = Promise.resolve({ status: 'unchanged' });
  return () => {
    queue = queue.then(reportedReload, reportedReload);
    return queue;
  };
}
