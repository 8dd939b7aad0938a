import type { ApiKeyRecord, MailStore } from '@mailroute/store';

/**
 * How long a checked key is trusted without asking the database again. A key revoked through
 * this process stops at once; revoked elsewhere (another api process), within this time.
 */
export const KEY_CACHE_MS = 5_000;
const MAX_CACHED_KEYS = 10_000;

export interface KeyCache {
  /** The live key this secret belongs to; undefined for an unknown or revoked one. */
  authenticate(secret: string): Promise<ApiKeyRecord | undefined>;
  /** Stops trusting a key at once (it was just revoked). */
  forget(keyId: string): void;
}

/** Looking a key up costs a database query; a busy app would pay it on every send. */
export function createKeyCache(store: MailStore): KeyCache {
  const entries = new Map<string, { readonly key: ApiKeyRecord; readonly until: number }>();
  return {
    async authenticate(secret) {
      const hit = entries.get(secret);
      if (hit && hit.until > performance.now()) return hit.key;
      const key = await store.authenticateApiKey(secret);
      if (!key) {
        entries.delete(secret);
        return undefined;
      }
      if (entries.size >= MAX_CACHED_KEYS) entries.clear();
      entries.set(secret, { key, until: performance.now() + KEY_CACHE_MS });
      return key;
    },
    forget(keyId) {
      for (const [secret, entry] of entries) if (entry.key.id === keyId) entries.delete(secret);
    },
  };
}
