import { MESSAGE_ID_HEADER, type Message, type Provider } from '@mailroute/core';
import { sampleMessage } from '@mailroute/core/testing';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SENDGRID_GLOBAL_URL, sendGridProviderConfigSchema } from './config.js';
import { createSendGridProvider } from './provider.js';

const PNG_1PX = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const PDF = Buffer.from('%PDF-1.4 booking').toString('base64');

let us: SendGridStandIn;
let eu: SendGridStandIn;
let provider: Provider;
let euProvider: Provider;

beforeAll(async () => {
  [us, eu] = await Promise.all([startSendGridStandIn(), startSendGridStandIn()]);
  provider = createSendGridProvider({ type: 'sendgrid', name: 'sendgrid-us', apiKey: us.apiKey, baseUrl: us.url });
  euProvider = createSendGridProvider({ type: 'sendgrid', name: 'sendgrid-eu', apiKey: eu.apiKey, baseUrl: eu.url });
});

afterEach(() => {
  for (const standIn of [us, eu]) {
    standIn.normal();
    standIn.reset();
  }
});

afterAll(async () => {
  await Promise.all([provider.close(), euProvider.close()]);
  await Promise.all([us.close(), eu.close()]);
});

const signal = () => new AbortController().signal;

function fullMessage(): Message {
  return sampleMessage({
    from: { email: 'booking@hotel.example', name: '山田 太郎' },
    to: [{ email: 'guest@example.org', name: '佐藤 花子' }, { email: 'partner@example.org' }],
    cc: [{ email: 'desk@hotel.example', name: 'Front Desk' }],
    bcc: [{ email: 'audit@hotel.example' }],
    replyTo: [{ email: 'reservations@hotel.example', name: '予約係' }, { email: 'manager@hotel.example' }],
    subject: 'ご予約ありがとうございます',
    text: '山田様、ご予約を承りました。',
    html: '<p>山田様、ご予約を承りました。</p><img src="cid:logo@hotel">',
    attachments: [
      { filename: '予約確認.pdf', content: PDF, contentType: 'application/pdf', disposition: 'attachment' },
      { filename: 'logo.png', content: PNG_1PX, contentType: 'image/png', disposition: 'inline', contentId: 'logo@hotel' },
    ],
    headers: { 'X-Campaign': 'spring-2025', 'X-Hotel-Name': 'ホテル東京' },
    tags: ['booking', 'confirmation'],
    metadata: { reservation_id: 'R-1234', locale: 'ja-JP' },
  });
}

describe('SendGrid provider against the stand-in', () => {
  it('sends a full Japanese message that passes the official schema, field by field', async () => {
    const message = fullMessage();
    const outcome = await provider.send(message, { signal: signal() });

    expect(outcome.ok).toBe(true);
    const [request] = us.requests;
    const [delivered] = us.accepted;
    if (!outcome.ok || !request || !delivered) throw new Error('message not accepted');
    expect(outcome.providerMessageId).toBe(delivered.messageId);
    expect(request.outcome).toEqual({ kind: 'answered', status: 202, messageId: delivered.messageId });
    expect(request.validation).toEqual({ valid: true, errors: [] });
    expect(request.headers.authorization).toBe(`Bearer ${us.apiKey}`);
    expect(request.headers['x-mailroute-id']).toBeUndefined();

    const body = delivered.body;
    expect(body.personalizations).toEqual([
      {
        to: [{ email: 'guest@example.org', name: '佐藤 花子' }, { email: 'partner@example.org' }],
        cc: [{ email: 'desk@hotel.example', name: 'Front Desk' }],
        bcc: [{ email: 'audit@hotel.example' }],
      },
    ]);
    expect(body.from).toEqual({ email: 'booking@hotel.example', name: '山田 太郎' });
    expect(body.reply_to).toBeUndefined();
    expect(body.reply_to_list).toEqual([{ email: 'reservations@hotel.example', name: '予約係' }, { email: 'manager@hotel.example' }]);
    expect(body.subject).toBe('ご予約ありがとうございます');
    expect(body.content).toEqual([
      { type: 'text/plain', value: '山田様、ご予約を承りました。' },
      { type: 'text/html', value: '<p>山田様、ご予約を承りました。</p><img src="cid:logo@hotel">' },
    ]);
    expect(body.attachments).toEqual([
      { content: PDF, filename: '予約確認.pdf', type: 'application/pdf', disposition: 'attachment' },
      { content: PNG_1PX, filename: 'logo.png', type: 'image/png', disposition: 'inline', content_id: 'logo@hotel' },
    ]);
    expect(body.headers).toEqual({
      'X-Campaign': 'spring-2025',
      'X-Hotel-Name': '=?UTF-8?B?44Ob44OG44Or5p2x5Lqs?=',
      [MESSAGE_ID_HEADER]: message.id,
    });
    expect(body.categories).toEqual(['booking', 'confirmation']);
    expect(body.custom_args).toEqual({ mailroute_id: message.id, reservation_id: 'R-1234', locale: 'ja-JP' });
    expect(body.mail_settings).toBeUndefined();
    expect(outcome.detail).toMatchObject({ status: 202, requestWritten: true, headers: { 'x-message-id': delivered.messageId } });
  });

  it('sets the sandbox flag and IP pool when configured, and takes the 200 without a message id', async () => {
    const sandbox = createSendGridProvider({
      type: 'sendgrid',
      name: 'sendgrid-sandbox',
      apiKey: us.apiKey,
      baseUrl: us.url,
      sandboxMode: true,
      ipPoolName: 'transactional',
    });
    try {
      const message = sampleMessage();
      const outcome = await sandbox.send(message, { signal: signal() });
      expect(outcome).toMatchObject({ ok: true, providerMessageId: message.id, detail: { status: 200 } });
      expect(us.requests[0]?.body).toMatchObject({ mail_settings: { sandbox_mode: { enable: true } }, ip_pool_name: 'transactional' });
      expect(us.accepted).toHaveLength(0);
    } finally {
      await sandbox.close();
    }
  });

  it('keeps two accounts apart: the EU provider reaches only its own base URL and key', async () => {
    const [usOutcome, euOutcome] = await Promise.all([
      provider.send(sampleMessage(), { signal: signal() }),
      euProvider.send(sampleMessage(), { signal: signal() }),
    ]);
    expect(usOutcome.ok && euOutcome.ok).toBe(true);
    expect(us.requests).toHaveLength(1);
    expect(eu.requests).toHaveLength(1);
    expect(eu.requests[0]?.headers.authorization).toBe(`Bearer ${eu.apiKey}`);
    expect(euOutcome.ok && euOutcome.providerMessageId).toBe(eu.accepted[0]?.messageId);
  });

  it('defaults to the global host', () => {
    expect(sendGridProviderConfigSchema.parse({ type: 'sendgrid', name: 'sg', apiKey: 'SG.x.y' }).baseUrl).toBe(SENDGRID_GLOBAL_URL);
  });

  it('does not retry: one request for one 503', async () => {
    us.failWith(503);
    const outcome = await provider.send(sampleMessage(), { signal: signal() });
    expect(outcome).toMatchObject({ ok: false, error: { code: 'PROVIDER_UNAVAILABLE', detail: { status: 503 } } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(us.requests).toHaveLength(1);
  });

  it('cuts a hanging request promptly when the signal aborts, reporting it written', async () => {
    us.setFault({ kind: 'hang' });
    const controller = new AbortController();
    const sending = provider.send(sampleMessage(), { signal: controller.signal });
    await us.waitForRequests(1);
    const abortedAt = performance.now();
    controller.abort(new Error('router timeout'));
    const outcome = await sending;
    expect(performance.now() - abortedAt).toBeLessThan(200);
    expect(outcome).toMatchObject({ ok: false, error: { code: 'TIMEOUT', category: 'ambiguous', detail: { requestWritten: true } } });
  });

  it('reports an abort before anything was written as unreachable', async () => {
    const controller = new AbortController();
    controller.abort();
    const outcome = await provider.send(sampleMessage(), { signal: controller.signal });
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: 'PROVIDER_UNREACHABLE', detail: { requestWritten: false } },
    });
    expect(us.requests).toHaveLength(0);
  });

  it('reports accept-then-reset as a reset after writing: SendGrid has the message', async () => {
    us.setFault({ kind: 'acceptThenReset' });
    const outcome = await provider.send(sampleMessage(), { signal: signal() });
    expect(outcome).toMatchObject({ ok: false, error: { code: 'CONNECTION_RESET', detail: { requestWritten: true } } });
    expect(us.accepted).toHaveLength(1);
  });

  it('keeps concurrent sends apart', async () => {
    const messages = Array.from({ length: 20 }, () => sampleMessage());
    const outcomes = await Promise.all(messages.map((message) => provider.send(message, { signal: signal() })));
    const ids = outcomes.map((outcome) => (outcome.ok ? outcome.providerMessageId : outcome.error.code));
    expect(new Set(ids).size).toBe(20);
    const byOurId = new Map(us.accepted.map((accepted) => [accepted.body.custom_args?.mailroute_id, accepted.messageId]));
    expect(messages.map((message) => byOurId.get(message.id))).toEqual(ids);
  });

  it('refuses a message without a To recipient without calling SendGrid', async () => {
    const outcome = await provider.send(sampleMessage({ to: [], bcc: [{ email: 'audit@hotel.example' }] }), { signal: signal() });
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: 'PROVIDER_BAD_REQUEST', provider: 'sendgrid-us', detail: { requestWritten: false } },
    });
    expect(us.requests).toHaveLength(0);
  });
});

describe('SendGrid verify()', () => {
  it('is ok with a good key and sends no mail', async () => {
    expect(await provider.verify()).toMatchObject({ ok: true, detail: { status: 200 } });
    expect(us.requests.map((request) => `${request.method} ${request.path}`)).toEqual(['GET /v3/scopes']);
    expect(us.accepted).toHaveLength(0);
  });

  it('is PROVIDER_AUTH with a bad key and sends no mail', async () => {
    const badKey = 'SG.not-the-right-key.0123456789abcdef';
    const wrong = createSendGridProvider({ type: 'sendgrid', name: 'sendgrid-bad', apiKey: badKey, baseUrl: us.url });
    try {
      const outcome = await wrong.verify();
      expect(outcome).toMatchObject({ ok: false, error: { code: 'PROVIDER_AUTH', detail: { status: 401 } } });
      expect(JSON.stringify(outcome)).not.toContain(badKey);
      expect(us.requests.map((request) => request.path)).toEqual(['/v3/scopes']);
      expect(us.accepted).toHaveLength(0);
    } finally {
      await wrong.close();
    }
  });

  it('is PROVIDER_AUTH when the key lacks the mail.send scope', async () => {
    const readOnly = await startSendGridStandIn({ scopes: ['user.profile.read'] });
    const limited = createSendGridProvider({ type: 'sendgrid', name: 'sendgrid-ro', apiKey: readOnly.apiKey, baseUrl: readOnly.url });
    try {
      expect(await limited.verify()).toMatchObject({
        ok: false,
        error: { code: 'PROVIDER_AUTH', message: expect.stringContaining('mail.send') },
      });
    } finally {
      await limited.close();
      await readOnly.close();
    }
  });
});
