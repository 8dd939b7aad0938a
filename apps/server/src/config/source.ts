import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfigFile, parseConfig } from './load.js';
import type { MailrouteConfig } from './schema.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Looked for in the working directory when neither `--config` nor `MAILROUTE_CONFIG` names a file. */
export const DEFAULT_CONFIG_FILES = ['mailroute.yaml', 'mailroute.yml', 'mailroute.json'] as const;

export interface ConfigSource {
  /** Absolute path of the file; for the defaults, the first default name (watched, so creating it takes effect). */
  readonly path: string;
  /** Named by flag or environment: then a missing file is an error, not the defaults. */
  readonly explicit: boolean;
}

export function resolveConfigSource(flag: string | undefined, env: Env, cwd = process.cwd()): ConfigSource {
  const named = flag ?? env.MAILROUTE_CONFIG;
  if (named !== undefined && named !== '') return { path: resolve(cwd, named), explicit: true };
  const found = DEFAULT_CONFIG_FILES.map((name) => resolve(cwd, name)).find((path) => existsSync(path));
  return { path: found ?? resolve(cwd, DEFAULT_CONFIG_FILES[0]), explicit: false };
}

export interface LoadedConfig {
  readonly config: MailrouteConfig;
  /** False when no file exists and the embedded defaults apply. */
  readonly fromFile: boolean;
}

/** Reads and validates the configuration; throws `ConfigError` with every problem. */
export async function readConfig(source: ConfigSource, env: Env): Promise<LoadedConfig> {
  if (!source.explicit && !existsSync(source.path)) return { config: parseConfig('', env), fromFile: false };
  return { config: await loadConfigFile(source.path, env), fromFile: true };
}
