import { describe, expect, it } from 'vitest';
import { type ErrorCode, errorCodes, isMailError, mailError } from './errors.js';

describe('error table', () => {
  it('gives every code a category and a description, and only message faults are final', () => {
    for (const [code, spec] of Object.entries(errorCodes)) {
      const error = mailError(code as ErrorCode, 'x');
      expect(['message', 'provider', 'rate_limited', 'ambiguous']).toContain(spec.category);
      expect(spec.description.length).toBeGreaterThan(10);
      expect(error.category).toBe(spec.category);
      expect(error.retryable).toBe(spec.category !== 'message');
      expect(isMailError(error)).toBe(true);
    }
  });

  it('keeps codes stable: renaming one breaks stored attempts and API clients', () => {
    expect(Object.keys(errorCodes).sort()).toMatchInlineSnapshot(`
      [
        "BREAKER_OPEN",
        "CONNECTION_RESET",
        "CONTENT_REJECTED",
        "GATEWAY_TIMEOUT",
        "IDEMPOTENCY_CONFLICT",
        "INVALID_MESSAGE",
        "INVALID_RECIPIENT",
        "INVALID_SENDER",
        "MESSAGE_TOO_LARGE",
        "NO_PROVIDER",
        "PROVIDER_AUTH",
        "PROVIDER_BAD_REQUEST",
        "PROVIDER_BUSY",
        "PROVIDER_CONFIG",
        "PROVIDER_DISABLED",
        "PROVIDER_ERROR",
        "PROVIDER_UNAVAILABLE",
        "PROVIDER_UNREACHABLE",
        "RATE_LIMITED",
        "RECIPIENT_SUPPRESSED",
        "TIMEOUT",
      ]
    `);
  });

  it('carries provider, retry-after and detail', () => {
    const error = mailError('RATE_LIMITED', 'slow down', { provider: 'sg', retryAfterMs: 1500, detail: { status: 429 } });
    expect(error).toMatchObject({ category: 'rate_limited', retryable: true, provider: 'sg', retryAfterMs: 1500, detail: { status: 429 } });
    expect(isMailError(new Error('x'))).toBe(false);
    expect(isMailError({ code: 'NOPE', category: 'message' })).toBe(false);
  });
});
