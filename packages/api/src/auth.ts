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
  /** The live key behind a console session token; undefined when the session ended or its key was revoked. */
  session(token: string): Promise<{ readonly key: ApiKeyRecord; readonly expiresAt: number } | undefined>;
  /** Stops trusting a session at once (signed out here). */
  forgetSession(token: string): void;
  /** Stops trusting a key at once (it was just revoked). */
  forget(keyId: string): void;
}

/**
 * Looking a key up costs a database query; a busy app would pay it on every send. Console
 * sessions are cached the same way, so a key revoked in another process ends them within
 * KEY_CACHE_MS too.
 */
export function createKeyCache(store: MailStore, clock: () => number = Date.now): KeyCache {
  const entries = new Map<string, { readonly key: ApiKeyRecord; readonly until: number }>();
  const sessions = new Map<string, { readonly key: ApiKeyRecord; readonly expiresAt: number; readonly until: number }>();
  return {
    async session(token) {
      const hit = sessions.get(token);
      const now = performance.now();
      if (hit && hit.until > now && hit.expiresAt > clock()) return hit;
      const found = await store.authenticateSession(token);
      if (!found) {
        sessions.delete(token);
        return undefined;
      }
      if (sessions.size >= MAX_CACHED_KEYS) sessions.clear();
      sessions.set(token, { ...found, until: now + KEY_CACHE_MS });
      return found;
    },
    forgetSession(token) {
      sessions.delete(token);
    },
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
      for (const [token, entry] of sessions) if (entry.key.id === keyId) sessions.delete(token);
    },
  };
}
