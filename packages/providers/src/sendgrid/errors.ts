import { type ErrorCode, type MailError, mailError, type ProviderDetail, redact, redactString } from '@mailroute/core';

export interface SendGridFailureContext {
  readonly provider: string;
  /** Whether the whole request had been written to the connection when the failure happened. */
  readonly requestWritten: boolean;
  /** Configured secret values (the API key) to mask wherever they appear. */
  readonly secrets: readonly string[];
  /** Clock for turning `X-RateLimit-Reset` (epoch seconds) into a wait. */
  readonly now: () => number;
}

/** An HTTP answer from SendGrid, as the SDK's ResponseError carries it. */
export interface SendGridResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

interface SendGridApiError {
  readonly message: string;
  readonly field: string | null;
}

/** Failures before any byte reached SendGrid: nothing can have been sent. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const TLS_FAILURE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|EPROTO/i;
/** The connection broke; after the request was written SendGrid may have taken the message. */
const CONNECTION_BROKEN = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE']);
const RECIPIENT_FIELD = /^personalizations\.\d+\.(to|cc|bcc)\.\d+\.email$/;
const INVALID_ADDRESS = /does not contain a valid address/i;
/**
 * The key is fine but the account cannot send: unverified sender, suspended account, or
 * (answered with 401, not 403) "Maximum credits exceeded". An operator fixes these, not a new key.
 */
const ACCOUNT_PROBLEM =
  /sender identity|credits|account (is |has been )?(disabled|suspended|deactivated|paused|under review)|billing|not authorized to send from this ip/i;
/** Response headers kept in the attempt log: request ids, message id, rate limit. */
const KEPT_HEADER = /^(x-|retry-after$|date$)/i;

/** Classifies a failed SendGrid call (the SDK's ResponseError, or axios' network error) into our taxonomy. */
export function classifySendGridError(error: unknown, context: SendGridFailureContext): MailError {
  const response = responseOf(error);
  return response ? classifyResponse(response, context) : classifyTransportError(error, context);
}

function classifyResponse(response: SendGridResponse, context: SendGridFailureContext): MailError {
  const errors = apiErrors(response.body);
  const [code, summary] = decideByStatus(response.status, errors);
  const retryAfterMs = code === 'RATE_LIMITED' ? retryAfterOf(response.headers, context.now) : undefined;
  const words = errors.map((error) => (error.field ? `${error.field}: ${error.message}` : error.message)).join('; ');
  const detail: ProviderDetail = {
    status: response.status,
    ...(response.body === undefined || response.body === '' ? {} : { body: response.body }),
    headers: keptHeaders(response.headers),
    requestWritten: true,
  };
  return mailError(code, redactString(`${context.provider} ${summary} (${response.status})${words ? `: ${words}` : ''}`, context.secrets), {
    provider: context.provider,
    detail: redact(detail, context.secrets),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

function decideByStatus(status: number, errors: readonly SendGridApiError[]): readonly [ErrorCode, string] {
  const says = (pattern: RegExp) => errors.some((error) => pattern.test(error.message));
  switch (status) {
    case 400:
      if (errors.some(isRecipientError)) return ['INVALID_RECIPIENT', 'refused a recipient address'];
      if (errors.some((error) => error.field === 'from.email' && INVALID_ADDRESS.test(error.message))) {
        return ['INVALID_SENDER', 'refused the sender address'];
      }
      return ['PROVIDER_BAD_REQUEST', 'rejected the request'];
    case 401:
      return says(ACCOUNT_PROBLEM) ? ['PROVIDER_CONFIG', 'cannot send from this account'] : ['PROVIDER_AUTH', 'refused the API key'];
    case 403:
      return says(ACCOUNT_PROBLEM)
        ? ['PROVIDER_CONFIG', 'cannot send from this account or sender']
        : ['PROVIDER_AUTH', 'refused the API key for this request'];
    case 404:
    case 405:
      return ['PROVIDER_CONFIG', 'has no such endpoint (check baseUrl)'];
    case 413:
      return ['MESSAGE_TOO_LARGE', 'refused the message as too large'];
    case 429:
      return ['RATE_LIMITED', 'asked us to slow down'];
    case 504:
      return ['GATEWAY_TIMEOUT', 'gateway timed out; the message may have been accepted'];
  }
  if (status >= 500) return ['PROVIDER_UNAVAILABLE', 'answered with a server error'];
  return ['PROVIDER_ERROR', 'answered unexpectedly'];
}

function isRecipientError(error: SendGridApiError): boolean {
  if (error.field !== null && RECIPIENT_FIELD.test(error.field)) return true;
  const aboutSender = error.field?.startsWith('from') ?? false;
  return !aboutSender && INVALID_ADDRESS.test(error.message);
}

/** `X-RateLimit-Reset` is when the window resets, in epoch seconds. */
function retryAfterOf(headers: Readonly<Record<string, string>>, now: () => number): number | undefined {
  const reset = Number(headers['x-ratelimit-reset']);
  if (!Number.isFinite(reset) || reset <= 0) return undefined;
  return Math.max(0, reset * 1000 - now());
}

function classifyTransportError(error: unknown, context: SendGridFailureContext): MailError {
  const { code, message } = transportFacts(error);
  const [errorCode, summary, requestWritten] = decideTransport(code, context.requestWritten);
  const detail: ProviderDetail = { ...(code ? { code } : {}), body: message, requestWritten };
  return mailError(errorCode, redactString(`${context.provider} ${summary}: ${message}`, context.secrets), {
    provider: context.provider,
    detail: redact(detail, context.secrets),
  });
}

function decideTransport(code: string | undefined, written: boolean): readonly [ErrorCode, string, boolean] {
  if (code === 'ERR_CANCELED') {
    return written
      ? ['TIMEOUT', 'call was cut off after the request was sent; it may have been accepted', true]
      : ['PROVIDER_UNREACHABLE', 'call was cut off before the request was sent', false];
  }
  if (code !== undefined && (NEVER_CONNECTED.has(code) || TLS_FAILURE.test(code))) {
    return ['PROVIDER_UNREACHABLE', 'could not be reached', false];
  }
  if (code !== undefined && (CONNECTION_BROKEN.has(code) || code.startsWith('HPE_'))) {
    return written
      ? ['CONNECTION_RESET', 'connection broke after the request was sent; it may have been accepted', true]
      : ['PROVIDER_UNREACHABLE', 'connection broke before the request was sent', false];
  }
  return ['PROVIDER_ERROR', 'call failed', written];
}

function responseOf(error: unknown): SendGridResponse | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, response } = error as { code?: unknown; response?: unknown };
  if (typeof code !== 'number' || typeof response !== 'object' || response === null) return undefined;
  const { body, headers } = response as { body?: unknown; headers?: unknown };
  return { status: code, body, headers: headerRecord(headers) };
}

/** Axios errors carry the socket's code (ECONNRESET, ...) themselves or on their cause. */
function transportFacts(error: unknown): { code: string | undefined; message: string } {
  const err = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown; cause?: unknown };
  const cause = (typeof err.cause === 'object' && err.cause !== null ? err.cause : {}) as { code?: unknown };
  const code = typeof err.code === 'string' ? err.code : typeof cause.code === 'string' ? cause.code : undefined;
  const message = typeof err.message === 'string' && err.message !== '' ? err.message : String(error);
  return { code, message };
}

/** Lower-case names, string values; accepts axios' header object or a plain record. */
export function headerRecord(headers: unknown): Record<string, string> {
  if (typeof headers !== 'object' || headers === null) return {};
  const source = typeof (headers as { toJSON?: unknown }).toJSON === 'function' ? (headers as { toJSON(): unknown }).toJSON() : headers;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(source as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

export function keptHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => KEPT_HEADER.test(name)));
}

function apiErrors(body: unknown): SendGridApiError[] {
  const list = (body as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { message, field } = entry as { message?: unknown; field?: unknown };
    return [{ message: typeof message === 'string' ? message : '', field: typeof field === 'string' ? field : null }];
  });
}
