import type { IncomingMessage } from 'node:http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { FastifyReply, FastifyRequest } from 'fastify';

type TrpcCodeKey = keyof typeof TRPC_ERROR_CODES_BY_KEY;

/** The codes this edge answers with before tRPC sees the request, in the API's vocabulary. */
const edgeCodes = {
  PAYLOAD_TOO_LARGE: { status: 413, trpc: 'PAYLOAD_TOO_LARGE' },
  RATE_LIMITED: { status: 429, trpc: 'TOO_MANY_REQUESTS' },
  UNAUTHENTICATED: { status: 401, trpc: 'UNAUTHORIZED' },
  UNSUPPORTED_REQUEST: { status: 415, trpc: 'UNSUPPORTED_MEDIA_TYPE' },
  INVALID_INPUT: { status: 400, trpc: 'BAD_REQUEST' },
  NOT_FOUND: { status: 404, trpc: 'NOT_FOUND' },
  UNAVAILABLE: { status: 503, trpc: 'SERVICE_UNAVAILABLE' },
  INTERNAL: { status: 500, trpc: 'INTERNAL_SERVER_ERROR' },
} as const satisfies Record<string, { status: number; trpc: TrpcCodeKey }>;

export type EdgeCode = keyof typeof edgeCodes;

/**
 * Refusals by the HTTP layer (body limits and budgets, rate limit) reach tRPC callers in tRPC's own error
 * shape, so the typed client reads `error.data.code` (`RATE_LIMITED`, ...) as for any API
 * error; a batch gets the same error for every call. Other paths get plain JSON.
 */
export function sendEdgeError(request: FastifyRequest, reply: FastifyReply, code: EdgeCode, message: string): FastifyReply {
  const { status, trpc } = edgeCodes[code];
  reply.code(status);
  // A body left unread (refused before it was read) is not waited for: the connection ends with the answer.
  if (request.raw.complete === false) reply.header('connection', 'close');
  if (!request.url.startsWith('/trpc/')) return reply.send({ statusCode: status, code, message });
  const path = request.url.slice('/trpc/'.length).split('?')[0];
  return reply.send({
    error: {
      code: TRPC_ERROR_CODES_BY_KEY[trpc],
      message,
      data: { code, httpStatus: status, ...(path ? { path: decodeURIComponent(path) } : {}), issues: [] },
    },
  });
}

/** Fastify's own error codes for requests refused before a handler ran. */
export function edgeCodeOf(fastifyCode: string | undefined, status: number): EdgeCode {
  switch (fastifyCode) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'PAYLOAD_TOO_LARGE';
    case 'RATE_LIMITED':
      return 'RATE_LIMITED';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'UNSUPPORTED_REQUEST';
    default:
      return status === 404 ? 'NOT_FOUND' : status === 503 ? 'UNAVAILABLE' : status < 500 ? 'INVALID_INPUT' : 'INTERNAL';
  }
}

/** A refused body is read and thrown away up to this much, then the connection is cut. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Answering 413 before the client has finished uploading makes most HTTP clients fail with
 * a broken pipe instead of showing the 413. The rest of the body is read and discarded
 * first (within limits), so the caller sees the reason.
 */
export function drainRequest(stream: IncomingMessage): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DRAIN_LIMIT_BYTES) done();
    };
    const timer = setTimeout(done, DRAIN_TIMEOUT_MS);
    stream.on('data', onData);
    stream.once('end', done);
    stream.once('error', done);
    stream.once('close', done);
    stream.resume();
  });
}
