import type { MessageStatus } from '@mailroute/core';
import { configSchema, type MailrouteConfigInput, startWorker } from '@mailroute/server';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { SES_XMLNS, type SesEmulator, type SesFaultProxy, startSesEmulator, startSesFaultProxy } from '@mailroute/standins/ses';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import { type AttemptView, createStore, type MailStore } from '@mailroute/store';
import { createSqliteFile } from '@mailroute/store/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LeakyAnswer, type LeakyProxy, type SeenRequest, startLeakyProxy } from '../support/leaky-proxy.js';
import { bookings } from '../support/mail.js';
import { startTcpTap, type TcpTap } from '../support/tcp-tap.js';

/**
 * No secret reaches the database. Real providers, the real dispatcher and the real store
 * send through the stand-ins with wrong and right credentials; in some rounds the
 * providers are made careless and echo the credentials they received in error words,
 * bodies and response headers. Afterwards every row of every table is read, through the
 * store's API and with raw SQL, and no key, password, secret, token, AUTH blob or
 * Authorization value may appear in any of it.
 */

// Distinctive values: any match in the database is a leak, never a coincidence.
const SG_RIGHT_KEY = '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';
/** Not shaped like a SendGrid key, so only masking of the configured value can catch it. */
const SG_WRONG_KEY = 'wrong-ISpMtqu4JZmclbEfSByo3OeE';
const AWS_ACCESS_KEY_ID = 'AKIAC5437A85A1FB8A04';
const AWS_SECRET_ACCESS_KEY = 'pWJTJxVjqWcdVcEwSFiRgXp/6xT8WFhlPNgyQE3L';
const AWS_SESSION_TOKEN =
  'c+CvSCskoejO7xQdOTjpxImjdqWbOCDcvtEXlmNt4O9JC2yfQiZ5GUtstrMs659rFD7ICGnMDJOW3cTteMP4GHPIbUIKP2g6oWSOmx7ozYctXEzSB5zLjklh';
const SMTP_USER = 'relay-user';
/** Characters that must be escaped in a URL, so the encoded form is a secret of its own. */
const SMTP_RIGHT_PASS = 'Iu3dV7En#kWg:fq%VFU';
const SMTP_WRONG_PASS = 'E4qeqW!vdWnG@Evq7U';

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const authPlain = (pass: string) => base64(`\0${SMTP_USER}\0${pass}`);

type ProviderInput = NonNullable<MailrouteConfigInput['providers']>[number];

let directory: { url: string; drop: () => Promise<void> };
let store: MailStore;
let sendgrid: SendGridStandIn;
let sendgridProxy: LeakyProxy;
let ses: SesEmulator;
let sesFaultProxy: SesFaultProxy;
let sesProxy: LeakyProxy;
let smtp: SmtpStandin;
let smtpTap: TcpTap;
let offset = 0;

beforeAll(async () => {
  directory = createSqliteFile();
  store = await createStore({ url: directory.url, autoMigrate: true });
  sendgrid = await startSendGridStandIn({ apiKey: SG_RIGHT_KEY });
  sendgridProxy = await startLeakyProxy({ target: sendgrid.url });
  ses = await startSesEmulator();
  sesFaultProxy = await startSesFaultProxy({ target: ses.url });
  sesProxy = await startLeakyProxy({ target: sesFaultProxy.url });
  smtp = await startSmtpStandin({ auth: { user: SMTP_USER, pass: SMTP_RIGHT_PASS } });
  smtpTap = await startTcpTap({ host: smtp.host, port: smtp.port });
}, 30_000);

afterAll(async () => {
  await store?.close();
  await Promise.all([sendgridProxy?.close(), sesProxy?.close(), sesFaultProxy?.close(), smtpTap?.close()]);
  await Promise.all([sendgrid?.close(), ses?.close(), smtp?.close()]);
  await directory?.drop();
});

const provider = {
  sendgrid: (apiKey: string): ProviderInput => ({ type: 'sendgrid', name: 'sendgrid', apiKey, baseUrl: sendgridProxy.url }),
  ses: (): ProviderInput => ({
    type: 'ses',
    name: 'ses',
    region: 'us-east-1',
    endpoint: sesProxy.url,
    credentials: { accessKeyId: AWS_ACCESS_KEY_ID, secretAccessKey: AWS_SECRET_ACCESS_KEY, sessionToken: AWS_SESSION_TOKEN },
  }),
  smtp: (pass: string): ProviderInput => ({
    type: 'smtp',
    name: 'smtp',
    host: smtpTap.host,
    port: smtpTap.port,
    auth: { user: SMTP_USER, pass },
  }),
  /** Credentials in the URL, the other way a configuration may carry them. */
  smtpUrl: (pass: string): ProviderInput => ({
    type: 'smtp',
    name: 'smtp',
    url: `smtp://${SMTP_USER}:${encodeURIComponent(pass)}@${smtpTap.host}:${smtpTap.port}`,
  }),
};

/** Each phase sends fresh messages through a worker of its own and waits until they settle (one round each). */
async function phase(providers: ProviderInput[], expected: MessageStatus, count = 2): Promise<string[]> {
  const ids = (await store.enqueueMany(bookings(count, offset))).map((result) => result.id);
  offset += count;
  const config = configSchema.parse({
    providers,
    // Never skip a provider: every message must walk them all and leave an attempt at each.
    routing: { breaker: { volumeThreshold: 10_000, timeoutMs: 10_000 } },
    retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10, maxAgeMs: 60_000 },
    worker: { concurrency: 5, leaseMs: 10_000, idlePollMs: 50 },
  });
  const worker = await startWorker({ store, config });
  try {
    await expect
      .poll(async () => (await Promise.all(ids.map((id) => store.getMessage(id)))).map((detail) => detail?.status), { timeout: 15_000 })
      .toEqual(ids.map(() => expected));
  } finally {
    await worker.stop({ graceMs: 5_000 });
  }
  return ids;
}

async function attemptsOf(ids: readonly string[]): Promise<AttemptView[]> {
  return (await Promise.all(ids.map((id) => store.getMessage(id)))).flatMap((detail) => detail?.attempts ?? []);
}

function only(attempts: readonly AttemptView[], name: string): AttemptView[] {
  const found = attempts.filter((attempt) => attempt.provider === name);
  expect(found.length, `attempts at ${name}`).toBeGreaterThan(0);
  return found;
}

/** A careless provider: whatever credentials it got, it says back. */
function echoed(request: SeenRequest): string {
  return `authorization ${request.headers.authorization ?? '-'} token ${String(request.headers['x-amz-security-token'] ?? '-')}`;
}

const sendgridEcho =
  (status: number) =>
  (request: SeenRequest): LeakyAnswer => ({
    kind: 'answer',
    status,
    headers: { 'content-type': 'application/json', 'x-echo-authorization': request.headers.authorization ?? '' },
    body: JSON.stringify({ errors: [{ message: `echo: ${echoed(request)}`, field: null, help: null }] }),
  });

/** Every run of base64 characters in `text`, decoded from each of the four possible alignments. */
function base64Decodings(text: string): string[] {
  const runs = text.match(/[A-Za-z0-9+/]{12,}={0,2}/g) ?? [];
  return runs.flatMap((run) => [0, 1, 2, 3].map((skip) => Buffer.from(run.slice(skip), 'base64').toString('latin1')));
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function sesEcho(request: SeenRequest): LeakyAnswer {
  const token = String(request.headers['x-amz-security-token'] ?? '');
  return {
    kind: 'answer',
    status: 403,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': token },
    body:
      `<ErrorResponse xmlns="${SES_XMLNS}"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>` +
      `<Message>${escapeXml(`The security token included in the request is invalid. echo: ${echoed(request)}`)}</Message>` +
      `</Error><RequestId>${escapeXml(token)}</RequestId></ErrorResponse>`,
  };
}

describe('secrets in the attempt log', () => {
  it('are masked wherever a provider puts them, and never reach any table', async () => {
    // 1. Wrong credentials everywhere; the providers refuse in their own plain words.
    sesFaultProxy.setFault('invalidClientTokenId');
    const wrong = await attemptsOf(await phase([provider.sendgrid(SG_WRONG_KEY), provider.ses(), provider.smtp(SMTP_WRONG_PASS)], 'dead'));
    for (const attempt of only(wrong, 'sendgrid')) {
      expect(attempt).toMatchObject({ errorCode: 'PROVIDER_AUTH', statusCode: 401 });
      expect(attempt.errorMessage).toContain('The provided authorization grant is invalid');
    }
    for (const attempt of only(wrong, 'ses')) {
      expect(attempt).toMatchObject({ errorCode: 'PROVIDER_AUTH', statusCode: 403 });
      expect(attempt.errorMessage).toContain('The security token included in the request is invalid');
    }
    for (const attempt of only(wrong, 'smtp')) {
      expect(attempt).toMatchObject({ errorCode: 'PROVIDER_AUTH', statusCode: 535 });
      expect(attempt.errorMessage).toContain('535 5.7.8');
    }

    // 2. Right credentials, but every provider echoes them: SendGrid and SES in bodies and
    //    headers, the SMTP server in its reply to MAIL FROM.
    sendgridProxy.behave(sendgridEcho(503));
    sesProxy.behave(sesEcho);
    sesFaultProxy.setFault(null);
    smtp.faults.refuse.mail = {
      code: 451,
      message: `4.3.0 echo: AUTH PLAIN ${authPlain(SMTP_RIGHT_PASS)} for ${SMTP_USER} with ${SMTP_RIGHT_PASS}, try again later`,
    };
    const echoes = await attemptsOf(await phase([provider.sendgrid(SG_RIGHT_KEY), provider.ses(), provider.smtp(SMTP_RIGHT_PASS)], 'dead'));
    for (const attempt of only(echoes, 'sendgrid')) {
      expect(attempt).toMatchObject({ errorCode: 'PROVIDER_UNAVAILABLE', statusCode: 503 });
      expect(attempt.errorMessage).toContain('echo: authorization Bearer [REDACTED] token -');
      expect(attempt.detail).toMatchObject({ headers: { 'x-echo-authorization': 'Bearer [REDACTED]' } });
    }
    for (const attempt of only(echoes, 'ses')) {
      expect(attempt).toMatchObject({ errorCode: 'PROVIDER_AUTH', statusCode: 403 });
      expect(attempt.errorMessage).toContain('echo: authorization AWS4-HMAC-SHA256 Credential=[REDACTED]');
      expect(attempt.errorMessage).toContain('Signature=[REDACTED] token [REDACTED]');
    }
    for (const attempt of only(echoes, 'smtp')) {
      expect(attempt).toMatchObject({ errorCode: 'PROVIDER_UNAVAILABLE', statusCode: 451 });
      // What is left of the AUTH blob may be the user name (base64 of "\0user\0"), never the password.
      expect(attempt.errorMessage).toMatch(/echo: AUTH PLAIN [A-Za-z0-9+/]*\[REDACTED\] for relay-user with \[REDACTED\]/);
    }

    // 3. A wrong key (not SendGrid-shaped) echoed back, SES naming the secret in an
    //    AccessDenied, and an SMTP content refusal echoing the password (the message fails).
    sendgridProxy.behave(sendgridEcho(401));
    sesProxy.behave(null);
    sesFaultProxy.setFault({
      kind: 'error',
      status: 403,
      type: 'Sender',
      code: 'AccessDenied',
      message: `User: arn:aws:iam::123456789012:user/mailroute is not authorized to perform: ses:SendRawEmail; echo: key ${AWS_ACCESS_KEY_ID} secret ${AWS_SECRET_ACCESS_KEY} token ${AWS_SESSION_TOKEN}`,
    });
    smtp.faults.refuse.mail = undefined;
    smtp.faults.refuse.data = { code: 554, message: `5.7.1 echo: password ${SMTP_RIGHT_PASS} blob ${authPlain(SMTP_RIGHT_PASS)}` };
    const refusals = await attemptsOf(
      await phase([provider.sendgrid(SG_WRONG_KEY), provider.ses(), provider.smtpUrl(SMTP_RIGHT_PASS)], 'failed'),
    );
    for (const attempt of only(refusals, 'sendgrid')) {
      expect(attempt).toMatchObject({ errorCode: 'PROVIDER_AUTH', statusCode: 401 });
      expect(attempt.errorMessage).toContain('echo: authorization Bearer [REDACTED]');
      expect(attempt.detail).toMatchObject({ headers: { 'x-echo-authorization': 'Bearer [REDACTED]' } });
    }
    for (const attempt of only(refusals, 'ses')) {
      expect(attempt).toMatchObject({ errorCode: 'PROVIDER_AUTH', statusCode: 403 });
      expect(attempt.errorMessage).toContain('is not authorized to perform: ses:SendRawEmail');
      expect(attempt.errorMessage).toContain('echo: key [REDACTED] secret [REDACTED] token [REDACTED]');
    }
    for (const attempt of only(refusals, 'smtp')) {
      expect(attempt).toMatchObject({ errorCode: 'CONTENT_REJECTED', statusCode: 554 });
      expect(attempt.errorMessage).toMatch(/echo: password \[REDACTED\] blob [A-Za-z0-9+/]*\[REDACTED\]$/);
    }

    // 4. Right credentials, accepted by each provider in turn; SendGrid's 202 still echoes the key.
    smtp.faults.refuse.data = undefined;
    sendgridProxy.behave(() => ({ kind: 'forward', addHeaders: { 'x-echo-authorization': `Bearer ${SG_RIGHT_KEY}` } }));
    sesFaultProxy.setFault(null);
    const viaSendGrid = await attemptsOf(await phase([provider.sendgrid(SG_RIGHT_KEY)], 'sent'));
    sendgridProxy.behave(null);
    const viaSes = await attemptsOf(await phase([provider.sendgrid(SG_WRONG_KEY), provider.ses()], 'sent'));
    sesFaultProxy.setFault('accessDenied');
    const viaSmtp = await attemptsOf(
      await phase([provider.sendgrid(SG_WRONG_KEY), provider.ses(), provider.smtp(SMTP_RIGHT_PASS)], 'sent'),
    );
    for (const attempt of only(viaSendGrid, 'sendgrid')) {
      expect(attempt.outcome).toBe('accepted');
      expect(attempt.detail).toMatchObject({ status: 202, headers: { 'x-echo-authorization': 'Bearer [REDACTED]' } });
    }
    expect(only(viaSes, 'ses').map((attempt) => attempt.outcome)).toEqual(['accepted', 'accepted']);
    expect(only(viaSmtp, 'smtp').map((attempt) => attempt.outcome)).toEqual(['accepted', 'accepted']);
    expect(sendgrid.accepted).toHaveLength(2);
    expect(await ses.messages()).toHaveLength(2);
    expect(smtp.delivered()).toHaveLength(2);

    // The secrets really went over the wire, in every form searched for below.
    const sendgridAuth = sendgridProxy.requests.map((request) => request.headers.authorization ?? '');
    expect(sendgridAuth).toContain(`Bearer ${SG_RIGHT_KEY}`);
    expect(sendgridAuth).toContain(`Bearer ${SG_WRONG_KEY}`);
    const sesAuth = sesProxy.requests.map((request) => request.headers.authorization ?? '');
    expect(sesAuth.every((value) => value.startsWith(`AWS4-HMAC-SHA256 Credential=${AWS_ACCESS_KEY_ID}/`))).toBe(true);
    expect(sesProxy.requests.every((request) => request.headers['x-amz-security-token'] === AWS_SESSION_TOKEN)).toBe(true);
    const smtpWire = smtpTap.clientBytes();
    expect(smtpWire).toContain(`AUTH PLAIN ${authPlain(SMTP_WRONG_PASS)}`);
    expect(smtpWire).toContain(`AUTH PLAIN ${authPlain(SMTP_RIGHT_PASS)}`);
    const signatures = sesAuth.map((value) => /Signature=([0-9a-f]+)/.exec(value)?.[1] ?? '');
    expect(signatures.every((signature) => signature.length === 64)).toBe(true);

    const credentials = [
      SG_RIGHT_KEY,
      SG_WRONG_KEY,
      AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY,
      AWS_SESSION_TOKEN,
      SMTP_RIGHT_PASS,
      SMTP_WRONG_PASS,
      encodeURIComponent(SMTP_RIGHT_PASS),
      base64(SMTP_RIGHT_PASS),
      base64(SMTP_WRONG_PASS),
      ...signatures,
    ];
    const secrets = [...credentials, authPlain(SMTP_RIGHT_PASS), authPlain(SMTP_WRONG_PASS), ...sendgridAuth, ...sesAuth];

    // Everything the store holds: through its API, and every row of every table read raw.
    const ids = Array.from(new Set([...wrong, ...echoes, ...refusals, ...viaSendGrid, ...viaSes, ...viaSmtp].map((a) => a.messageId)));
    expect(ids).toHaveLength(12);
    const throughApi = JSON.stringify({
      details: await Promise.all(ids.map((id) => store.getMessage(id))),
      list: await store.listMessages({}, { limit: 500 }),
    });
    const raw = new Database(directory.url.replace(/^file:/, ''), { readonly: true });
    let tables: Record<string, unknown[]>;
    try {
      const names = raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[];
      tables = Object.fromEntries(names.map(({ name }) => [name, raw.prepare(`SELECT * FROM "${name}"`).all()]));
    } finally {
      raw.close();
    }
    expect(tables.attempt).toHaveLength(
      wrong.length + echoes.length + refusals.length + viaSendGrid.length + viaSes.length + viaSmtp.length,
    );
    expect((tables.message as { last_error: string | null }[]).filter((row) => row.last_error !== null)).toHaveLength(6);
    const rawText = JSON.stringify(tables);

    for (const [source, text] of [
      ['store API', throughApi],
      ['raw tables', rawText],
    ] as const) {
      expect(text).toContain('[REDACTED]');
      for (const secret of secrets) expect(text.includes(secret), `${source} holds ${secret}`).toBe(false);
      // Partial leaks count too: no 12-character piece of a credential may appear.
      for (const secret of credentials) {
        for (let start = 0; start + 12 <= secret.length; start += 1) {
          const piece = secret.slice(start, start + 12);
          expect(text.includes(piece), `${source} holds "${piece}" of ${secret}`).toBe(false);
        }
      }
      expect(text).not.toMatch(/Bearer\s+(?!\[REDACTED\])\S/i);
      expect(text).not.toMatch(/(Credential|Signature)=(?!\[REDACTED\])/);
      // Nor hidden in base64 (an AUTH blob, a header): decode every run at each alignment.
      for (const decoded of base64Decodings(text)) {
        for (const secret of credentials) expect(decoded.includes(secret), `${source} holds ${secret} in base64`).toBe(false);
      }
    }
  });
});
