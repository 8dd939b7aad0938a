import { randomUUID } from 'node:crypto';
import { type Message, type MessageInput, type Provider, parseMessage } from '@mailroute/core';
import { type SesEmulator, type SesFaultProxy, startSesEmulator, startSesFaultProxy } from '@mailroute/standins/ses';
import { type AddressObject, simpleParser } from 'mailparser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SesProviderConfigInput, sesProviderConfigSchema } from './config.js';
import { createSesProvider } from './provider.js';

const CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue',
};

function provider(endpoint: string, extra: Partial<SesProviderConfigInput> = {}): Provider {
  return createSesProvider(
    sesProviderConfigSchema.parse({ type: 'ses', name: 'ses-test', region: 'us-east-1', endpoint, credentials: CREDENTIALS, ...extra }),
  );
}

function message(input: Partial<MessageInput> = {}): Message {
  const parsed = parseMessage({ from: 'sender@example.com', to: ['to@example.com'], subject: 'Hello', text: 'Hi', ...input });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return { ...parsed.value, id: randomUUID() };
}

const PDF = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x2d, 0x00, 0xff, 0x80, 0x0a, 0x0d, 0xe3, 0x81, 0x82]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]);
const TEXT = 'ご予約ありがとうございます。\n山田 太郎 様\n\nBooking B-42 is confirmed.';
const HTML = '<p>ご予約ありがとうございます。</p><p><img src="cid:logo@mailroute"></p>';

function addresses(field: AddressObject | AddressObject[] | undefined) {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((entry) => entry.value.map(({ address, name }) => ({ address, name })));
}

describe('SES provider against aws-ses-v2-local', () => {
  let emulator: SesEmulator;
  let proxy: SesFaultProxy;
  let ses: Provider;

  beforeAll(async () => {
    emulator = await startSesEmulator();
    proxy = await startSesFaultProxy({ target: emulator.url });
    ses = provider(proxy.url, { configurationSetName: 'transactional' });
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

  it('sends a full message whose MIME keeps every field, with Bcc only in the envelope', async () => {
    const mail = message({
      from: { email: 'reservations@example.com', name: '山田 太郎' },
      to: [{ email: 'guest@example.com', name: '佐藤 花子' }, 'second@example.com'],
      cc: ['Front Desk <desk@example.com>'],
      bcc: ['audit@example.com', { email: 'archive@example.com', name: 'Archive' }],
      replyTo: ['help@example.com', { email: 'owner@example.com', name: '山田 太郎' }],
      subject: 'ご予約の確認 (Booking B-42)',
      text: TEXT,
      html: HTML,
      attachments: [
        { filename: '予約確認.pdf', content: PDF.toString('base64'), contentType: 'application/pdf' },
        {
          filename: 'logo.png',
          content: PNG.toString('base64'),
          contentType: 'image/png',
          disposition: 'inline',
          contentId: 'logo@mailroute',
        },
      ],
      headers: { 'X-Campaign': 'spring-2026', 'List-Unsubscribe': '<mailto:unsubscribe@example.com>' },
      tags: ['booking'],
      metadata: { booking_id: 'B-42', 'shop.region': 'eu' },
    });

    const outcome = await ses.send(mail, { signal: new AbortController().signal });
    if (!outcome.ok) throw new Error(JSON.stringify(outcome.error));
    expect(outcome.detail).toMatchObject({ status: 200, requestWritten: true, body: { skippedTags: ['shop.region'] } });

    const [stored, ...others] = await emulator.messages();
    expect(others).toEqual([]);
    expect(outcome.providerMessageId).toBe(stored?.messageId);
    expect(stored?.configurationSetName).toBe('transactional');
    expect(stored?.tags).toEqual({ mailroute_id: mail.id, booking_id: 'B-42', booking: 'true' });

    const raw = stored?.raw ?? Buffer.alloc(0);
    expect(raw.toString('latin1')).not.toMatch(/^bcc:/im);
    expect(raw.toString('latin1')).not.toContain('audit@example.com');
    expect(raw.toString('latin1')).not.toContain('archive@example.com');

    const parsed = await simpleParser(raw, { keepCidLinks: true });
    expect(addresses(parsed.from)).toEqual([{ address: 'reservations@example.com', name: '山田 太郎' }]);
    expect(addresses(parsed.to)).toEqual([
      { address: 'guest@example.com', name: '佐藤 花子' },
      { address: 'second@example.com', name: '' },
    ]);
    expect(addresses(parsed.cc)).toEqual([{ address: 'desk@example.com', name: 'Front Desk' }]);
    expect(addresses(parsed.replyTo)).toEqual([
      { address: 'help@example.com', name: '' },
      { address: 'owner@example.com', name: '山田 太郎' },
    ]);
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.subject).toBe('ご予約の確認 (Booking B-42)');
    expect(parsed.text?.trimEnd()).toBe(TEXT);
    expect(parsed.html).toBe(HTML);
    expect(parsed.headers.get('x-mailroute-id')).toBe(mail.id);
    expect(parsed.headers.get('x-campaign')).toBe('spring-2026');
    expect(parsed.headerLines.find((line) => line.key === 'list-unsubscribe')?.line).toBe(
      'List-Unsubscribe: <mailto:unsubscribe@example.com>',
    );

    const pdf = parsed.attachments.find((attachment) => attachment.filename === '予約確認.pdf');
    expect(pdf?.contentType).toBe('application/pdf');
    expect(pdf?.contentDisposition).toBe('attachment');
    expect(pdf?.content.equals(PDF)).toBe(true);
    const logo = parsed.attachments.find((attachment) => attachment.filename === 'logo.png');
    expect(logo).toMatchObject({ contentType: 'image/png', contentDisposition: 'inline', cid: 'logo@mailroute', related: true });
    expect(logo?.content.equals(PNG)).toBe(true);
    expect(parsed.attachments).toHaveLength(2);

    const [request, ...moreRequests] = proxy.requestsFor('SendRawEmail');
    expect(moreRequests).toEqual([]);
    const destinations = Object.entries(request?.params ?? {})
      .filter(([key]) => key.startsWith('Destinations.member.'))
      .map(([, value]) => value);
    expect(destinations.sort()).toEqual(
      ['guest@example.com', 'second@example.com', 'desk@example.com', 'audit@example.com', 'archive@example.com'].sort(),
    );
  });

  it('cuts a hanging request promptly on abort and says the request was written', async () => {
    proxy.setFault('hang');
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(new Error('router timeout')), 150);
    const outcome = await ses.send(message(), { signal: controller.signal });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error).toMatchObject({ code: 'TIMEOUT', category: 'ambiguous', detail: { requestWritten: true } });
    expect(outcome.error.message).toContain('router timeout');
    expect(proxy.requestsFor('SendRawEmail')).toHaveLength(1);
  });

  it('reports requestWritten false when aborted before anything was sent', async () => {
    const outcome = await ses.send(message(), { signal: AbortSignal.abort(new Error('caller gave up')) });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error).toMatchObject({ code: 'PROVIDER_UNREACHABLE', detail: { requestWritten: false } });
    expect(proxy.requests).toEqual([]);
  });

  describe('verify()', () => {
    it('succeeds against the stand-in with GetSendQuota and sends no mail', async () => {
      const outcome = await ses.verify();
      expect(outcome).toMatchObject({ ok: true, detail: { status: 200, body: { max24HourSend: 50_000, maxSendRate: 14 } } });
      expect(proxy.requests.map((entry) => entry.action)).toEqual(['GetSendQuota']);

      const direct = provider(emulator.url);
      try {
        expect((await direct.verify()).ok).toBe(true);
      } finally {
        await direct.close();
      }
      expect(await emulator.messages()).toEqual([]);
    });

    it('reports PROVIDER_AUTH when SES refuses the credentials', async () => {
      proxy.setFault('invalidClientTokenId');
      const outcome = await ses.verify();
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.error).toMatchObject({ code: 'PROVIDER_AUTH', detail: { status: 403, code: 'InvalidClientTokenId' } });
      expect(await emulator.messages()).toEqual([]);
    });

    it('gives up after its own timeout when SES hangs', async () => {
      proxy.setFault('hang');
      const impatient = provider(proxy.url, { verifyTimeoutMs: 200 });
      try {
        const started = performance.now();
        const outcome = await impatient.verify();
        expect(performance.now() - started).toBeLessThan(1_000);
        expect(outcome).toMatchObject({ ok: false, error: { code: 'PROVIDER_UNAVAILABLE', message: expect.stringContaining('200 ms') } });
      } finally {
        await impatient.close();
      }
    });
  });
});
