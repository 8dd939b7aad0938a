import type { MailError } from '../errors.js';
import type { AttemptRecord } from '../router/events.js';
import type { DispatchOutcome } from './queue.js';

/** Provider message ids are short tokens; a longer one is kept as its head. */
const MAX_PROVIDER_MESSAGE_ID = 256;
const MAX_WHY = 300;

/**
 * An outcome the store refused several times, cut down to what decides the message's fate:
 * the status, each call's provider, timing, result, status code, error code and provider
 * message id. The
 * providers' own words (error text, answer bodies and headers, request summaries) are left out
 * and the error text says why, so the message still moves on instead of holding its lease.
 */
export function minimalOutcome(outcome: DispatchOutcome, why: string): DispatchOutcome {
  const note = `detail not stored: the database refused it (${why.slice(0, MAX_WHY)})`;
  const attempts = outcome.attempts.map((attempt) => minimalAttempt(attempt, note));
  if (outcome.kind === 'sent') {
    return { ...outcome, providerMessageId: outcome.providerMessageId.slice(0, MAX_PROVIDER_MESSAGE_ID), attempts };
  }
  return { ...outcome, error: minimalError(outcome.error, note), attempts };
}

function minimalAttempt(attempt: AttemptRecord, note: string): AttemptRecord {
  const status = statusOf(attempt);
  return {
    messageId: attempt.messageId,
    provider: attempt.provider,
    providerType: attempt.providerType,
    startedAt: attempt.startedAt,
    finishedAt: attempt.finishedAt,
    latencyMs: attempt.latencyMs,
    outcome: attempt.outcome,
    ...(attempt.providerMessageId === undefined ? {} : { providerMessageId: attempt.providerMessageId.slice(0, MAX_PROVIDER_MESSAGE_ID) }),
    ...(status === undefined ? {} : { detail: { status } }),
    ...(attempt.error === undefined ? {} : { error: minimalError(attempt.error, note) }),
  };
}

/** The HTTP status or SMTP reply code: a number, whatever else the answer held. */
function statusOf(attempt: AttemptRecord): number | undefined {
  const status = attempt.detail?.status ?? attempt.error?.detail?.status;
  return typeof status === 'number' && Number.isFinite(status) ? status : undefined;
}

function minimalError(error: MailError, note: string): MailError {
  return {
    code: error.code,
    category: error.category,
    retryable: error.retryable,
    message: note,
    ...(error.provider === undefined ? {} : { provider: error.provider }),
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
  };
}
