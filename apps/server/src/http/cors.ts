import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * Browsers may call the API only from the listed origins; with none, the server sends no CORS
 * header at all (the default). Another origin's preflight and requests get no Access-Control-*
 * header, so the browser refuses to send or withholds the answer. Bearer keys, never
 * cookies: no credentials mode. Registered before any other onRequest hook, so a preflight
 * (which carries no key) is answered before keys, rate limits and budgets look at it.
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  await app.register(cors, {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
    methods: ['GET', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    // So a browser app can read when to retry after 429 or 503.
    exposedHeaders: ['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
    maxAge: 600,
  });
}
