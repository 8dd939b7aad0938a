import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import { sessionTokenOf } from '@mailroute/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface RateLimitSettings {
  readonly enabled: boolean;
  readonly perMinute: number;
}

/**
 * One bucket per API key (its hash: the key itself never sits in memory longer than the
 * request) or console session, or per client address for requests without either. Buckets live in this process,
 * so with several API processes the limit applies per process.
 */
export function rateLimitKey(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const token = header?.replace(/^Bearer\s+/i, '').trim();
  if (token) return `key:${createHash('sha256').update(token).digest('base64url').slice(0, 22)}`;
  const session = sessionTokenOf(request.headers.cookie);
  if (session) return `session:${createHash('sha256').update(session).digest('base64url').slice(0, 22)}`;
  return `ip:${request.ip}`;
}

export async function registerRateLimit(app: FastifyInstance, settings: RateLimitSettings): Promise<void> {
  if (!settings.enabled) return;
  await app.register(rateLimit, {
    global: true,
    max: settings.perMinute,
    timeWindow: 60_000,
    keyGenerator: rateLimitKey,
    // Thrown by the plugin; the app's error handler answers it (tRPC shape on /trpc).
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: `rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`,
    }),
  });
}
