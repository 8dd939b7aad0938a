import type { FastifyInstance } from 'fastify';
import { drainRequest, sendEdgeError } from './errors.js';

/**
 * Request bodies in memory at once, across requests. A 10 MB message costs several times its
 * size while it is parsed, validated and stored; without a budget, a burst of large uploads
 * would exhaust the heap and take every request in the process down with it. A request that
 * does not fit waits for nothing: it gets 503 with Retry-After and the client tries again.
 */
export function registerBodyBudget(app: FastifyInstance, budgetBytes: number, bodyLimitBytes: number): void {
  let inFlight = 0;
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    const declared = Number(request.headers['content-length']);
    // Without a length (chunked), the body may grow to the limit.
    const size = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, bodyLimitBytes) : bodyLimitBytes;
    // A lone request always fits, so the largest allowed body is never refused for good.
    if (inFlight > 0 && inFlight + size > budgetBytes) {
      // Read and dropped (nothing kept), so the client gets the answer instead of a broken pipe.
      await drainRequest(request.raw);
      reply.header('retry-after', '1').header('connection', 'close');
      return sendEdgeError(
        request,
        reply,
        'UNAVAILABLE',
        `too many large requests in progress (server.bodyBytesInFlight ${budgetBytes}); retry shortly`,
      );
    }
    inFlight += size;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight -= size;
    };
    reply.raw.once('finish', release);
    reply.raw.once('close', release);
  });
}
