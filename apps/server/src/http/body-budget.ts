import type { FastifyInstance, FastifyRequest } from 'fastify';
import { refusalOf, validKeyOf } from './caller.js';
import { drainRequest, sendEdgeError } from './errors.js';

/** One budget of request bodies in memory at once. */
export interface BodyPool {
  readonly budgetBytes: number;
  /** The largest body a request of this kind may send. */
  readonly bodyLimitBytes: number;
  /** The setting that sizes the budget, named in refusals. */
  readonly setting: string;
}

export interface BodyPools {
  /** Requests with a valid API key. */
  readonly authenticated: BodyPool;
  /** Requests without a valid key (other than webhooks): a small allowance, enough to answer them. */
  readonly anonymous: BodyPool;
  /** Provider webhooks: no API key (their signature is checked after the body is read). */
  readonly webhooks: BodyPool;
}

/**
 * Request bodies in memory at once. A 10 MB message costs several times its size while it is
 * parsed, validated and stored; without a budget, a burst of large uploads would exhaust the
 * heap and take every request in the process down with it.
 *
 * Three budgets, so no kind of caller can starve another: authenticated API requests, provider
 * webhooks, and everyone else. The reservation happens after the key was checked (onRequest)
 * and before a byte of the body is read. An authenticated or webhook request that does not fit
 * waits for nothing: 503 with Retry-After. A request without a valid key that does not fit the
 * small anonymous allowance is answered 401 at once, its body left unread and its connection
 * closed with the answer: it cannot hold anything while it trickles.
 */
export function registerBodyBudget(app: FastifyInstance, pools: BodyPools): void {
  const inFlight = new Map<BodyPool, number>([
    [pools.authenticated, 0],
    [pools.anonymous, 0],
    [pools.webhooks, 0],
  ]);
  // By the matched route: a made-up path under /webhooks/ is a 404 like any other, in the anonymous allowance.
  const poolOf = (request: FastifyRequest): BodyPool =>
    request.routeOptions.url?.startsWith('/webhooks/') ? pools.webhooks : validKeyOf(request) ? pools.authenticated : pools.anonymous;

  app.addHook('preParsing', async (request, reply, payload) => {
    if (request.method === 'GET' || request.method === 'HEAD') return payload;
    const pool = poolOf(request);
    const declared = Number(request.headers['content-length']);
    // Without a length (chunked), the body may grow to the limit.
    const size = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, pool.bodyLimitBytes) : pool.bodyLimitBytes;
    const used = inFlight.get(pool) ?? 0;
    if (pool === pools.anonymous && used + size > pool.budgetBytes) {
      await sendEdgeError(
        request,
        reply,
        'UNAUTHENTICATED',
        `${refusalOf(request)}; without a valid API key a request body is limited to ${pool.budgetBytes} bytes across such requests (${pool.setting})`,
      );
      return payload;
    }
    // A lone request always fits, so the largest allowed body is never refused for good.
    if (used > 0 && used + size > pool.budgetBytes) {
      // Read and dropped (nothing kept), so the client gets the answer instead of a broken pipe.
      await drainRequest(request.raw);
      reply.header('retry-after', '1').header('connection', 'close');
      await sendEdgeError(
        request,
        reply,
        'UNAVAILABLE',
        `too many large requests in progress (${pool.setting} ${pool.budgetBytes}); retry shortly`,
      );
      return payload;
    }
    inFlight.set(pool, used + size);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight.set(pool, (inFlight.get(pool) ?? 0) - size);
    };
    reply.raw.once('finish', release);
    reply.raw.once('close', release);
    return payload;
  });
}
