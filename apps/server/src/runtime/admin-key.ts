import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { apiKeyScopes, isStoreError, type MailStore } from '@mailroute/store';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';

export interface FirstAdminKeyOptions {
  /** `MAILROUTE_ADMIN_KEY`, read by the CLI: the operator's own secret, stored as its hash. */
  readonly providedKey?: string | undefined;
  readonly logger: Logger;
  /** Where a drawn key is shown once on an interactive terminal: standard output, never the structured log. */
  readonly print: (text: string) => void;
  /**
   * Set when standard output is not a terminal (a service manager, a container, a log
   * shipper reads it): a drawn key is written to this owner-only file instead of printed.
   */
  readonly keyFile?: string | undefined;
}

const ADMIN_KEY_NAME = 'first admin key';

export function firstKeyBanner(key: string): string {
  const rule = '='.repeat(72);
  return [
    rule,
    'mailroute: first admin API key. It is shown only this once; store it now.',
    '',
    `    ${key}`,
    '',
    'Use it as MAILROUTE_API_KEY for `mailroute send` / `retry` / `providers`,',
    'and create narrower keys with `mailroute keys create --name NAME --scopes send`.',
    rule,
    '',
  ].join('\n');
}

/**
 * A new installation has no API key and the API accepts nothing without one. The first
 * start takes the operator's key from the environment, or draws one and prints it once.
 * Revoked keys count as keys: revoking the last one does not mint a new admin key.
 */
export async function ensureFirstAdminKey(store: MailStore, { providedKey, logger, print, keyFile }: FirstAdminKeyOptions): Promise<void> {
  const existing = await store.listApiKeys();
  if (existing.length > 0) {
    if (providedKey) logger.info('MAILROUTE_ADMIN_KEY ignored: the database already has API keys');
    return;
  }
  const scopes = [...apiKeyScopes];
  if (providedKey) {
    try {
      const created = await store.createApiKey({ name: ADMIN_KEY_NAME, scopes, key: providedKey });
      logger.info({ keyId: created.id, prefix: created.prefix }, 'first admin key stored (hashed) from MAILROUTE_ADMIN_KEY');
    } catch (error) {
      if (isStoreError(error) && error.code === 'INVALID_INPUT') {
        throw new ConfigError(`MAILROUTE_ADMIN_KEY ${error.message.replace(/^.*key: /, '')}`);
      }
      // Another process starting on the same database stored the same key first.
      if ((await store.listApiKeys()).length === 0) throw error;
    }
    return;
  }
  const created = await store.createApiKey({ name: ADMIN_KEY_NAME, scopes });
  if (keyFile === undefined) {
    print(firstKeyBanner(created.key));
    logger.info({ keyId: created.id, prefix: created.prefix }, 'first admin key created and printed once on standard output');
    return;
  }
  await writeOwnerOnly(keyFile, `${created.key}\n`);
  logger.warn(
    { keyId: created.id, prefix: created.prefix, file: keyFile },
    `first admin key created and written to ${keyFile} (owner-only); store it elsewhere and delete the file`,
  );
}

/** Mode 0600 in a 0700 folder; chmod too, since a file left by an earlier install keeps its old mode. */
async function writeOwnerOnly(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
}
