import type { AppRouter } from '@mailroute/api';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { createTRPCContext } from '@trpc/tanstack-react-query';

export type Outputs = inferRouterOutputs<AppRouter>;
export type Inputs = inferRouterInputs<AppRouter>;
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** The API error code (`UNAUTHENTICATED`, `FORBIDDEN`, ...) of a failed call, if it has one. */
export function apiCodeOf(error: unknown): string | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data = error.data as { code?: unknown } | undefined;
  return typeof data?.code === 'string' ? data.code : undefined;
}

/** Whether a call failed because the request never got an answer (server down, network lost). */
export function isConnectionError(error: unknown): boolean {
  return error instanceof TRPCClientError && error.data === undefined && !('shape' in error && error.shape);
}

/**
 * The client sends the session cookie (fetch does for the same origin); `bearer` is the key held in memory only
 * until the server signs the session in, and never written to storage.
 */
export function createClient(bearer: () => string | undefined) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${location.origin}/trpc`,
        headers: () => {
          const key = bearer();
          return key ? { authorization: `Bearer ${key}` } : {};
        },
      }),
    ],
  });
}

export type Client = ReturnType<typeof createClient>;
