import { errorCodes, type FieldIssue, type MailError } from '@mailroute/core';
import { isStoreError, type StoreError, type StoreErrorCode } from '@mailroute/store';
import { TRPCError } from '@trpc/server';

type TrpcCode = TRPCError['code'];

/**
 * The stable, machine-readable codes the API answers with in `error.data.code`, each with the
 * tRPC code (and so the HTTP status) it travels as. Apps branch on these, never on messages.
 */
export const apiErrorCodes = {
  INVALID_INPUT: { trpc: 'BAD_REQUEST', description: 'The input failed validation; `issues` names each field at fault.' },
  INVALID_MESSAGE: { trpc: 'BAD_REQUEST', description: 'The message failed validation (address, header, size or shape); see `issues`.' },
  RECIPIENT_SUPPRESSED: { trpc: 'BAD_REQUEST', description: 'A recipient is on the suppression list; `issues` names each one.' },
  INVALID_JSON: { trpc: 'BAD_REQUEST', description: 'The request body or input is not valid JSON.' },
  UNSUPPORTED_REQUEST: { trpc: 'METHOD_NOT_SUPPORTED', description: 'Wrong HTTP method or content type for this procedure.' },
  PAYLOAD_TOO_LARGE: { trpc: 'PAYLOAD_TOO_LARGE', description: 'The request body is larger than the server accepts.' },
  UNAUTHENTICATED: { trpc: 'UNAUTHORIZED', description: 'No API key, or an unknown or revoked one (`Authorization: Bearer <key>`).' },
  FORBIDDEN: { trpc: 'FORBIDDEN', description: "The API key's scopes do not allow this procedure; the message names the missing scope." },
  SENDER_NOT_ALLOWED: {
    trpc: 'FORBIDDEN',
    description: "The message's `from` is not among its tenant's allowed senders (`senders.list`); `issues` names `from.email`.",
  },
  NOT_FOUND: { trpc: 'NOT_FOUND', description: 'No such message, key or procedure (for this tenant).' },
  INVALID_STATE: { trpc: 'CONFLICT', description: 'The message is not in a state that allows this (e.g. cancelling sent mail).' },
  IDEMPOTENCY_CONFLICT: {
    trpc: 'CONFLICT',
    description: 'The idempotency key was used before for a message with other content; the message names the original id.',
  },
  RATE_LIMITED: {
    trpc: 'TOO_MANY_REQUESTS',
    description: 'Too many requests or messages for this key (without one, this address); retry after Retry-After.',
  },
  UNAVAILABLE: { trpc: 'SERVICE_UNAVAILABLE', description: 'The server is shutting down or cannot reach its database; retry.' },
  INTERNAL: { trpc: 'INTERNAL_SERVER_ERROR', description: 'An unexpected error; the server log has the detail.' },
} as const satisfies Record<string, { trpc: TrpcCode; description: string }>;

export type ApiErrorCode = keyof typeof apiErrorCodes;

/** What `error.data` holds in every error the API answers with. */
export interface ApiErrorData {
  readonly code: ApiErrorCode;
  readonly httpStatus: number;
  /** The procedure, when the error came from one. */
  readonly path?: string;
  /** Field problems: `path` is dot-separated from the procedure's input (`to.0.email`). */
  readonly issues: readonly FieldIssue[];
}

/** An error the API means to show: its code, a message for people, and the fields at fault. */
export class ApiFault extends Error {
  override readonly name = 'ApiFault';
  readonly code: ApiErrorCode;
  readonly issues: readonly FieldIssue[];

  /** For RATE_LIMITED: when to try again, sent as the Retry-After header. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ApiErrorCode, message: string, issues: readonly FieldIssue[] = [], retryAfterSeconds?: number) {
    super(message);
    this.code = code;
    this.issues = issues;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function rateLimitedError(message: string, retryAfterSeconds: number): TRPCError {
  return new TRPCError({ code: 'TOO_MANY_REQUESTS', message, cause: new ApiFault('RATE_LIMITED', message, [], retryAfterSeconds) });
}

/** The seconds a refused call should wait before trying again, when the error says. */
export function retryAfterOf(error: TRPCError): number | undefined {
  return error.cause instanceof ApiFault ? error.cause.retryAfterSeconds : undefined;
}

export function apiError(code: ApiErrorCode, message: string, issues: readonly FieldIssue[] = []): TRPCError {
  const fault = new ApiFault(code, message, issues);
  return new TRPCError({ code: apiErrorCodes[code].trpc, message, cause: fault });
}

/** Core's error table onto ours: message faults are the caller's (400); the rest are not expected from the API. */
export function faultFromMailError(error: MailError): ApiFault {
  const code: ApiErrorCode =
    error.code in apiErrorCodes
      ? (error.code as ApiErrorCode)
      : errorCodes[error.code].category === 'message'
        ? 'INVALID_MESSAGE'
        : errorCodes[error.code].category === 'rate_limited'
          ? 'RATE_LIMITED'
          : 'UNAVAILABLE';
  return new ApiFault(code, error.message, error.issues ?? []);
}

const storeCodes: Record<StoreErrorCode, ApiErrorCode> = {
  INVALID_INPUT: 'INVALID_INPUT',
  INVALID_STATE: 'INVALID_STATE',
  NOT_FOUND: 'NOT_FOUND',
  CLOSED: 'UNAVAILABLE',
};

export function faultFromStoreError(error: StoreError): ApiFault {
  const issues = error.details?.issues;
  return new ApiFault(storeCodes[error.code], error.message, Array.isArray(issues) ? (issues as FieldIssue[]) : []);
}

/** What tRPC raises by itself (bad JSON, unknown procedure, body too large, ...), as our codes. */
const fromTrpc: Partial<Record<TrpcCode, ApiErrorCode>> = {
  BAD_REQUEST: 'INVALID_INPUT',
  METHOD_NOT_SUPPORTED: 'UNSUPPORTED_REQUEST',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_REQUEST',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNAUTHORIZED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'INVALID_STATE',
  TOO_MANY_REQUESTS: 'RATE_LIMITED',
  SERVICE_UNAVAILABLE: 'UNAVAILABLE',
};

interface IssueLike {
  readonly path?: readonly unknown[];
  readonly message?: unknown;
  readonly code?: unknown;
  readonly keys?: readonly unknown[];
}

/** A validator's issues (zod or any Standard Schema) as field issues; unknown keys are named one by one. */
function validationIssues(issues: readonly IssueLike[]): FieldIssue[] {
  return issues.flatMap((issue) => {
    const path = (issue.path ?? []).map((part) => String(typeof part === 'object' && part !== null && 'key' in part ? part.key : part));
    if (issue.code === 'unrecognized_keys' && Array.isArray(issue.keys)) {
      return issue.keys.map((key) => ({ path: [...path, String(key)].join('.'), message: 'unknown field' }));
    }
    return [{ path: path.join('.') || '(input)', message: String(issue.message ?? 'invalid') }];
  });
}

function hasIssues(value: unknown): value is { issues: IssueLike[] } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { issues?: unknown }).issues);
}

/**
 * The one place errors become API errors: our faults, store errors, validation errors and
 * tRPC's own. Anything else is INTERNAL, and its message is never shown (it may hold SQL,
 * paths or data); the original stays the `cause` for the server's log.
 */
export function toApiFault(error: TRPCError): ApiFault {
  const { cause } = error;
  if (cause instanceof ApiFault) return cause;
  if (isStoreError(cause)) return faultFromStoreError(cause);
  if ((error.code === 'BAD_REQUEST' && cause instanceof SyntaxError) || error.code === 'PARSE_ERROR')
    return new ApiFault('INVALID_JSON', `malformed JSON: ${error.message}`);
  if (error.code === 'BAD_REQUEST' && hasIssues(cause)) {
    const issues = validationIssues(cause.issues);
    return new ApiFault('INVALID_INPUT', `invalid input: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, issues);
  }
  const code = fromTrpc[error.code];
  if (code === undefined || code === 'UNAVAILABLE')
    return new ApiFault(code ?? 'INTERNAL', 'internal error; the server log has the detail');
  return new ApiFault(code, error.message);
}

/** Gives an error the tRPC code that matches its API code (a store NOT_FOUND thrown in a resolver becomes 404). */
export function toTrpcError(error: TRPCError): TRPCError {
  const fault = toApiFault(error);
  const trpc = apiErrorCodes[fault.code].trpc;
  if (error.cause === fault && error.code === trpc) return error;
  return new TRPCError({ code: trpc, message: fault.message, cause: fault.code === 'INTERNAL' ? (error.cause ?? error) : fault });
}
