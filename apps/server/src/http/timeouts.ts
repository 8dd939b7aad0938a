import type { ServerOptions } from 'node:http';
import type { FastifyInstance } from 'fastify';

export interface TimeoutSettings {
  readonly headersMs: number;
  readonly bodyIdleMs: number;
  readonly requestMs: number;
  readonly keepAliveMs: number;
}

/**
 * Node's own limits: headers (slow-header clients), the whole request (a body that trickles
 * forever), idle keep-alive connections. Node checks the first two on a timer of its own
 * (30 s by default); here it runs every tenth of the shorter limit, at most every second.
 */
export function serverTimeoutOptions(timeouts: TimeoutSettings): {
  readonly requestTimeout: number;
  readonly keepAliveTimeout: number;
  readonly http: ServerOptions;
} {
  const checkEveryMs = Math.max(50, Math.min(1_000, Math.floor(Math.min(timeouts.headersMs, timeouts.requestMs) / 10)));
  return {
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    http: { headersTimeout: timeouts.headersMs, connectionsCheckingInterval: checkEveryMs },
  };
}

/**
 * A request body that receives no byte for `idleMs` is cut: the connection is closed, and with
 * it whatever the body held of the budget. Only while the body arrives: a request being
 * handled, or a keep-alive connection between requests, is not timed by this.
 */
export function registerBodyIdleTimeout(app: FastifyInstance, idleMs: number): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const raw = request.raw;
    // An injected request (app.inject) has no socket to time.
    if (request.method === 'GET' || request.method === 'HEAD' || raw.complete || typeof raw.setTimeout !== 'function') return payload;
    const onIdle = () => {
      request.log.info({ method: request.method, path: request.url.split('?')[0], idleMs }, 'request body stalled; connection closed');
      raw.socket.destroy();
    };
    raw.setTimeout(idleMs, onIdle);
    const stop = () => {
      raw.off('timeout', onIdle);
      if (!raw.socket.destroyed) raw.socket.setTimeout(0);
    };
    raw.once('end', stop);
    raw.once('close', stop);
    return payload;
  });
}
