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

  it('a round that called no provider does not count: it waits for the next probe, past max attempts, until max age', () => {
    // Max attempts already reached by rounds that did call: one more that called nobody is no reason to give up.
    expect(decideRetry({ attempts: 5, tried: false, acceptedAt: 0, now: 10_000, notBefore: 40_000 }, policy, () => 0.5)).toEqual({
      action: 'retry',
      at: 40_000,
    });
    // No probe time known (a probe in flight, providers disabled): at least the base delay, never a busy loop.
    expect(decideRetry({ attempts: 0, tried: false, acceptedAt: 0, now: 10_000 }, policy, () => 0)).toEqual({
      action: 'retry',
      at: 11_000,
    });
    expect(decideRetry({ attempts: 5, tried: false, acceptedAt: 0, now: 3_599_500, notBefore: 3_601_000 }, policy)).toEqual({
      action: 'dead',
      reason: 'max_age',
    });
  });
});
