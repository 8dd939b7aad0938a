import { type Caller, identifyCaller, type KeyCache } from '@mailroute/api';
import type { ApiKeyRecord } from '@mailroute/store';
import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who called, for API requests (identified before any body is read); undefined elsewhere. */
    caller: Caller | undefined;
  }
}

/**
 * Identifies the API key (or console session) of every request to /trpc as it arrives, before its body is read: the
 * body budget and the rate limit depend on whether the key is valid. The same key cache (and
 * the same answer) serves the tRPC context, so a key is looked up once per request.
 */
export function registerCallerIdentification(app: FastifyInstance, keys: KeyCache): void {
  app.decorateRequest('caller', undefined);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/trpc/')) return;
    request.caller = await identifyCaller(keys, { authorization: request.headers.authorization, cookie: request.headers.cookie });
  });
}

/** The live API key of the request, if it has one. */
export function validKeyOf(request: FastifyRequest): ApiKeyRecord | undefined {
  return request.caller && 'key' in request.caller ? request.caller.key : undefined;
}

/** Why the request has no live key (missing, malformed, unknown, revoked). */
export function refusalOf(request: FastifyRequest): string {
  return request.caller && 'refusal' in request.caller ? request.caller.refusal : 'no valid API key';
}
