import { type ErrorCode, type MailError, mailError, type ProviderDetail, redact, redactString } from '@mailroute/core';

export interface SesFailureContext {
  /** Provider instance name. */
  readonly provider: string;
  /** From the wire tracker; `undefined` when it could not tell. */
  readonly requestWritten: boolean | undefined;
  /** Configured secret values (secret access key, session token), masked wherever they appear. */
  readonly secrets: readonly string[];
}

/** SES never sends Retry-After; its sending rate is per second. */
export const THROTTLE_RETRY_MS = 1_000;
/** The daily quota is a rolling 24 h window: retrying within minutes is pointless. */
export const DAILY_QUOTA_RETRY_MS = 60 * 60_000;

const THROTTLE_CODES = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException']);
const AUTH_CODES = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'ExpiredToken',
  'ExpiredTokenException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidAccessKeyId',
  'OptInRequired',
  'CredentialsProviderError',
]);
/** The SDK names modelled errors `<Code>Exception`; unmodelled ones keep the wire code. */
const CONFIG_CODES = new Set([
  'MailFromDomainNotVerifiedException',
  'ConfigurationSetDoesNotExistException',
  'ConfigurationSetDoesNotExist',
  'AccountSendingPausedException',
  'ConfigurationSetSendingPausedException',
  'FromEmailAddressNotVerifiedException',
  'ProductionAccessNotGrantedException',
]);
/** Rejections that are about the account (sandbox, sending authorization), not the message. */
const ACCOUNT_REJECTION = /not verified|not authorized|sending paused|sending is disabled/i;
const TOO_LARGE = /message length is more than|message is too large|exceeds the maximum message size/i;
const ADDRESS_PROBLEM =
  /illegal address|missing final '@domain'|local address contains|domain contains (illegal|control)|domain (starts|ends) with dot|invalid (email|recipient|destination) address/i;

/** Failures before the request left: no connection, DNS, TLS. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;
/** The connection broke; whether SES saw the request depends on whether it was written. */
const BROKEN_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

interface ServiceError {
  readonly name: string;
  readonly message: string;
  readonly status: number | undefined;
  readonly fault: string | undefined;
  readonly type: string | undefined;
  readonly wireCode: string | undefined;
  readonly requestId: string | undefined;
}

/** An SDK error, network error or abort turned into a `MailError`; the raw error never leaks. */
export function classifySesError(error: unknown, context: SesFailureContext): MailError {
  const service = asServiceError(error);
  return service ? classifyServiceError(service, context) : classifyTransportError(error, context);
}

function classifyServiceError(error: ServiceError, context: SesFailureContext): MailError {
  const { code, retryAfterMs } = serviceErrorCode(error);
  const detail: ProviderDetail = {
    ...(error.status === undefined ? {} : { status: error.status }),
    code: error.name,
    body: {
      message: error.message,
      ...(error.type === undefined ? {} : { type: error.type }),
      ...(error.wireCode === undefined ? {} : { code: error.wireCode }),
      ...(error.fault === undefined ? {} : { fault: error.fault }),
    },
    ...(error.requestId === undefined ? {} : { headers: { 'x-amzn-requestid': error.requestId } }),
    requestWritten: true,
  };
  const status = error.status === undefined ? '' : ` ${error.status}`;
  return build(code, `SES answered${status} ${error.name}: ${error.message}`, context, detail, retryAfterMs);
}

function serviceErrorCode(error: ServiceError): { code: ErrorCode; retryAfterMs?: number } {
  const names = [error.name, error.wireCode];
  const is = (codes: ReadonlySet<string>) => names.some((name) => name !== undefined && codes.has(name));
  if (is(THROTTLE_CODES) || error.status === 429) {
    return { code: 'RATE_LIMITED', retryAfterMs: /daily message quota/i.test(error.message) ? DAILY_QUOTA_RETRY_MS : THROTTLE_RETRY_MS };
  }
  if (is(AUTH_CODES)) return { code: 'PROVIDER_AUTH' };
  if (is(CONFIG_CODES)) return { code: 'PROVIDER_CONFIG' };
  if (error.name === 'MessageRejected') {
    if (ACCOUNT_REJECTION.test(error.message)) return { code: 'PROVIDER_CONFIG' };
    if (TOO_LARGE.test(error.message)) return { code: 'MESSAGE_TOO_LARGE' };
    if (ADDRESS_PROBLEM.test(error.message)) return { code: 'INVALID_RECIPIENT' };
    return { code: 'CONTENT_REJECTED' };
  }
  if (names.includes('InvalidParameterValue') && ADDRESS_PROBLEM.test(error.message)) return { code: 'INVALID_RECIPIENT' };
  if (error.status === 504) return { code: 'GATEWAY_TIMEOUT' };
  if ((error.status ?? 0) >= 500 || error.fault === 'server') return { code: 'PROVIDER_UNAVAILABLE' };
  if (error.status !== undefined && error.status >= 400) return { code: 'PROVIDER_BAD_REQUEST' };
  return { code: 'PROVIDER_ERROR' };
}

function classifyTransportError(error: unknown, context: SesFailureContext): MailError {
  const { name, code, message, cause } = describe(error);
  const written = context.requestWritten;
  const detail: ProviderDetail = {
    code: code ?? name,
    body: { name, message, ...(cause === undefined ? {} : { cause }) },
    ...(written === undefined ? {} : { requestWritten: written }),
  };
  const fail = (errorCode: ErrorCode, text: string, requestWritten: boolean | undefined = written) =>
    build(errorCode, text, context, requestWritten === undefined ? detail : { ...detail, requestWritten });

  if (name === 'AbortError') {
    const reason = cause === undefined ? '' : `: ${cause}`;
    return written
      ? fail('TIMEOUT', `the call to SES was aborted after the request was sent${reason}`)
      : fail('PROVIDER_UNREACHABLE', `the call to SES was aborted before the request was sent${reason}`, false);
  }
  if (name === 'CredentialsProviderError') {
    return fail('PROVIDER_AUTH', `no AWS credentials for SES: ${message}`, false);
  }
  if ((code !== undefined && (UNREACHABLE_CODES.has(code) || TLS_CODE.test(code))) || /did not establish a connection/.test(message)) {
    return fail('PROVIDER_UNREACHABLE', `SES is unreachable: ${message}`, false);
  }
  if (code !== undefined && BROKEN_CODES.has(code)) {
    return written === false
      ? fail('PROVIDER_UNREACHABLE', `the connection to SES broke before the request was sent: ${message}`)
      : fail('CONNECTION_RESET', `the connection to SES broke after the request was sent: ${message}`);
  }
  if (name === 'TimeoutError' || code === 'ETIMEDOUT') {
    return written === false
      ? fail('PROVIDER_UNREACHABLE', `SES timed out before the request was sent: ${message}`)
      : fail('TIMEOUT', `SES did not answer in time: ${message}`);
  }
  return fail('PROVIDER_ERROR', `SES call failed: ${name}: ${message}`);
}

function build(code: ErrorCode, message: string, context: SesFailureContext, detail: ProviderDetail, retryAfterMs?: number): MailError {
  return mailError(code, redactString(message, context.secrets), {
    provider: context.provider,
    detail: redact(detail, context.secrets),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** The AWS SDK marks errors SES answered with `$fault` and `$metadata.httpStatusCode`. */
function asServiceError(error: unknown): ServiceError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as {
    name?: unknown;
    message?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
    Type?: unknown;
    Code?: unknown;
  };
  const status = candidate.$metadata?.httpStatusCode;
  if (typeof candidate.$fault !== 'string' || typeof status !== 'number') return undefined;
  return {
    name: text(candidate.name) ?? 'Unknown',
    message: text(candidate.message) ?? '',
    status,
    fault: candidate.$fault,
    type: text(candidate.Type),
    wireCode: text(candidate.Code),
    requestId: text(candidate.$metadata?.requestId),
  };
}

function describe(error: unknown): { name: string; code: string | undefined; message: string; cause: string | undefined } {
  if (!(error instanceof Error)) return { name: typeof error, code: undefined, message: String(error), cause: undefined };
  const { code } = error as { code?: unknown };
  const { cause } = error;
  return {
    name: error.name,
    code: text(code),
    message: error.message,
    cause: cause instanceof Error ? cause.message : cause === undefined ? undefined : String(cause),
  };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
