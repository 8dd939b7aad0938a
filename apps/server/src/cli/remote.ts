import { createMailrouteClient } from '@mailroute/client';
import { readConfig, resolveConfigSource } from '../config/source.js';
import { type CliIo, UsageError } from './io.js';

export const remoteFlags = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  config: { type: 'string' },
} as const;

export type MailrouteClient = ReturnType<typeof createMailrouteClient>;

/**
 * The API is found by `--url`, then `MAILROUTE_URL`, then the address in the configuration
 * (what `mailroute serve` on this machine listens on); the key by `--api-key`, then
 * `MAILROUTE_API_KEY`.
 */
export async function connect(
  values: { readonly url?: string | undefined; readonly 'api-key'?: string | undefined; readonly config?: string | undefined },
  io: CliIo,
): Promise<MailrouteClient> {
  const apiKey = values['api-key'] ?? io.env.MAILROUTE_API_KEY;
  if (!apiKey)
    throw new UsageError(
      'no API key: pass --api-key or set MAILROUTE_API_KEY (the first start prints the first admin key on a terminal, else writes it to data/admin-key.txt)',
    );
  let url = values.url ?? io.env.MAILROUTE_URL;
  if (!url) {
    const { server } = (await readConfig(resolveConfigSource(values.config, io.env), io.env)).config;
    const host = server.host === '0.0.0.0' || server.host === '::' ? '127.0.0.1' : server.host;
    url = `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
  }
  return createMailrouteClient({ url, apiKey, timeoutMs: 30_000, fetch: explainedFetch(url) });
}

/**
 * Node's fetch says only `fetch failed` when the server cannot be reached; the reason
 * (ECONNREFUSED, ENOTFOUND, a timeout) is in its cause. The CLI says where and why.
 */
function explainedFetch(url: string): typeof globalThis.fetch {
  return async (input, init) => {
    try {
      return await globalThis.fetch(input, init);
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new Error(`no answer from the API at ${url}: ${networkCause(error)}`, { cause: error });
      }
      throw new Error(`cannot reach the API at ${url}: ${networkCause(error)} (is mailroute serving there? --url or MAILROUTE_URL)`, {
        cause: error,
      });
    }
  };
}

/** The innermost reason of a network failure: undici nests it in `cause`, or in `errors` when every address failed. */
export function networkCause(error: unknown): string {
  let reason: unknown = error;
  while (reason instanceof Error && reason.cause instanceof Error) reason = reason.cause;
  if (reason instanceof AggregateError && reason.errors.length > 0) {
    return [...new Set(reason.errors.map((inner) => (inner instanceof Error ? inner.message : String(inner))))].join('; ');
  }
  return reason instanceof Error ? reason.message : String(reason);
}

interface ApiErrorShape {
  readonly message: string;
  readonly data?: {
    readonly code?: string;
    readonly httpStatus?: number;
    readonly issues?: readonly { path: string; message: string }[];
  } | null;
}

/** The API's answer in a person's words: its code, message and every field at fault. */
export function describeApiError(error: unknown): { text: string; badInput: boolean } {
  const shape = error as ApiErrorShape;
  const code = shape.data?.code;
  const issues = (shape.data?.issues ?? []).map((issue) => `\n  ${issue.path}: ${issue.message}`).join('');
  const message = error instanceof Error ? error.message : String(error);
  return { text: `${code ? `${code}: ` : ''}${message}${issues}`, badInput: shape.data?.httpStatus === 400 };
}
