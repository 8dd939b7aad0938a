import { apiKeyScopes, isStoreError, type MailStore } from '@mailroute/store';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';

export interface FirstAdminKeyOptions {
  /** `MAILROUTE_ADMIN_KEY`, read by the CLI: the operator's own secret, stored as its hash. */
  readonly providedKey?: string | undefined;
  readonly logger: Logger;
  /** Where a drawn key is shown once: standard output, never the structured log. */
  readonly print: (text: string) => void;
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
export async function ensureFirstAdminKey(store: MailStore, { providedKey, logger, print }: FirstAdminKeyOptions): Promise<void> {
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
  print(firstKeyBanner(created.key));
  logger.info({ keyId: created.id, prefix: created.prefix }, 'first admin key created and printed once on standard output');
}
