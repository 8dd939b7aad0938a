import { createHash } from 'node:crypto';
import { type Address, MESSAGE_ID_HEADER, type Message } from '@mailroute/core';
import { createSendGridProvider } from '@mailroute/providers/sendgrid';
import { createSesProvider } from '@mailroute/providers/ses';
import { createSmtpProvider } from '@mailroute/providers/smtp';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { type SesEmulator, startSesEmulator } from '@mailroute/standins/ses';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import { type AddressObject, type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * One message, three providers: what each stand-in received must describe the same mail.
 * SendGrid receives JSON, SES and SMTP receive MIME; both are reduced to one shape.
 */

interface Normalized {
  from: Address;
  to: Address[];
  cc: Address[];
  bcc: string[];
  replyTo: Address[];
  subject: string;
  text: string;
  html: string;
  attachments: { filename: string; contentType: string; disposition: string; contentId: string | undefined; sha256: string }[];
  headers: Record<string, string>;
  mailrouteId: string;
}

const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const pdf = Buffer.from('%PDF-1.4\n% mailroute test invoice\n%%EOF\n');

const message: Message = {
  id: '0193a7b2-5f1e-7c3d-9a4b-2e8f6d1c0b9a',
  from: { email: 'desk@hotel.example', name: 'ホテル 受付' },
  to: [
    { email: 'taro@example.jp', name: '山田 太郎' },
    { email: 'ann@example.org', name: 'Ann Smith' },
  ],
  cc: [{ email: 'manager@hotel.example', name: 'Manager' }],
  bcc: [{ email: 'archive@hotel.example' }],
  replyTo: [{ email: 'reservations@hotel.example', name: '予約係' }, { email: 'help@hotel.example' }],
  subject: 'ご予約の確認 (Booking 42)',
  text: '山田様\nご予約ありがとうございます。\nSee you on Friday.',
  html: '<p>山田様</p><p>ご予約ありがとうございます。</p><img src="cid:logo@hotel">',
  attachments: [
    { filename: 'logo.png', content: png.toString('base64'), contentType: 'image/png', disposition: 'inline', contentId: 'logo@hotel' },
    { filename: '請求書.pdf', content: pdf.toString('base64'), contentType: 'application/pdf', disposition: 'attachment' },
  ],
  headers: { 'X-Booking-Id': 'B-42', 'List-Unsubscribe': '<mailto:unsubscribe@hotel.example>' },
  tags: ['booking'],
  metadata: { booking: '42' },
};

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function expected(): Normalized {
  return {
    from: message.from,
    to: [...message.to],
    cc: [...message.cc],
    bcc: message.bcc.map((address) => address.email),
    replyTo: [...message.replyTo],
    subject: message.subject,
    text: message.text ?? '',
    html: message.html ?? '',
    attachments: message.attachments.map((attachment) => ({
      filename: attachment.filename,
      contentType: attachment.contentType,
      disposition: attachment.disposition,
      contentId: attachment.contentId,
      sha256: sha256(Buffer.from(attachment.content, 'base64')),
    })),
    headers: { 'x-booking-id': 'B-42', 'list-unsubscribe': '<mailto:unsubscribe@hotel.example>' },
    mailrouteId: message.id,
  };
}

function addresses(value: AddressObject | AddressObject[] | undefined): Address[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((object) =>
    object.value.map((entry) => (entry.name ? { email: entry.address ?? '', name: entry.name } : { email: entry.address ?? '' })),
  );
}

function fromMime(parsed: ParsedMail, envelope: readonly string[]): Normalized {
  const headerText = (name: string) => {
    const value = parsed.headers.get(name);
    if (typeof value === 'string') return value;
    const line = parsed.headerLines.find((entry) => entry.key === name)?.line ?? '';
    return line.slice(line.indexOf(':') + 1).trim();
  };
  const visible = new Set([...addresses(parsed.to), ...addresses(parsed.cc)].map((address) => address.email));
  return {
    from: addresses(parsed.from)[0] ?? { email: '' },
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    bcc: envelope.filter((email) => !visible.has(email)),
    replyTo: addresses(parsed.replyTo),
    subject: parsed.subject ?? '',
    text: (parsed.text ?? '').trimEnd(),
    html: typeof parsed.html === 'string' ? parsed.html.trimEnd() : '',
    attachments: parsed.attachments.map((attachment) => ({
      filename: attachment.filename ?? '',
      contentType: attachment.contentType,
      disposition: attachment.contentDisposition ?? 'attachment',
      contentId: attachment.cid,
      sha256: sha256(attachment.content),
    })),
    headers: { 'x-booking-id': headerText('x-booking-id'), 'list-unsubscribe': headerText('list-unsubscribe') },
    mailrouteId: headerText(MESSAGE_ID_HEADER.toLowerCase()),
  };
}

interface SendGridJson {
  from: { email: string; name?: string };
  personalizations: { to: { email: string; name?: string }[]; cc?: { email: string; name?: string }[]; bcc?: { email: string }[] }[];
  reply_to?: { email: string; name?: string };
  reply_to_list?: { email: string; name?: string }[];
  subject: string;
  content: { type: string; value: string }[];
  attachments?: { content: string; filename: string; type?: string; disposition?: string; content_id?: string }[];
  headers?: Record<string, string>;
  custom_args?: Record<string, string>;
}

function fromSendGrid(body: SendGridJson): Normalized {
  const toAddress = (entry: { email: string; name?: string }): Address =>
    entry.name ? { email: entry.email, name: entry.name } : { email: entry.email };
  const personalization = body.personalizations[0];
  const lowerHeaders = Object.fromEntries(Object.entries(body.headers ?? {}).map(([key, value]) => [key.toLowerCase(), value]));
  return {
    from: toAddress(body.from),
    to: (personalization?.to ?? []).map(toAddress),
    cc: (personalization?.cc ?? []).map(toAddress),
    bcc: (personalization?.bcc ?? []).map((entry) => entry.email),
    replyTo: (body.reply_to_list ?? (body.reply_to ? [body.reply_to] : [])).map(toAddress),
    subject: body.subject,
    text: body.content.find((part) => part.type === 'text/plain')?.value ?? '',
    html: body.content.find((part) => part.type === 'text/html')?.value ?? '',
    attachments: (body.attachments ?? []).map((attachment) => ({
      filename: attachment.filename,
      contentType: attachment.type ?? '',
      disposition: attachment.disposition ?? 'attachment',
      contentId: attachment.content_id,
      sha256: sha256(Buffer.from(attachment.content, 'base64')),
    })),
    headers: { 'x-booking-id': lowerHeaders['x-booking-id'] ?? '', 'list-unsubscribe': lowerHeaders['list-unsubscribe'] ?? '' },
    mailrouteId: lowerHeaders[MESSAGE_ID_HEADER.toLowerCase()] ?? '',
  };
}

let sendgrid: SendGridStandIn;
let ses: SesEmulator;
let smtp: SmtpStandin;

beforeAll(async () => {
  [sendgrid, ses, smtp] = await Promise.all([
    startSendGridStandIn({ apiKey: 'SG.test-key.equivalence' }),
    startSesEmulator(),
    startSmtpStandin(),
  ]);
});

afterAll(async () => {
  await Promise.all([sendgrid?.close(), ses?.close(), smtp?.close()]);
});

describe('the same message on every provider', () => {
  it('arrives with the same addresses, subject, bodies, attachments, headers and id', async () => {
    const signal = new AbortController().signal;
    const providers = [
      createSendGridProvider({ type: 'sendgrid', name: 'sendgrid', apiKey: 'SG.test-key.equivalence', baseUrl: sendgrid.url }),
      createSesProvider({
        type: 'ses',
        name: 'ses',
        region: 'eu-west-1',
        endpoint: ses.url,
        credentials: { accessKeyId: 'AKIAEXAMPLEEXAMPLE12', secretAccessKey: 'secret' },
      }),
      createSmtpProvider({ type: 'smtp', name: 'smtp', host: '127.0.0.1', port: smtp.port }),
    ];
    for (const provider of providers) {
      const outcome = await provider.send(message, { signal });
      expect(outcome.ok, `${provider.name}: ${JSON.stringify(outcome)}`).toBe(true);
    }
    await Promise.all(providers.map((provider) => provider.close()));

    const viaSendGrid = fromSendGrid(sendgrid.accepted[0]?.body as unknown as SendGridJson);
    const sesMail = (await ses.messages())[0];
    if (!sesMail?.raw) throw new Error('SES stored no raw message');
    const viaSes = fromMime(await simpleParser(sesMail.raw, { keepCidLinks: true }), sesMail.destinations);
    const smtpMail = smtp.messages[0];
    if (!smtpMail) throw new Error('SMTP received nothing');
    const viaSmtp = fromMime(await simpleParser(smtpMail.raw, { keepCidLinks: true }), smtpMail.envelope.rcptTo);

    const want = expected();
    expect(viaSendGrid).toEqual(want);
    expect(viaSes).toEqual(want);
    expect(viaSmtp).toEqual(want);
  });
});
