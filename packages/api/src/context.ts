import type { ProviderHealth } from '@mailroute/core';
import type { ApiKeyRecord, MailStore } from '@mailroute/store';
import { createKeyCache, type KeyCache } from './auth.js';
import { createSenderChecker, type SenderChecker } from './sender-check.js';
import { createSuppressionChecker, type SuppressionChecker } from './suppression-check.js';
import type { WebhookDependencies } from './webhooks/types.js';

/** What the API needs from the process that hosts it. */
export interface ApiDependencies {
  readonly store: MailStore;
  /** This process's router view: names, types and live breaker health; undefined in an api-only process. */
  readonly liveProviders?: () => readonly ProviderHealth[];
  /** Names of configured providers (for validation of providers.setState). */
  readonly providerNames: () => readonly string[];
  /** Wakes the in-process worker after requeue (optional). */
  readonly wake?: () => void;
  readonly now?: () => number;
  /** A heartbeat older than this is a dead process, left out of `providers.health` (`health.staleAfterMs`; default 20 s). */
  readonly processStaleAfterMs?: number;
  /** Provider webhook endpoints; absent, they answer 404. */
  readonly webhooks?: WebhookDependencies;
  /** Messages a key may submit now; absent, no message limit. */
  readonly messageQuota?: MessageQuota;
}

/** A per-key budget of messages, charged before anything is stored. */
export interface MessageQuota {
  /** Charges `messages` to the key, or answers why not (nothing charged). */
  take(keyId: string, messages: number): { readonly message: string; readonly retryAfterSeconds: number } | undefined;
}

/** What the API reads from an HTTP request. */
export interface RequestInfo {
  readonly authorization: string | undefined;
  /** Who the HTTP edge already identified from `authorization` (through the same key cache), so the key is looked up once. */
  readonly caller?: Caller;
}

/** Who is calling: a live key, or why there is none (answered as UNAUTHENTICATED by every procedure). */
export type Caller = { readonly key: ApiKeyRecord } | { readonly refusal: string };

export interface ApiContext {
  readonly deps: ApiDependencies;
  readonly now: () => number;
  readonly caller: Caller;
  /** Shared by every request this factory serves. */
  readonly keys: KeyCache;
  readonly suppressions: SuppressionChecker;
  readonly senders: SenderChecker;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * One context per HTTP request (a batch shares it): the key is looked up once. An unknown
 * key is not an error here, so every procedure answers it the same way, batched or not.
 * `keys` is the cache the HTTP edge identifies callers with, when it does.
 */
export function createContextFactory(
  deps: ApiDependencies,
  keys: KeyCache = createKeyCache(deps.store),
): (request: RequestInfo) => Promise<ApiContext> {
  const now = deps.now ?? Date.now;
  const suppressions = createSuppressionChecker(deps.store);
  const senders = createSenderChecker(deps.store);
  return async (request) => ({
    deps,
    now,
    keys,
    suppressions,
    senders,
    caller: request.caller ?? (await identifyCaller(keys, request.authorization)),
  });
}

/** The live key an `Authorization` header names, or why there is none. */
export async function identifyCaller(keys: KeyCache, authorization: string | undefined): Promise<Caller> {
  if (authorization === undefined || authorization.trim() === '') {
    return { refusal: 'missing API key: send the header Authorization: Bearer <key>' };
  }
  const secret = BEARER.exec(authorization)?.[1];
  if (secret === undefined) return { refusal: 'the Authorization header must be Bearer <key>' };
  const key = await keys.authenticate(secret);
  return key ? { key } : { refusal: 'unknown or revoked API key' };
}
