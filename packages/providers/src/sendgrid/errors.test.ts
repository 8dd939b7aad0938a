import { createServer } from 'node:net';
import type { ErrorCategory, ErrorCode, Message, Provider, SendOutcome } from '@mailroute/core';
import { sampleMessage } from '@mailroute/core/testing';
import { type SendGridFault, type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifySendGridError } from './errors.js';
import { createSendGridProvider } from './provider.js';

const NOW = 1_750_000_000_000;
const BAD_KEY = 'SG.wrong-key-0123456789.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

let standIn: SendGridStandIn;
let provider: Provider;
let closedPort: number;

beforeAll(async () => {
  standIn = await startSendGridStandIn({ now: () => NOW });
  provider = createSendGridProvider(
    { type: 'sendgrid', name: 'sendgrid', apiKey: standIn.apiKey, baseUrl: standIn.url },
    { now: () => NOW },
  );
  closedPort = await freePort();
});

afterEach(() => {
  standIn.normal();
  standIn.reset();
});

afterAll(async () => {
  await provider.close();
  await standIn.close();
});

interface Row {
  readonly name: string;
  readonly code: ErrorCode;
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly fault?: SendGridFault;
  readonly message?: () => Message;
  /** Where the provider points instead of the stand-in with its key. */
  readonly target?: 'bad-key' | 'closed-port';
  readonly retryAfterMs?: number;
}

const status = (code: 400 | 401 | 403 | 413 | 500 | 502 | 503 | 504): SendGridFault => ({ kind: 'status', status: code });

const table: readonly Row[] = [
  {
    name: 'an address SendGrid calls invalid',
    code: 'INVALID_RECIPIENT',
    category: 'message',
    retryable: false,
    status: 400,
    message: () => sampleMessage({ to: [{ email: 'nobody@invalid.test' }] }),
  },
  {
    name: 'a sender address SendGrid calls invalid',
    code: 'INVALID_SENDER',
    category: 'message',
    retryable: false,
    status: 400,
    message: () => sampleMessage({ from: { email: 'noreply@invalid.test' } }),
  },
  { name: 'another 400', code: 'PROVIDER_BAD_REQUEST', category: 'provider', retryable: true, status: 400, fault: status(400) },
  { name: 'a wrong API key', code: 'PROVIDER_AUTH', category: 'provider', retryable: true, status: 401, target: 'bad-key' },
  {
    name: '403 unverified sender identity',
    code: 'PROVIDER_CONFIG',
    category: 'provider',
    retryable: true,
    status: 403,
    fault: status(403),
  },
  { name: '413', code: 'MESSAGE_TOO_LARGE', category: 'message', retryable: false, status: 413, fault: status(413) },
  {
    name: '429 with X-RateLimit-Reset 30 s ahead',
    code: 'RATE_LIMITED',
    category: 'rate_limited',
    retryable: true,
    status: 429,
    fault: { kind: 'status', status: 429, rateLimitResetSeconds: 30 },
    retryAfterMs: 30_000,
  },
  { name: '500', code: 'PROVIDER_UNAVAILABLE', category: 'provider', retryable: true, status: 500, fault: status(500) },
  { name: '502', code: 'PROVIDER_UNAVAILABLE', category: 'provider', retryable: true, status: 502, fault: status(502) },
  { name: '503', code: 'PROVIDER_UNAVAILABLE', category: 'provider', retryable: true, status: 503, fault: status(503) },
  { name: '504', code: 'GATEWAY_TIMEOUT', category: 'ambiguous', retryable: true, status: 504, fault: status(504) },
  { name: 'a closed port', code: 'PROVIDER_UNREACHABLE', category: 'provider', retryable: true, status: undefined, target: 'closed-port' },
  {
    name: 'a reset after the request was read',
    code: 'CONNECTION_RESET',
    category: 'ambiguous',
    retryable: true,
    status: undefined,
    fault: { kind: 'reset', during: 'request' },
  },
  {
    name: 'a reset in the middle of the response',
    code: 'CONNECTION_RESET',
    category: 'ambiguous',
    retryable: true,
    status: undefined,
    fault: { kind: 'reset', during: 'response' },
  },
];

describe('SendGrid failures through the stand-in, classified', () => {
  it.each(table)('$name -> $code', async (row) => {
    if (row.fault) standIn.setFault(row.fault);
    const apiKey = row.target === 'bad-key' ? BAD_KEY : standIn.apiKey;
    const baseUrl = row.target === 'closed-port' ? `http://127.0.0.1:${closedPort}` : standIn.url;
    const subject = createSendGridProvider({ type: 'sendgrid', name: 'sendgrid', apiKey, baseUrl }, { now: () => NOW });
    let result: SendOutcome;
    try {
      result = await subject.send((row.message ?? sampleMessage)(), { signal: new AbortController().signal });
    } finally {
      await subject.close();
    }

    if (result.ok) throw new Error(`expected ${row.code}, the message was accepted`);
    const { error } = result;
    expect(error.code).toBe(row.code);
    expect(error.category).toBe(row.category);
    expect(error.retryable).toBe(row.retryable);
    expect(error.provider).toBe('sendgrid');
    expect(error.detail?.status).toBe(row.status);
    expect(error.detail?.requestWritten).toBe(row.target !== 'closed-port');
    if (row.status !== undefined) expect(error.detail?.body).toEqual({ errors: expect.any(Array) });
    if (row.retryAfterMs !== undefined) {
      expect(error.retryAfterMs).toBe(row.retryAfterMs);
      expect(error.detail?.headers).toMatchObject({
        'x-ratelimit-limit': '600',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(NOW / 1000 + 30),
      });
    }
    const serialized = JSON.stringify(result);
    expect(serialized).not.toContain(standIn.apiKey);
    expect(serialized).not.toContain(BAD_KEY);
    expect(standIn.accepted).toHaveLength(0);
  });
});

describe('classifySendGridError on answers the stand-in does not give', () => {
  const context = { provider: 'sendgrid', requestWritten: true, secrets: [BAD_KEY], now: () => NOW };
  const answer = (code: number, body: unknown, headers: Record<string, string> = {}) => ({ code, response: { body, headers } });
  const errors = (message: string, field: string | null = null) => ({ errors: [{ message, field, help: null }] });

  it.each([
    [answer(401, errors('Maximum credits exceeded')), 'PROVIDER_CONFIG'],
    [answer(403, errors('access forbidden')), 'PROVIDER_AUTH'],
    [answer(403, errors('Your account has been suspended')), 'PROVIDER_CONFIG'],
    [answer(400, errors('The to array is required for all personalization objects.', 'personalizations.0.to')), 'PROVIDER_BAD_REQUEST'],
    [answer(400, errors('Does not contain a valid address.', 'personalizations.0.bcc.2.email')), 'INVALID_RECIPIENT'],
    [answer(400, errors('The from object must be provided for every email send.', 'from.email')), 'PROVIDER_BAD_REQUEST'],
    [answer(404, errors('resource not found')), 'PROVIDER_CONFIG'],
    [{ code: 'ECONNRESET', message: 'socket hang up' }, 'CONNECTION_RESET'],
    [{ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND api.sendgrid.com' }, 'PROVIDER_UNREACHABLE'],
    [{ code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' }, 'PROVIDER_UNREACHABLE'],
    [{ code: 'ERR_CANCELED', message: 'canceled' }, 'TIMEOUT'],
    [new Error('something odd'), 'PROVIDER_ERROR'],
  ] as const)('%j -> %s', (error, code) => {
    expect(classifySendGridError(error, context).code).toBe(code);
  });

  it('knows nothing reached SendGrid when the connection broke before the request was written', () => {
    const unwritten = { ...context, requestWritten: false };
    expect(classifySendGridError({ code: 'ECONNRESET', message: 'socket hang up' }, unwritten)).toMatchObject({
      code: 'PROVIDER_UNREACHABLE',
      detail: { requestWritten: false },
    });
    expect(classifySendGridError({ code: 'ERR_CANCELED', message: 'canceled' }, unwritten).code).toBe('PROVIDER_UNREACHABLE');
  });

  it('masks the key wherever SendGrid echoes it', () => {
    const echoed = answer(401, errors(`key ${BAD_KEY} is revoked`), { 'x-echo': `Bearer ${BAD_KEY}`, authorization: `Bearer ${BAD_KEY}` });
    const error = classifySendGridError(echoed, context);
    expect(JSON.stringify(error)).not.toContain(BAD_KEY);
    expect(error.detail?.headers).toEqual({ 'x-echo': 'Bearer [REDACTED]' });
  });

  it('gives no wait when a 429 has no reset header', () => {
    const error = classifySendGridError(answer(429, errors('too many requests')), context);
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterMs).toBeUndefined();
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
