import type { FieldIssue } from '@mailroute/core';
import { createTRPCClient, httpBatchLink, httpLink, TRPCClientError } from '@trpc/client';
import type { ApiErrorData } from '../errors.js';
import type { AppRouter } from '../router.js';

/** The typed tRPC client over HTTP, as apps use it (batching unless told otherwise). */
export function apiClient(url: string, apiKey: string | undefined, options: { batch?: boolean } = {}) {
  const headers = apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` };
  const link = options.batch === false ? httpLink<AppRouter>({ url, headers }) : httpBatchLink<AppRouter>({ url, headers });
  return createTRPCClient<AppRouter>({ links: [link] });
}

export interface Failure {
  readonly code: string;
  readonly httpStatus: number;
  readonly message: string;
  readonly issues: readonly FieldIssue[];
}

/** Awaits a call that must fail and returns what the API said. */
export async function failure(call: Promise<unknown>): Promise<Failure> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    const data = error.data as ApiErrorData | undefined;
    if (!data) throw error;
    return { code: data.code, httpStatus: data.httpStatus, message: error.message, issues: data.issues };
  }
  throw new Error('the call succeeded but was expected to fail');
}
