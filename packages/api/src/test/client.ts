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

/** A browser's view: a cookie jar, and the console's CSRF header unless told otherwise. */
export function browserClient(url: string, options: { csrf?: boolean; headers?: Record<string, string> } = {}) {
  const jar = new Map<string, string>();
  const setCookies: string[] = [];
  const fetchWithJar = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    if (options.csrf !== false) headers.set('x-mailroute-csrf', '1');
    for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
    const response = await fetch(input, { ...init, headers });
    for (const cookie of response.headers.getSetCookie()) {
      setCookies.push(cookie);
      const [pair = ''] = cookie.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index);
      const value = pair.slice(index + 1);
      if (value === '' || /max-age=0/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  };
  const client = createTRPCClient<AppRouter>({ links: [httpLink<AppRouter>({ url, fetch: fetchWithJar as never })] });
  return { client, jar, setCookies };
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
