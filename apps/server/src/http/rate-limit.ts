import rateLimit, { type FastifyRateLimitStore, normalizeIP } from '@fastify/rate-limit';
import type { MessageQuota } from '@mailroute/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { validKeyOf } from './caller.js';
import { FixedWindows } from './fixed-windows.js';

export interface RateLimitSettings {
  readonly enabled: boolean;
  readonly perMinute: number;
  readonly messagesPerMinute: number;
}

const WINDOW_MS = 60_000;
/** Only keys that exist get a bucket of their own, so this is never reached by a flood; it bounds memory all the same. */
const KEY_BUCKETS = 100_000;
/** Client addresses (IPv6 by /64): a flood from many addresses drops other addresses' buckets, never a key's. */
const ADDRESS_BUCKETS = 10_000;

/**
 * A valid API key counts on its own (by its id); anything else (no key, a malformed, unknown or
 * revoked one) counts against the client address, so inventing bearer tokens buys nothing.
 * Buckets live in this process: with several API processes the limit applies per process.
 */
export function rateLimitKey(request: FastifyRequest): string {
  const key = validKeyOf(request);
  return key ? `key:${key.id}` : `ip:${normalizeIP(request.ip)}`;
}

/** The plugin's store over two tables, so addresses never take room from valid keys. */
export class SplitStore implements FastifyRateLimitStore {
  private readonly keys: FixedWindows;
  private readonly addresses: FixedWindows;

  /** The plugin constructs its store with its own options, which name neither size. */
  constructor({ keyBuckets = KEY_BUCKETS, addressBuckets = ADDRESS_BUCKETS }: { keyBuckets?: number; addressBuckets?: number } = {}) {
    this.keys = new FixedWindows(WINDOW_MS, keyBuckets);
    this.addresses = new FixedWindows(WINDOW_MS, addressBuckets);
  }

  incr(name: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void): void {
    const { count, resetInMs } = (name.startsWith('key:') ? this.keys : this.addresses).add(name, 1);
    callback(null, { current: count, ttl: resetInMs });
  }

  child(): FastifyRateLimitStore {
    return new SplitStore();
  }
}

export async function registerRateLimit(app: FastifyInstance, settings: RateLimitSettings): Promise<void> {
  if (!settings.enabled) return;
  await app.register(rateLimit, {
    global: true,
    max: settings.perMinute,
    timeWindow: WINDOW_MS,
    keyGenerator: rateLimitKey,
    store: SplitStore,
    // Thrown by the plugin; the app's error handler answers it (tRPC shape on /trpc).
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: `rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`,
    }),
  });
}

/**
 * Messages per key and minute. The request limit counts a batch of 1,000 as one request; this
 * counts it as 1,000 messages. A submission that would pass the limit is refused whole, so a
 * batch is never half stored.
 */
export function createMessageQuota(messagesPerMinute: number): MessageQuota {
  const windows = new FixedWindows(WINDOW_MS, KEY_BUCKETS);
  return {
    take(keyId, messages) {
      const now = Date.now();
      const { count, resetInMs } = windows.peek(keyId, now);
      const retryAfterSeconds = Math.max(1, Math.ceil(resetInMs / 1000));
      if (messages > messagesPerMinute) {
        return {
          message: `a batch of ${messages} messages is more than the limit of ${messagesPerMinute} messages per minute (server.rateLimit.messagesPerMinute); send smaller batches`,
          retryAfterSeconds,
        };
      }
      if (count + messages > messagesPerMinute) {
        return {
          message: `message limit of ${messagesPerMinute} per minute reached (server.rateLimit.messagesPerMinute): ${count} already submitted with this key in this minute; retry in ${retryAfterSeconds} s`,
          retryAfterSeconds,
        };
      }
      windows.add(keyId, messages, now);
      return undefined;
    },
  };
}
