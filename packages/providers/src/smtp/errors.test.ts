import { type ErrorCategory, type ErrorCode, errorCodes, type Message, type Provider } from '@mailroute/core';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifySmtpError, createSmtpProvider, DEFAULT_RATE_LIMIT_RETRY_MS, type SmtpProviderConfigInput } from './index.js';

const USER = 'relay-user';
const PASS = 'Cl4ssify-s3cret';
const SECRETS = [PASS, Buffer.from(PASS).toString('base64'), Buffer.from(`\0${USER}\0${PASS}`).toString('base64')];

function message(): Message {
  return {
    id: `msg-classify-${Math.random().toString(36).slice(2)}`,
    from: { email: 'bookings@hotel.example.com' },
    to: [{ email: 'guest@example.org' }, { email: 'other@example.org' }],
    cc: [],
    bcc: [],
    replyTo: [],
    subject: 'Booking',
    text: 'Hello',
    attachments: [],
    headers: {},
    tags: [],
    metadata: {},
  };
}

interface Expected {
  readonly code: ErrorCode;
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  readonly requestWritten: boolean;
  readonly status?: number;
  readonly smtpCode?: string;
  readonly command?: string;
  /** The server's words, as they must appear in detail.body.response or detail.body.message. */
  readonly words?: RegExp;
  readonly retryAfterMs?: number;
}

interface Row {
  readonly name: string;
  readonly arrange?: (standin: SmtpStandin) => void;
  readonly config?: (standin: SmtpStandin, ports: { closed: number; tls: number }) => Partial<SmtpProviderConfigInput>;
  readonly abortAfterMs?: number;
  readonly expected: Expected;
}

const rows: Row[] = [
  {
    name: 'auth failure (535)',
    config: () => ({ auth: { user: USER, pass: 'Wr0ng-s3cret-value' } }),
    expected: {
      code: 'PROVIDER_AUTH',
      category: 'provider',
      retryable: true,
      requestWritten: false,
      status: 535,
      smtpCode: 'EAUTH',
      command: 'AUTH PLAIN',
      words: /535 5\.7\.8 Authentication credentials invalid/,
    },
  },
  {
    name: 'auth failure with the credentials in the url',
    config: (standin) => ({
      host: undefined,
      auth: undefined,
      url: `smtp://${USER}:${encodeURIComponent('Wr0ng-s3cret-value')}@127.0.0.1:${standin.port}`,
    }),
    expected: { code: 'PROVIDER_AUTH', category: 'provider', retryable: true, requestWritten: false, status: 535, smtpCode: 'EAUTH' },
  },
  {
    name: 'invalid recipient (550 5.1.1 for every recipient)',
    arrange: (standin) => {
      standin.faults.rejectRecipients = ['guest@example.org', 'other@example.org'];
    },
    expected: {
      code: 'INVALID_RECIPIENT',
      category: 'message',
      retryable: false,
      requestWritten: false,
      status: 550,
      smtpCode: 'EENVELOPE',
      command: 'RCPT TO',
      words: /550 5\.1\.1 <(guest|other)@example\.org>: Recipient address rejected/,
    },
  },
  {
    name: 'invalid sender (550 5.1.8 at MAIL FROM)',
    arrange: (standin) => {
      standin.faults.refuse.mail = { code: 550, message: '5.1.8 <bookings@hotel.example.com>: Sender address rejected: Domain not found' };
    },
    expected: {
      code: 'INVALID_SENDER',
      category: 'message',
      retryable: false,
      requestWritten: false,
      status: 550,
      command: 'MAIL FROM',
      words: /Sender address rejected/,
    },
  },
  {
    name: 'message too large (552 5.3.4)',
    arrange: (standin) => {
      standin.faults.refuse.data = { code: 552, message: '5.3.4 Message size exceeds fixed limit' };
    },
    expected: {
      code: 'MESSAGE_TOO_LARGE',
      category: 'message',
      retryable: false,
      requestWritten: true,
      status: 552,
      smtpCode: 'EMESSAGE',
      command: 'DATA',
      words: /552 5\.3\.4/,
    },
  },
  {
    name: 'content rejected (554 5.7.1 on DATA)',
    arrange: (standin) => {
      standin.faults.refuse.data = { code: 554, message: '5.7.1 Message rejected: spam detected' };
    },
    expected: {
      code: 'CONTENT_REJECTED',
      category: 'message',
      retryable: false,
      requestWritten: true,
      status: 554,
      command: 'DATA',
      words: /spam detected/,
    },
  },
  {
    name: '4xx on DATA (451 4.3.0) is the provider unavailable',
    arrange: (standin) => {
      standin.faults.refuse.data = { code: 451, message: '4.3.0 Local error in processing' };
    },
    expected: { code: 'PROVIDER_UNAVAILABLE', category: 'provider', retryable: true, requestWritten: true, status: 451, command: 'DATA' },
  },
  {
    name: '4xx on RCPT (452 4.5.3) is the provider unavailable',
    arrange: (standin) => {
      standin.faults.refuse.rcpt = { code: 452, message: '4.5.3 Too many recipients' };
    },
    expected: {
      code: 'PROVIDER_UNAVAILABLE',
      category: 'provider',
      retryable: true,
      requestWritten: false,
      status: 452,
      command: 'RCPT TO',
    },
  },
  {
    name: '421 at the greeting is the provider unavailable',
    arrange: (standin) => {
      standin.faults.refuse.connect = { code: 421, message: '4.3.2 Service not available' };
    },
    expected: { code: 'PROVIDER_UNAVAILABLE', category: 'provider', retryable: true, requestWritten: false, status: 421, words: /4\.3\.2/ },
  },
  {
    name: 'rate limited (451 4.7.0 ... try again in 30 seconds)',
    arrange: (standin) => {
      standin.faults.refuse.data = { code: 451, message: '4.7.0 Rate limit exceeded, try again in 30 seconds' };
    },
    expected: {
      code: 'RATE_LIMITED',
      category: 'rate_limited',
      retryable: true,
      requestWritten: true,
      status: 451,
      retryAfterMs: 30_000,
      words: /Rate limit exceeded/,
    },
  },
  {
    name: 'rate limited at the greeting (421 4.7.0 too many connections)',
    arrange: (standin) => {
      standin.faults.refuse.connect = { code: 421, message: '4.7.0 Too many connections, try again later' };
    },
    expected: {
      code: 'RATE_LIMITED',
      category: 'rate_limited',
      retryable: true,
      requestWritten: false,
      status: 421,
      retryAfterMs: DEFAULT_RATE_LIMIT_RETRY_MS,
    },
  },
  {
    name: 'unreachable: connection refused on a closed port',
    config: (_standin, ports) => ({ port: ports.closed }),
    expected: { code: 'PROVIDER_UNREACHABLE', category: 'provider', retryable: true, requestWritten: false, smtpCode: 'ESOCKET' },
  },
  {
    name: 'unreachable: TLS handshake refused (self-signed certificate)',
    config: (_standin, ports) => ({ host: undefined, url: `smtps://127.0.0.1:${ports.tls}`, tls: { rejectUnauthorized: true } }),
    expected: { code: 'PROVIDER_UNREACHABLE', category: 'provider', retryable: true, requestWritten: false, smtpCode: 'ESOCKET' },
  },
  {
    name: 'connection reset after DATA was sent',
    arrange: (standin) => {
      standin.faults.dropAfterData = true;
    },
    expected: { code: 'CONNECTION_RESET', category: 'ambiguous', retryable: true, requestWritten: true, smtpCode: 'ECONNECTION' },
  },
  {
    name: 'hung DATA cut by the abort signal',
    arrange: (standin) => {
      standin.faults.hang = true;
    },
    abortAfterMs: 300,
    expected: { code: 'TIMEOUT', category: 'ambiguous', retryable: true, requestWritten: true, smtpCode: 'EABORT' },
  },
  {
    name: 'hung DATA cut by the socket timeout',
    arrange: (standin) => {
      standin.faults.hang = true;
    },
    config: () => ({ socketTimeoutMs: 300 }),
    expected: { code: 'TIMEOUT', category: 'ambiguous', retryable: true, requestWritten: true, smtpCode: 'ETIMEDOUT' },
  },
];

describe('smtp classification over real sockets', () => {
  let standin: SmtpStandin;
  let tlsStandin: SmtpStandin;
  let closedPort: number;
  let provider: Provider | undefined;

  beforeAll(async () => {
    standin = await startSmtpStandin({ auth: { user: USER, pass: PASS } });
    tlsStandin = await startSmtpStandin({ secure: true });
    const closed = await startSmtpStandin();
    closedPort = closed.port;
    await closed.close();
  });
  afterEach(async () => {
    await provider?.close();
    standin.reset();
  });
  afterAll(async () => {
    await Promise.all([standin.close(), tlsStandin.close()]);
  });

  it.each(rows)('$name', async (row) => {
    row.arrange?.(standin);
    provider = createSmtpProvider({
      type: 'smtp',
      name: 'smtp-classify',
      host: standin.host,
      port: standin.port,
      auth: { user: USER, pass: PASS },
      ...row.config?.(standin, { closed: closedPort, tls: tlsStandin.port }),
    });
    const controller = new AbortController();
    if (row.abortAfterMs !== undefined) setTimeout(() => controller.abort(new Error('router timeout')), row.abortAfterMs);
    const result = await provider.send(message(), { signal: controller.signal });

    const { expected } = row;
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const { error } = result;
    expect(error).toMatchObject({
      code: expected.code,
      category: expected.category,
      retryable: expected.retryable,
      provider: 'smtp-classify',
    });
    expect(errorCodes[error.code].category).toBe(expected.category);
    expect(error.detail?.requestWritten).toBe(expected.requestWritten);
    if (expected.status !== undefined) expect(error.detail?.status).toBe(expected.status);
    if (expected.smtpCode !== undefined) expect(error.detail?.code).toBe(expected.smtpCode);
    if (expected.command !== undefined) expect(error.detail?.body).toMatchObject({ command: expected.command });
    if (expected.words !== undefined) {
      expect(JSON.stringify(error.detail?.body)).toMatch(expected.words);
      expect(error.message).toMatch(expected.words);
    }
    expect(error.retryAfterMs).toBe(expected.retryAfterMs);

    const serialized = JSON.stringify(result);
    for (const secret of [...SECRETS, 'Wr0ng-s3cret-value']) expect(serialized).not.toContain(secret);
  });
});

describe('classifySmtpError on replies the stand-in does not produce', () => {
  const context = { provider: 'smtp', requestWritten: false, secrets: [PASS] };
  const rcptError = (responses: string[]) => ({
    code: 'EENVELOPE',
    command: 'RCPT TO',
    response: responses.at(-1),
    responseCode: Number(responses.at(-1)?.slice(0, 3)),
    rejectedErrors: responses.map((response, index) => ({ recipient: `r${index}@example.org`, response, code: 'EENVELOPE' })),
  });

  it.each([
    ['relaying denied (550 5.7.1) is the provider configuration', rcptError(['550 5.7.1 Relaying denied']), 'PROVIDER_CONFIG'],
    ['a 5.1.7 sender refusal given at RCPT', rcptError(['553 5.1.7 Sender address syntax invalid']), 'INVALID_SENDER'],
    ['mailbox full (552 5.2.2) for every recipient', rcptError(['552 5.2.2 Mailbox full', '550 5.1.1 Unknown']), 'INVALID_RECIPIENT'],
    ['plain 550 without enhanced code', rcptError(['550 No such user here']), 'INVALID_RECIPIENT'],
    [
      '530 authentication required at MAIL FROM',
      { code: 'EENVELOPE', command: 'MAIL FROM', response: '530 5.7.0 Authentication required' },
      'PROVIDER_AUTH',
    ],
    [
      'sender policy refusal (550 5.7.1 at MAIL FROM)',
      { code: 'EENVELOPE', command: 'MAIL FROM', response: '550 5.7.1 Sender not authorized' },
      'PROVIDER_CONFIG',
    ],
    [
      'SIZE limit checked by nodemailer',
      { code: 'EMESSAGE', command: 'MAIL FROM', message: 'Message size larger than allowed 1000' },
      'MESSAGE_TOO_LARGE',
    ],
    [
      'DNS failure',
      { code: 'EDNS', command: 'CONN', originalCode: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND smtp.invalid' },
      'PROVIDER_UNREACHABLE',
    ],
    [
      'greeting timeout',
      { code: 'ETIMEDOUT', command: 'CONN', timeoutType: 'GREETING_TIMEOUT', message: 'Greeting never received' },
      'PROVIDER_UNREACHABLE',
    ],
    [
      'connection lost during the envelope',
      { code: 'ECONNECTION', command: 'CONN', message: 'Connection closed unexpectedly' },
      'PROVIDER_UNAVAILABLE',
    ],
    ['something thrown that is not an error', 'boom', 'PROVIDER_ERROR'],
  ] as const)('%s', (_name, error, code) => {
    expect(classifySmtpError(error, context).code).toBe(code);
  });

  it('masks the password wherever nodemailer put it', () => {
    const error = { code: 'EAUTH', command: 'AUTH PLAIN', response: `535 bad credentials for ${PASS}`, message: `Invalid login ${PASS}` };
    const classified = classifySmtpError(error, context);
    expect(classified.code).toBe('PROVIDER_AUTH');
    expect(JSON.stringify(classified)).not.toContain(PASS);
    expect(JSON.stringify(classified)).toContain('[REDACTED]');
  });
});
