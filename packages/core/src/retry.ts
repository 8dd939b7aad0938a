/**
 * Retry policy for messages every provider failed: exponential backoff with full jitter
 * (delay drawn uniformly from 0 to min(maxDelay, base * 2^(n-1))), a cap on dispatch rounds
 * and on the age of the message. A round that tried no provider in normal operation (every
 * breaker open, every provider disabled, or only half-open probes) does not count toward the
 * cap: such mail waits until a provider takes it or the age cap passes. Pure functions: the
 * caller supplies time and randomness.
 */
export interface RetryPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Dispatch rounds that tried a provider (breaker closed) before the message is dead. */
  readonly maxAttempts: number;
  /** Age since acceptance after which the message is dead instead of retried. */
  readonly maxAgeMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  baseDelayMs: 2_000,
  maxDelayMs: 10 * 60_000,
  maxAttempts: 12,
  maxAgeMs: 24 * 60 * 60_000,
};

export type RetryDecision =
  | { readonly action: 'retry'; readonly at: number }
  | { readonly action: 'dead'; readonly reason: 'max_attempts' | 'max_age' };

/** Full-jitter delay before round `attempt + 1`, where `attempt` rounds have failed (>= 1). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(exponent, 30));
  return Math.floor(random() * ceiling);
}

export interface RetryInput {
  /** Dispatch rounds that tried a provider and failed so far, including the one just finished if it did. */
  readonly attempts: number;
  /** Whether the round just finished tried a provider (the router's `tried`; default true). */
  readonly tried?: boolean;
  /** When the message was accepted (epoch ms). */
  readonly acceptedAt: number;
  readonly now: number;
  /** Earliest time a provider said it could take mail again (Retry-After), epoch ms. */
  readonly notBefore?: number | undefined;
}

export function decideRetry(
  input: RetryInput,
  policy: RetryPolicy = defaultRetryPolicy,
  random: () => number = Math.random,
): RetryDecision {
  const tried = input.tried ?? true;
  if (tried && input.attempts >= policy.maxAttempts) return { action: 'dead', reason: 'max_attempts' };
  // Nothing was tried: look again when a breaker lets a probe through (notBefore), and never
  // sooner than the base delay, so a fully disabled provider list is not polled in a loop.
  const delay = tried
    ? backoffDelay(input.attempts, policy, random)
    : policy.baseDelayMs + backoffDelay(Math.max(1, input.attempts), policy, random);
  const at = Math.max(input.now + delay, input.notBefore ?? 0);
  if (at - input.acceptedAt > policy.maxAgeMs) return { action: 'dead', reason: 'max_age' };
  return { action: 'retry', at };
}
