import type { ProviderHealth } from '@mailroute/core';
import type { ApiKeyRecord, MailStore } from '@mailroute/store';
import { createKeyCache, type KeyCache } from './auth.js';
import { createLiveCache, type LiveCache } from './live-cache.js';
import { createSenderChecker, type SenderChecker } from './sender-check.js';
import { sessionTokenOf } from './session-cookie.js';
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
  /** How long a console sign-in lasts (`dashboard.sessionTtlMs`; default 12 h). */
  readonly sessionTtlMs?: number;
  /** The console's address (`dashboard.publicUrl`), for links in answers; absent when not configured. */
  readonly dashboardUrl?: string;
  /** Messages a key may submit now; absent, no message limit. */
  readonly messageQuota?: MessageQuota;
}

/** A per-key budget of messages, charged before anything is stored. */
export interface MessageQuota {
  /** Charges `messages` to the key, or answers why not (nothing charged). */
  take(keyId: string, messages: number): { readonly message: string; readonly retryAfterSeconds: number } | undefined;
}

export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60_000;

/** What the API reads from an HTTP request. */
export interface RequestInfo {
  readonly authorization: string | undefined;
  /** The Cookie header: a console session acts as its key when there is no Authorization header. */
  readonly cookie?: string | undefined;
  /** The request carried the x-mailroute-csrf header (required of cookie-authenticated mutations). */
  readonly csrf?: boolean;
  /** The request came over TLS, directly or through a trusted proxy: the session cookie is then Secure. */
  readonly secure?: boolean;
  /** Who the HTTP edge already identified (through the same key cache), so the key is looked up once. */
  readonly caller?: Caller;
}

/**
 * Who is calling: a live key (by its bearer secret, or by a console session cookie), or why
 * there is none (answered as UNAUTHENTICATED by every procedure).
 */
export type Caller =
  | { readonly key: ApiKeyRecord; readonly via: 'bearer' }
  | { readonly key: ApiKeyRecord; readonly via: 'session'; readonly session: { readonly token: string; readonly expiresAt: number } }
  | { readonly refusal: string };

export interface ApiContext {
  readonly deps: ApiDependencies;
  readonly now: () => number;
  readonly caller: Caller;
  /** Shared by every request this factory serves. */
  readonly keys: KeyCache;
  readonly suppressions: SuppressionChecker;
  readonly senders: SenderChecker;
  readonly request: RequestInfo;
  /** Whether the caller's key (or console session) is still live: long-running subscriptions ask again. */
  readonly stillSignedIn: () => Promise<boolean>;
  /** Shared live snapshots (live.overview). */
  readonly live: LiveCache;
  /** `Set-Cookie` values for this response (sign-in, sign-out); `apiResponseMeta` sends them. */
  readonly setCookies: string[];
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * One context per HTTP request (a batch shares it): the key is looked up once. An unknown
 * key is not an error here, so every procedure answers it the same way, batched or not.
 * `keys` is the cache the HTTP edge identifies callers with, when it does.
 */
export function createContextFactory(
  deps: ApiDependencies,
  keys: KeyCache = createKeyCache(deps.store, deps.now),
): (request: RequestInfo) => Promise<ApiContext> {
  const now = deps.now ?? Date.now;
  const suppressions = createSuppressionChecker(deps.store);
  const senders = createSenderChecker(deps.store);
  const live = createLiveCache();
  return async (request) => {
    const caller = request.caller ?? (await identifyCaller(keys, request));
    return {
      deps,
      now,
      keys,
      suppressions,
      senders,
      request,
      live,
      setCookies: [],
      caller,
      stillSignedIn: () => stillSignedIn(keys, request, caller),
    };
  };
}

async function stillSignedIn(keys: KeyCache, request: RequestInfo, caller: Caller): Promise<boolean> {
  if ('refusal' in caller) return false;
  const again = await identifyCaller(keys, request);
  return 'key' in again && again.key.id === caller.key.id;
}

/** The live key an `Authorization` header names, or, without one, the console session cookie; or why there is none. */
export async function identifyCaller(
  keys: KeyCache,
  request: { readonly authorization: string | undefined; readonly cookie?: string | undefined },
): Promise<Caller> {
  const { authorization } = request;
  if (authorization === undefined || authorization.trim() === '') {
    const token = sessionTokenOf(request.cookie);
    if (token === undefined) return { refusal: 'missing API key: send the header Authorization: Bearer <key>, or sign in to the console' };
    const session = await keys.session(token);
    if (!session) return { refusal: 'the console session has ended (signed out, expired, or its key was revoked): sign in again' };
    return { key: session.key, via: 'session', session: { token, expiresAt: session.expiresAt } };
  }
  const secret = BEARER.exec(authorization)?.[1];
  if (secret === undefined) return { refusal: 'the Authorization header must be Bearer <key>' };
  const key = await keys.authenticate(secret);
  return key ? { key, via: 'bearer' } : { refusal: 'unknown or revoked API key' };
}

/** tRPC's `responseMeta` for every host: sends the cookies a procedure set (sign-in, sign-out). */
export function apiResponseMeta({ ctx }: { ctx?: ApiContext | undefined }): { headers?: Record<string, string[]> } {
  return ctx && ctx.setCookies.length > 0 ? { headers: { 'set-cookie': [...ctx.setCookies] } } : {};
}
