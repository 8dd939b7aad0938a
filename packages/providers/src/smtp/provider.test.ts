import { MESSAGE_ID_HEADER, type Message } from '@mailroute/core';
import { sampleMessage } from '@mailroute/core/testing';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import type { AddressObject } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpProvider, smtpProviderConfigSchema } from './index.js';

const USER = 'relay-user';
const PASS = 'Sm7p-pa55word!';
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const PDF = Buffer.from('%PDF-1.4 予約確認書').toString('base64');

function message(overrides: Partial<Message> = {}): Message {
  return sampleMessage({ from: { email: 'bookings@hotel.example.com', name: 'ホテル予約' }, ...overrides });
}

function fullMessage(): Message {
  return message({
    from: { email: 'bookings@hotel.example.com', name: '山田 太郎' },
    to: [
      { email: 'guest@example.org', name: '山田 花子' },
      { email: 'second@example.org', name: 'Second, Guest' },
    ],
    cc: [{ email: 'frontdesk@hotel.example.com', name: 'Front Desk' }],
    bcc: [{ email: 'audit@hotel.example.com', name: 'Audit' }],
    replyTo: [{ email: 'reply@hotel.example.com', name: '予約係' }, { email: 'backup@hotel.example.com' }],
    subject: 'ご予約ありがとうございます（確認番号 A-123）',
    text: '山田 太郎 様\nご予約を承りました。\nチェックイン: 15:00',
    html: '<p>山田 太郎 様</p><p>ご予約を承りました。</p><img src="cid:logo@hotel">',
    attachments: [
      { filename: '予約確認.pdf', content: PDF, contentType: 'application/pdf', disposition: 'attachment' },
      { filename: 'logo.png', content: PIXEL, contentType: 'image/png', disposition: 'inline', contentId: 'logo@hotel' },
    ],
    headers: { 'X-Campaign': 'spring', 'List-Unsubscribe': '<mailto:unsubscribe@hotel.example.com>' },
    tags: ['booking', 'confirmation'],
    metadata: { reservation: 'A-123', guest_name: '山田' },
  });
}

const addresses = (field: AddressObject | AddressObject[] | undefined) =>
  [field ?? []].flat().flatMap((object) => object.value.map((entry) => ({ name: entry.name, address: entry.address })));

/** RFC 2047 encoded words, which mailparser leaves as they are in headers it does not know. */
const decodeWords = (value: unknown) =>
  String(value)
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=/gi, (_word, encoding: string, text: string) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_hex, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
            'latin1',
          ).toString('utf8'),
    );

const never = () => new AbortController().signal;

describe('smtp provider against the stand-in', () => {
  let standin: SmtpStandin;
  const providers: { close(): Promise<void> }[] = [];
  const provider = (overrides: Record<string, unknown> = {}) => {
    const created = createSmtpProvider({
      type: 'smtp',
      name: 'smtp-test',
      host: standin.host,
      port: standin.port,
      secure: false,
      auth: { user: USER, pass: PASS },
      ...overrides,
    });
    providers.push(created);
    return created;
  };

  beforeAll(async () => {
    standin = await startSmtpStandin({ auth: { user: USER, pass: PASS } });
  });
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.close()));
    standin.reset();
  });
  afterAll(async () => {
    await standin.close();
  });

  it('delivers every field of a full message, Japanese included, with Bcc only in the envelope', async () => {
    const sent = fullMessage();
    const outcome = await provider().send(sent, { signal: never() });
    expect(outcome).toMatchObject({ ok: true, providerMessageId: `<${sent.id}@hotel.example.com>` });
    if (!outcome.ok) return;
    const [received] = await standin.waitForMessages(1);
    if (!received) throw new Error('nothing received');
    const mail = received.parsed;

    expect(outcome.providerMessageId).toBe(mail.messageId);
    expect(outcome.detail).toMatchObject({ status: 250, requestWritten: true, body: { response: received.reply } });
    expect(received.user).toBe(USER);
    expect(received.envelope).toEqual({
      mailFrom: 'bookings@hotel.example.com',
      rcptTo: ['guest@example.org', 'second@example.org', 'frontdesk@hotel.example.com', 'audit@hotel.example.com'],
    });

    expect(addresses(mail.from)).toEqual([{ name: '山田 太郎', address: 'bookings@hotel.example.com' }]);
    expect(addresses(mail.to)).toEqual([
      { name: '山田 花子', address: 'guest@example.org' },
      { name: 'Second, Guest', address: 'second@example.org' },
    ]);
    expect(addresses(mail.cc)).toEqual([{ name: 'Front Desk', address: 'frontdesk@hotel.example.com' }]);
    expect(addresses(mail.replyTo)).toEqual([
      { name: '予約係', address: 'reply@hotel.example.com' },
      { name: '', address: 'backup@hotel.example.com' },
    ]);
    expect(mail.bcc).toBeUndefined();
    expect(received.raw.toString('utf8')).not.toMatch(/audit@hotel\.example\.com/);
    expect(received.raw.toString('utf8')).not.toMatch(/^bcc:/im);

    expect(mail.subject).toBe(sent.subject);
    expect(mail.text?.trim()).toBe(sent.text);
    expect(mail.html).toBe(sent.html);

    const byName = (name: string) => mail.attachments.find((attachment) => attachment.filename === name);
    expect(mail.attachments).toHaveLength(2);
    expect(byName('予約確認.pdf')).toMatchObject({ contentType: 'application/pdf', contentDisposition: 'attachment' });
    expect(byName('予約確認.pdf')?.content.toString('base64')).toBe(PDF);
    expect(byName('logo.png')).toMatchObject({ contentType: 'image/png', contentDisposition: 'inline', cid: 'logo@hotel' });
    expect(byName('logo.png')?.content.toString('base64')).toBe(PIXEL);

    expect(mail.headers.get(MESSAGE_ID_HEADER.toLowerCase())).toBe(sent.id);
    expect(mail.headers.get('x-campaign')).toBe('spring');
    expect(mail.headers.get('x-mailroute-tag')).toEqual(['booking', 'confirmation']);
    expect(mail.headers.get('x-mailroute-meta-reservation')).toBe('A-123');
    expect(decodeWords(mail.headers.get('x-mailroute-meta-guest_name'))).toBe('山田');
  });

  it('reuses pooled connections: many sends over at most maxConnections connections', async () => {
    const pooled = provider({ maxConnections: 2 });
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => pooled.send(message(), { signal: never() })));
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    for (let i = 0; i < 4; i += 1) expect((await pooled.send(message(), { signal: never() })).ok).toBe(true);
    expect(standin.delivered()).toHaveLength(12);
    expect(standin.connectionCount).toBeGreaterThanOrEqual(1);
    expect(standin.connectionCount).toBeLessThanOrEqual(2);
  });

  it('keeps the partial refusal in detail when some recipients were accepted', async () => {
    standin.faults.rejectRecipients = ['gone@example.org'];
    const outcome = await provider().send(message({ to: [{ email: 'guest@example.org' }, { email: 'gone@example.org' }] }), {
      signal: never(),
    });
    expect(outcome.ok).toBe(true);
    expect(outcome.ok && outcome.detail?.body).toMatchObject({
      accepted: ['guest@example.org'],
      rejected: [{ recipient: 'gone@example.org', response: expect.stringMatching(/^550 5\.1\.1 /) }],
    });
  });

  it('an abort cuts a hung send at once, and other sends on the same provider still succeed', async () => {
    const shared = provider({ maxConnections: 3 });
    standin.failNext(1, { kind: 'hang' });
    const controller = new AbortController();
    const hung = shared.send(message({ subject: 'hung' }), { signal: controller.signal });
    await expect.poll(() => standin.messages.map((m) => m.outcome)).toEqual(['hung']);

    const others = Array.from({ length: 4 }, () => shared.send(message(), { signal: never() }));
    const abortedAt = Date.now();
    controller.abort(new Error('router timeout'));
    const outcome = await hung;
    expect(Date.now() - abortedAt).toBeLessThan(500);
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: 'TIMEOUT', category: 'ambiguous', detail: { code: 'EABORT', requestWritten: true } },
    });
    const results = await Promise.all(others);
    expect(results.map((result) => result.ok)).toEqual([true, true, true, true]);
    expect(standin.delivered().filter((m) => m.outcome === 'accepted')).toHaveLength(4);
  });

  it('an abort before the data went out reports requestWritten false and nothing arrives', async () => {
    standin.faults.envelopeLatencyMs = 2_000;
    const controller = new AbortController();
    const sending = provider().send(message(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 150);
    const outcome = await sending;
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: 'PROVIDER_UNREACHABLE', category: 'provider', detail: { code: 'EABORT', requestWritten: false } },
    });
    expect(standin.messages).toEqual([]);
  });

  it('an already aborted signal sends nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const outcome = await provider().send(message(), { signal: controller.signal });
    expect(outcome).toMatchObject({ ok: false, error: { code: 'PROVIDER_UNREACHABLE', detail: { requestWritten: false } } });
    expect(standin.connectionCount).toBe(0);
  });

  it('fails fast while the server is down and sends again once it is back on the same port', async () => {
    const pooled = provider();
    expect((await pooled.send(message(), { signal: never() })).ok).toBe(true);
    await standin.close();
    try {
      const down = await pooled.send(message(), { signal: never() });
      expect(down).toMatchObject({ ok: false, error: { code: 'PROVIDER_UNREACHABLE', detail: { requestWritten: false } } });
    } finally {
      await standin.restart();
    }
    expect((await pooled.send(message(), { signal: never() })).ok).toBe(true);
    expect(standin.delivered()).toHaveLength(2);
  });

  describe('verify', () => {
    it('is ok with the right credentials and sends no mail', async () => {
      expect(await provider().verify()).toEqual({ ok: true });
      expect(standin.connectionCount).toBe(1);
      expect(standin.messages).toEqual([]);
    });

    it('reports PROVIDER_AUTH for a wrong password, without the password', async () => {
      const outcome = await provider({ auth: { user: USER, pass: 'not-the-Pa55word' } }).verify();
      expect(outcome).toMatchObject({ ok: false, error: { code: 'PROVIDER_AUTH', detail: { status: 535, code: 'EAUTH' } } });
      expect(JSON.stringify(outcome)).not.toContain('not-the-Pa55word');
      expect(standin.messages).toEqual([]);
    });

    it('reports PROVIDER_UNREACHABLE on a closed port', async () => {
      const closed = await startSmtpStandin();
      const port = closed.port;
      await closed.close();
      const outcome = await provider({ port }).verify();
      expect(outcome).toMatchObject({
        ok: false,
        error: { code: 'PROVIDER_UNREACHABLE', detail: { code: 'ESOCKET', body: { originalCode: 'ECONNREFUSED' } } },
      });
    });

    it('does not connect when its signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      expect(await provider().verify({ signal: controller.signal })).toMatchObject({ ok: false, error: { code: 'PROVIDER_UNREACHABLE' } });
      expect(standin.connectionCount).toBe(0);
    });
  });
});

describe('smtp provider over implicit TLS', () => {
  let standin: SmtpStandin;
  beforeAll(async () => {
    standin = await startSmtpStandin({ secure: true });
  });
  afterAll(async () => {
    await standin.close();
  });

  it('delivers over smtps when the test certificate is accepted by configuration', async () => {
    const tls = createSmtpProvider({ type: 'smtp', name: 'smtps', url: standin.url, tls: { rejectUnauthorized: false } });
    try {
      expect(standin.url).toMatch(/^smtps:/);
      expect(await tls.send(message(), { signal: never() })).toMatchObject({ ok: true });
      expect(await tls.verify()).toEqual({ ok: true });
      expect(standin.delivered()).toHaveLength(1);
    } finally {
      await tls.close();
    }
  });
});

describe('smtp provider config', () => {
  const base = { type: 'smtp', name: 'relay' } as const;

  it('fills defaults', () => {
    expect(smtpProviderConfigSchema.parse({ ...base, host: 'smtp.example.com' })).toMatchObject({
      tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2' },
      requireTLS: false,
      maxConnections: 5,
      maxMessages: 100,
      connectionTimeoutMs: 10_000,
      greetingTimeoutMs: 10_000,
      socketTimeoutMs: 60_000,
    });
  });

  it.each([
    ['neither url nor host', {}],
    ['both url and host', { url: 'smtp://a.example.com', host: 'a.example.com' }],
    ['a url that is not smtp', { url: 'https://a.example.com' }],
    ['an unknown field', { host: 'a.example.com', retries: 3 }],
  ])('refuses %s', (_name, extra) => {
    expect(smtpProviderConfigSchema.safeParse({ ...base, ...extra }).success).toBe(false);
  });
});
