/**
 * The error taxonomy. Every failure mailroute reports is one of these stable codes;
 * the category decides what the router does with it:
 * - `message`: the message itself is at fault and would fail on any provider. No failover,
 *   never counts against a provider's circuit breaker.
 * - `provider`: this provider cannot take mail right now (5xx, auth, config, unreachable).
 *   Fail over at once; counts against the breaker.
 * - `rate_limited`: the provider asked us to slow down. Fail over; carries retry-after.
 * - `ambiguous`: the request was written and the provider may have accepted it (timeout or
 *   reset after writing, 504). Resending elsewhere risks a duplicate; policy decides.
 */
export type ErrorCategory = 'message' | 'provider' | 'rate_limited' | 'ambiguous';

interface ErrorCodeSpec {
  readonly category: ErrorCategory;
  readonly description: string;
}

export const errorCodes = {
  INVALID_MESSAGE: {
    category: 'message',
    description: 'The message failed validation (address, header, size or shape).',
  },
  INVALID_RECIPIENT: {
    category: 'message',
    description: 'The provider rejected a recipient address as invalid or non-existent.',
  },
  INVALID_SENDER: {
    category: 'message',
    description: 'The provider rejected the sender address as malformed.',
  },
  CONTENT_REJECTED: {
    category: 'message',
    description: 'The provider refused the content (spam, virus, policy).',
  },
  MESSAGE_TOO_LARGE: {
    category: 'message',
    description: 'The message exceeds the size a provider accepts.',
  },
  RECIPIENT_SUPPRESSED: {
    category: 'message',
    description: 'A recipient is on the suppression list.',
  },
  IDEMPOTENCY_CONFLICT: {
    category: 'message',
    description: 'The idempotency key was used before for a message with other content.',
  },
  PROVIDER_AUTH: {
    category: 'provider',
    description: 'The provider refused our credentials (401, 403, SMTP 535).',
  },
  PROVIDER_CONFIG: {
    category: 'provider',
    description: 'The provider account cannot send this (sender not verified, account paused).',
  },
  PROVIDER_BAD_REQUEST: {
    category: 'provider',
    description: 'The provider rejected the request format; another provider may accept it.',
  },
  PROVIDER_UNAVAILABLE: {
    category: 'provider',
    description: 'The provider answered with a server error (5xx, SMTP 4xx).',
  },
  PROVIDER_UNREACHABLE: {
    category: 'provider',
    description: 'No request reached the provider (connection refused, DNS, TLS, connect timeout).',
  },
  PROVIDER_BUSY: {
    category: 'provider',
    description: 'This process already has as many calls in flight to the provider as allowed.',
  },
  PROVIDER_ERROR: {
    category: 'provider',
    description: 'The provider failed in a way no other code describes; detail has its words.',
  },
  BREAKER_OPEN: {
    category: 'provider',
    description: "The provider's circuit breaker is open; it was not called.",
  },
  PROVIDER_DISABLED: {
    category: 'provider',
    description: 'An operator disabled or drained the provider; it was not called.',
  },
  NO_PROVIDER: {
    category: 'provider',
    description: 'Every provider failed or was skipped; retry later.',
  },
  RATE_LIMITED: {
    category: 'rate_limited',
    description: 'The provider asked us to slow down (429, throttling); see retryAfterMs.',
  },
  TIMEOUT: {
    category: 'ambiguous',
    description: 'No answer within the timeout after the request was written.',
  },
  CONNECTION_RESET: {
    category: 'ambiguous',
    description: 'The connection broke after the request was written.',
  },
  GATEWAY_TIMEOUT: {
    category: 'ambiguous',
    description: 'A gateway in front of the provider timed out (504); the provider may have sent.',
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof errorCodes;

/** What the provider said, kept whole (secrets redacted) for the attempt log. */
export interface ProviderDetail {
  /** HTTP status or SMTP reply code. */
  readonly status?: number;
  /** The provider's own error code or SDK error name (e.g. `Throttling`, `EAUTH`). */
  readonly code?: string;
  /** The provider's response body or reply text, parsed when it was JSON. */
  readonly body?: unknown;
  /** Response headers that matter (request ids, rate limit headers). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Whether the request had been written to the wire when the failure happened. */
  readonly requestWritten?: boolean;
}

export interface MailError {
  readonly code: ErrorCode;
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  readonly message: string;
  /** Provider instance name, when a provider produced the failure. */
  readonly provider?: string;
  /** Earliest sensible retry, in milliseconds from when the failure was observed. */
  readonly retryAfterMs?: number;
  readonly detail?: ProviderDetail;
  /** For INVALID_MESSAGE: the field path of each problem, e.g. `to.0.email`. */
  readonly issues?: readonly FieldIssue[];
}

export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

export interface MailErrorInit {
  readonly provider?: string;
  readonly retryAfterMs?: number;
  readonly detail?: ProviderDetail;
  readonly issues?: readonly FieldIssue[];
}

export function mailError(code: ErrorCode, message: string, init: MailErrorInit = {}): MailError {
  const { category } = errorCodes[code];
  return {
    code,
    category,
    retryable: category !== 'message',
    message,
    ...init,
  };
}

export function isMailError(value: unknown): value is MailError {
  if (typeof value !== 'object' || value === null) return false;
  const code = (value as { code?: unknown }).code;
  return typeof code === 'string' && Object.hasOwn(errorCodes, code) && 'category' in value;
}
