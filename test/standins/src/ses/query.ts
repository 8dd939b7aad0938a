/** An Authorization header the emulator accepts: it only checks the `AWS` prefix, never the signature. */
export const FAKE_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=00';

export interface SesQueryOptions {
  /** Defaults to `FAKE_AUTHORIZATION`; `null` sends none. */
  readonly authorization?: string | null;
  readonly timeoutMs?: number;
}

/** One unsigned SES Query API call (form POST), for probing the stand-ins without the SDK. */
export function sesQuery(url: string, params: Readonly<Record<string, string>>, options: SesQueryOptions = {}): Promise<Response> {
  const authorization = options.authorization === undefined ? FAKE_AUTHORIZATION : options.authorization;
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      ...(authorization === null ? {} : { authorization }),
    },
    body: new URLSearchParams({ Version: '2010-12-01', ...params }).toString(),
    signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
  });
}

/** Form parameters of a SendRawEmail call carrying `mime`. */
export function sendRawEmailParams(mime: string | Buffer, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { Action: 'SendRawEmail', 'RawMessage.Data': Buffer.from(mime).toString('base64'), ...extra };
}
