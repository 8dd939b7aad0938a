import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { type ErrorCode, errorCodes, type Message, type Provider, parseMessage, type SendOutcome } from '@mailroute/core';
import {
  type SesEmulator,
  type SesFault,
  type SesFaultName,
  type SesFaultProxy,
  startSesEmulator,
  startSesFaultProxy,
} from '@mailroute/standins/ses';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sesProviderConfigSchema } from './config.js';
import { classifySesError, DAILY_QUOTA_RETRY_MS, THROTTLE_RETRY_MS } from './errors.js';
import { createSesProvider } from './provider.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION_TOKEN = 'FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue';

function provider(endpoint: string): Provider {
  return createSesProvider(
    sesProviderConfigSchema.parse({
      type: 'ses',
      name: 'ses-test',
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET, sessionToken: SESSION_TOKEN },
    }),
  );
}

function message(): Message {
  const parsed = parseMessage({ from: 'sender@example.com', to: ['to@example.com'], subject: 'Hello', text: 'Hi' });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return { ...parsed.value, id: randomUUID() };
}

function failure(outcome: SendOutcome) {
  if (outcome.ok) throw new Error(`expected a failure, got ${outcome.providerMessageId}`);
  return outcome.error;
}

interface Row {
  readonly fault: SesFaultName | SesFault;
  readonly code: ErrorCode;
  readonly status?: number;
  readonly sesCode?: string;
  readonly retryAfterMs?: number;
  /** For resets: whether the emulator ends up with the mail. */
  readonly stored?: boolean;
}

const rows: Row[] = [
  { fault: 'throttling', code: 'RATE_LIMITED', status: 400, sesCode: 'Throttling', retryAfterMs: THROTTLE_RETRY_MS },
  { fault: 'dailyQuotaExceeded', code: 'RATE_LIMITED', status: 400, sesCode: 'Throttling', retryAfterMs: DAILY_QUOTA_RETRY_MS },
  { fault: 'unverifiedAddress', code: 'PROVIDER_CONFIG', status: 400, sesCode: 'MessageRejected' },
  { fault: 'contentRejected', code: 'CONTENT_REJECTED', status: 400, sesCode: 'MessageRejected' },
  { fault: 'messageTooLarge', code: 'MESSAGE_TOO_LARGE', status: 400, sesCode: 'MessageRejected' },
  { fault: 'accessDenied', code: 'PROVIDER_AUTH', status: 403, sesCode: 'AccessDenied' },
  { fault: 'invalidClientTokenId', code: 'PROVIDER_AUTH', status: 403, sesCode: 'InvalidClientTokenId' },
  { fault: 'signatureDoesNotMatch', code: 'PROVIDER_AUTH', status: 403, sesCode: 'SignatureDoesNotMatch' },
  { fault: 'expiredToken', code: 'PROVIDER_AUTH', status: 403, sesCode: 'ExpiredToken' },
  { fault: 'accountSendingPaused', code: 'PROVIDER_CONFIG', status: 400, sesCode: 'AccountSendingPausedException' },
  { fault: 'configurationSetDoesNotExist', code: 'PROVIDER_CONFIG', status: 400, sesCode: 'ConfigurationSetDoesNotExistException' },
  { fault: 'mailFromDomainNotVerified', code: 'PROVIDER_CONFIG', status: 400, sesCode: 'MailFromDomainNotVerifiedException' },
  { fault: 'invalidAddress', code: 'INVALID_RECIPIENT', status: 400, sesCode: 'InvalidParameterValue' },
  { fault: 'illegalAddress', code: 'INVALID_RECIPIENT', status: 400, sesCode: 'InvalidParameterValue' },
  { fault: 'invalidParameter', code: 'PROVIDER_BAD_REQUEST', status: 400, sesCode: 'InvalidParameterValue' },
  { fault: 'internalFailure', code: 'PROVIDER_UNAVAILABLE', status: 500, sesCode: 'InternalFailure' },
  { fault: 'serviceUnavailable', code: 'PROVIDER_UNAVAILABLE', status: 503, sesCode: 'ServiceUnavailable' },
  { fault: 'gatewayTimeout', code: 'GATEWAY_TIMEOUT', status: 504 },
  { fault: 'reset', code: 'CONNECTION_RESET', stored: false },
  { fault: 'acceptThenReset', code: 'CONNECTION_RESET', stored: true },
];

describe('SES error classification over sockets', () => {
  let emulator: SesEmulator;
  let proxy: SesFaultProxy;
  let ses: Provider;

  beforeAll(async () => {
    emulator = await startSesEmulator();
    proxy = await startSesFaultProxy({ target: emulator.url });
    ses = provider(proxy.url);
  });
  afterAll(async () => {
    await ses.close();
    await proxy.close();
    await emulator.close();
  });
  beforeEach(async () => {
    proxy.reset();
    await emulator.clear();
  });

  it.each(rows.map((row) => [typeof row.fault === 'string' ? row.fault : row.fault.kind, row] as const))('%s', async (_label, row) => {
    proxy.setFault(row.fault);
    const error = failure(await ses.send(message(), { signal: new AbortController().signal }));

    expect(error.code).toBe(row.code);
    expect(error.category).toBe(errorCodes[row.code].category);
    expect(error.retryable).toBe(errorCodes[row.code].category !== 'message');
    expect(error.provider).toBe('ses-test');
    expect(error.detail?.status).toBe(row.status);
    expect(error.retryAfterMs).toBe(row.retryAfterMs);
    expect(error.detail?.requestWritten).toBe(true);
    if (row.sesCode !== undefined) {
      expect(error.detail?.code).toBe(row.sesCode);
      expect(error.detail?.headers?.['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
      expect(error.message).toContain(row.sesCode);
    }
    if (row.stored !== undefined) expect(await emulator.messages()).toHaveLength(row.stored ? 1 : 0);
    expect(JSON.stringify(error)).not.toContain(SECRET);
    expect(JSON.stringify(error)).not.toContain(SESSION_TOKEN);
    // No SDK retries: the dispatcher decides, so SES sees exactly one request per send.
    expect(proxy.requestsFor('SendRawEmail')).toHaveLength(1);
  });

  it('masks credentials that come back in an answer', async () => {
    proxy.setFault({
      kind: 'error',
      status: 403,
      type: 'Sender',
      code: 'SignatureDoesNotMatch',
      message: `String-to-sign used ${SECRET} and token ${SESSION_TOKEN}`,
    });
    const error = failure(await ses.send(message(), { signal: new AbortController().signal }));
    expect(error.code).toBe('PROVIDER_AUTH');
    const serialized = JSON.stringify(error);
    expect(serialized).not.toContain(SECRET);
    expect(serialized).not.toContain(SESSION_TOKEN);
    expect(serialized).toContain('[REDACTED]');
  });

  it('reports a closed port as PROVIDER_UNREACHABLE with nothing written', async () => {
    const closed = await closedPort();
    const unreachable = provider(`http://127.0.0.1:${closed}`);
    try {
      const error = failure(await unreachable.send(message(), { signal: new AbortController().signal }));
      expect(error).toMatchObject({ code: 'PROVIDER_UNREACHABLE', category: 'provider', retryable: true });
      expect(error.detail).toMatchObject({ code: 'ECONNREFUSED', requestWritten: false });
    } finally {
      await unreachable.close();
    }
  });
});

describe('classifySesError for failures loopback cannot produce', () => {
  const context = { provider: 'ses-test', requestWritten: false, secrets: [SECRET] };

  it.each([
    [
      'connect timeout',
      Object.assign(new Error('the request socket did not establish a connection with the server within 5000 ms.'), {
        name: 'TimeoutError',
      }),
      'PROVIDER_UNREACHABLE',
    ],
    [
      'DNS failure',
      Object.assign(new Error('getaddrinfo ENOTFOUND email.us-east-1.amazonaws.com'), { code: 'ENOTFOUND' }),
      'PROVIDER_UNREACHABLE',
    ],
    ['bad certificate', Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), 'PROVIDER_UNREACHABLE'],
    [
      'no credentials',
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      'PROVIDER_AUTH',
    ],
    [
      'reset before writing',
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', name: 'TimeoutError' }),
      'PROVIDER_UNREACHABLE',
    ],
    ['something else', new RangeError(`odd failure near ${SECRET}`), 'PROVIDER_ERROR'],
  ] as const)('%s', (_label, error, code) => {
    const result = classifySesError(error, context);
    expect(result.code).toBe(code);
    expect(result.detail?.requestWritten).toBe(false);
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('treats a reset after writing as ambiguous', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', name: 'TimeoutError' });
    expect(classifySesError(reset, { ...context, requestWritten: true }).code).toBe('CONNECTION_RESET');
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
