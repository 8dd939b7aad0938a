import { describe, expect, it } from 'vitest';
import { backoffDelay, decideRetry, type RetryPolicy } from './retry.js';

const policy: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 5, maxAgeMs: 3_600_000 };

describe('retry policy', () => {
  it('draws full-jitter delays under an exponentially growing, capped ceiling', () => {
    expect(backoffDelay(1, policy, () => 0.999)).toBe(999);
    expect(backoffDelay(3, policy, () => 0.999)).toBe(3996);
    expect(backoffDelay(30, policy, () => 0.999)).toBe(59_940);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(2000);
  });

  it('retries after the backoff, never before a provider Retry-After', () => {
    expect(decideRetry({ attempts: 1, acceptedAt: 0, now: 10_000 }, policy, () => 0.5)).toEqual({ action: 'retry', at: 10_500 });
    expect(decideRetry({ attempts: 1, acceptedAt: 0, now: 10_000, notBefore: 40_000 }, policy, () => 0.5)).toEqual({
      action: 'retry',
      at: 40_000,
    });
  });

  it('declares the message dead after max attempts or max age', () => {
    expect(decideRetry({ attempts: 5, acceptedAt: 0, now: 1 }, policy)).toEqual({ action: 'dead', reason: 'max_attempts' });
    expect(decideRetry({ attempts: 2, acceptedAt: 0, now: 3_599_000 }, policy, () => 0.9)).toEqual({ action: 'dead', reason: 'max_age' });
  });
});
