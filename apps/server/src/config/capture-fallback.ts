import { resolve } from 'node:path';
import type { MailrouteConfig } from './schema.js';

/** Where mail goes when no provider is configured, relative to the working directory. */
export const CAPTURE_FALLBACK_DIRECTORY = 'data/captured';

/**
 * A fresh install has no provider credentials; rather than refusing mail it keeps every
 * message as .eml + .json files, so the quick start works and nothing leaves the machine.
 * Returns the folder when the fallback applies.
 */
export function withCaptureFallback(config: MailrouteConfig, cwd = process.cwd()): { config: MailrouteConfig; captureDirectory?: string } {
  if (config.providers.length > 0) return { config };
  const directory = resolve(cwd, CAPTURE_FALLBACK_DIRECTORY);
  return {
    config: { ...config, providers: [{ type: 'capture', name: 'capture', directory, maxInMemory: 1000 }] },
    captureDirectory: directory,
  };
}
