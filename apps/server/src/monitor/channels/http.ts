/** Why a channel did not take a notice, in words safe to store: never the channel's address (it is a secret). */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
}

export interface PostOptions {
  readonly timeoutMs: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Longest part of an error answer kept: enough for Slack's `invalid_payload` or a proxy's page title. */
const ANSWER_CHARS = 300;

/**
 * POSTs a JSON body and waits for a 2xx answer, all within `timeoutMs`. Redirects are not
 * followed: a webhook address that moved is a configuration problem to see, not to chase.
 */
export async function postJson(url: string, body: unknown, options: PostOptions): Promise<void> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let answer: string;
  let status: number;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal,
    });
    status = response.status;
    answer = await response.text();
  } catch (error) {
    if (signal.aborted) throw new ChannelError(`no answer within ${options.timeoutMs} ms`);
    throw new ChannelError(`request failed: ${describeFetchError(error)}`);
  }
  if (status < 200 || status > 299) {
    const text = answer.trim().replace(/\s+/g, ' ').slice(0, ANSWER_CHARS);
    throw new ChannelError(`HTTP ${status}${text ? `: ${text}` : ''}`);
  }
}

/** fetch says only "fetch failed"; the reason (ECONNREFUSED, a TLS error) is in its cause. */
function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
