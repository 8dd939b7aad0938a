import type { ApiErrorCode, ApiErrorData, AppRouter } from '@mailroute/api';
import { createTRPCClient, httpBatchLink, httpLink, type TRPCClient, TRPCClientError } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';

export interface MailrouteClientOptions {
  /** The mailroute server (`http://localhost:3000`) or its tRPC endpoint (`http://localhost:3000/trpc`). */
  readonly url: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  readonly apiKey: string;
  /** Each HTTP request is aborted after this long; the call fails with a TimeoutError cause. Default 30 s. */
  readonly timeoutMs?: number;
  /** A fetch to use instead of the global one (proxies, tests). */
  readonly fetch?: typeof globalThis.fetch;
  /**
   * Calls made in the same tick travel in one HTTP request (default). `false` sends one request
   * per call; `{ maxItems }` caps the calls per request.
   */
  readonly batch?: boolean | { readonly maxItems?: number };
}

export type MailrouteClient = TRPCClient<AppRouter>;
export type MailrouteInputs = inferRouterInputs<AppRouter>;
export type MailrouteOutputs = inferRouterOutputs<AppRouter>;
export type { ApiErrorCode, ApiErrorData, AppRouter };
export { TRPCClientError };

const DEFAULT_TIMEOUT_MS = 30_000;
/** Queries travel as GET with their input in the URL; longer batches are split (proxies refuse long URLs). */
const MAX_URL_LENGTH = 4_000;
/**
 * A batch's URL path lists every procedure name, and mutations do not count against
 * `maxURLLength`: without a cap, a few hundred sends in one tick make a path the server refuses.
 */
const DEFAULT_MAX_ITEMS = 50;

/**
 * The typed client for company apps. Only the router's type comes from the server package, so
 * a bundle of this client carries no server code. Works wherever `fetch` and `AbortSignal.any`
 * exist (Node 20.3+, current browsers).
 */
export function createMailrouteClient(options: MailrouteClientOptions): MailrouteClient {
  const url = endpoint(options.url);
  const headers = { authorization: `Bearer ${options.apiKey}` };
  const fetch = timedFetch(options.fetch, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const batch = options.batch ?? true;
  const link =
    batch === false
      ? httpLink<AppRouter>({ url, headers, fetch })
      : httpBatchLink<AppRouter>({
          url,
          headers,
          fetch,
          maxURLLength: MAX_URL_LENGTH,
          maxItems: batch === true ? DEFAULT_MAX_ITEMS : (batch.maxItems ?? DEFAULT_MAX_ITEMS),
        });
  return createTRPCClient<AppRouter>({ links: [link] });
}

/** The API's machine-readable code of a failed call (`INVALID_MESSAGE`, `UNAUTHENTICATED`, ...); undefined for network failures and timeouts. */
export function errorCodeOf(error: unknown): ApiErrorCode | undefined {
  return error instanceof TRPCClientError ? (error.data as ApiErrorData | null | undefined)?.code : undefined;
}

function endpoint(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/trpc') ? trimmed : `${trimmed}/trpc`;
}

type LinkFetch = NonNullable<Parameters<typeof httpLink<AppRouter>>[0]['fetch']>;

function timedFetch(base: typeof globalThis.fetch | undefined, timeoutMs: number): LinkFetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const request = { ...init, signal } as RequestInit;
    // Called through globalThis: browsers refuse a fetch detached from window.
    return base ? base(input, request) : globalThis.fetch(input, request);
  };
}
