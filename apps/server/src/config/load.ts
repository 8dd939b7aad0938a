import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { configSchema, type MailrouteConfig } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Replaces `${NAME}` with the value of environment variable NAME, so secrets stay out of
 * the file. A missing variable is an error, not an empty string: an empty API key would
 * only fail later, at the first send.
 */
export function interpolateEnv(text: string, env: Readonly<Record<string, string | undefined>>): string {
  const missing = new Set<string>();
  const out = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
    const value = env[name];
    if (value === undefined) missing.add(name);
    return value ?? '';
  });
  if (missing.size > 0) throw new ConfigError(`environment variables not set: ${[...missing].join(', ')}`);
  return out;
}

/** Parses and validates configuration text (YAML or JSON; JSON is YAML). */
export function parseConfig(text: string, env: Readonly<Record<string, string | undefined>>): MailrouteConfig {
  let raw: unknown;
  try {
    raw = parseYaml(interpolateEnv(text, env)) ?? {};
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // The parser quotes the offending lines after the first; they may hold an interpolated secret.
    const [summary] = (error as Error).message.split('\n');
    throw new ConfigError(`configuration is not valid YAML/JSON: ${summary?.replace(/:$/, '')}`);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

export async function loadConfigFile(path: string, env: Readonly<Record<string, string | undefined>>): Promise<MailrouteConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read configuration file ${path}: ${(error as Error).message}`);
  }
  return parseConfig(text, env);
}
