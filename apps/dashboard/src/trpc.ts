import type { AppRouter } from '@mailroute/api';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
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
 * Same origin, so fetch and EventSource send the HttpOnly session cookie by themselves; every
 * call carries the header the server demands of cookie-authenticated changes (a cross-site form
 * cannot set it). Subscriptions go over server-sent events, everything else in batches.
 */
export function createClient() {
  const url = `${location.origin}/trpc`;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url }),
        false: httpBatchLink({ url, headers: { 'x-mailroute-csrf': '1' } }),
      }),
    ],
  });
}

export type Client = ReturnType<typeof createClient>;
