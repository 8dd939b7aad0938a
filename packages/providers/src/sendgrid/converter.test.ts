import { sampleMessage } from '@mailroute/core/testing';
import { describe, expect, it } from 'vitest';
import { encodeHeaderValue, type SendGridMailBody, toSendGridMail } from './converter.js';

const options = { sandboxMode: false };

function convert(
  overrides: Parameters<typeof sampleMessage>[0],
  sendOptions: Parameters<typeof toSendGridMail>[1] = options,
): SendGridMailBody {
  const result = toSendGridMail(sampleMessage(overrides), sendOptions);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

describe('toSendGridMail', () => {
  it('keeps each address once per personalization, where it first appears, ignoring case', () => {
    const body = convert({
      to: [{ email: 'guest@example.org' }, { email: 'GUEST@example.org', name: 'again' }],
      cc: [{ email: 'Guest@Example.org' }, { email: 'desk@example.org' }],
      bcc: [{ email: 'desk@EXAMPLE.org' }, { email: 'audit@example.org' }],
    });
    expect(body.personalizations).toEqual([
      { to: [{ email: 'guest@example.org' }], cc: [{ email: 'desk@example.org' }], bcc: [{ email: 'audit@example.org' }] },
    ]);
  });

  it('leaves out empty cc and bcc lists', () => {
    expect(convert({}).personalizations[0]).toEqual({ to: [{ email: 'guest@example.org' }] });
  });

  it('puts text/plain before text/html and leaves out an empty part', () => {
    expect(convert({ html: '<p>hi</p>', text: 'hi' }).content.map((part) => part.type)).toEqual(['text/plain', 'text/html']);
    expect(convert({ html: '<p>hi</p>', text: '' }).content).toEqual([{ type: 'text/html', value: '<p>hi</p>' }]);
  });

  it('uses reply_to for one address and reply_to_list for several, without repeats', () => {
    expect(convert({ replyTo: [{ email: 'a@example.org', name: 'A' }] })).toMatchObject({
      reply_to: { email: 'a@example.org', name: 'A' },
    });
    const several = convert({ replyTo: [{ email: 'a@example.org' }, { email: 'A@example.org' }, { email: 'b@example.org' }] });
    expect(several.reply_to).toBeUndefined();
    expect(several.reply_to_list).toEqual([{ email: 'a@example.org' }, { email: 'b@example.org' }]);
    expect(convert({}).reply_to_list).toBeUndefined();
  });

  it('quotes recipient names SendGrid would split at a comma or semicolon', () => {
    const body = convert({
      to: [
        { email: 'a@example.org', name: 'Smith, John "JJ"' },
        { email: 'b@example.org', name: '山田 太郎' },
      ],
    });
    expect(body.personalizations[0].to).toEqual([
      { email: 'a@example.org', name: '"Smith, John \\"JJ\\""' },
      { email: 'b@example.org', name: '山田 太郎' },
    ]);
  });

  it('carries our id in custom_args and the X-Mailroute-Id header, tags as unique categories', () => {
    const message = sampleMessage({ tags: ['booking', 'booking', 'reminder'], metadata: { hotel: 'tokyo' }, headers: { 'X-A': '1' } });
    const result = toSendGridMail(message, options);
    expect(result.ok && result.value).toMatchObject({
      custom_args: { mailroute_id: message.id, hotel: 'tokyo' },
      headers: { 'X-A': '1', 'X-Mailroute-Id': message.id },
      categories: ['booking', 'reminder'],
    });
  });

  it('sets sandbox mode and the IP pool only when configured', () => {
    expect(convert({}, { sandboxMode: true, ipPoolName: 'transactional' })).toMatchObject({
      mail_settings: { sandbox_mode: { enable: true } },
      ip_pool_name: 'transactional',
    });
    const plain = convert({});
    expect(plain.mail_settings).toBeUndefined();
    expect(plain.ip_pool_name).toBeUndefined();
  });

  it('refuses a message without a To recipient', () => {
    const result = toSendGridMail(sampleMessage({ to: [], cc: [{ email: 'desk@example.org' }] }), options);
    expect(result).toMatchObject({ ok: false, error: { code: 'PROVIDER_BAD_REQUEST', category: 'provider' } });
  });
});

describe('encodeHeaderValue', () => {
  it('leaves printable ASCII alone', () => {
    expect(encodeHeaderValue('spring-2025; id=7')).toBe('spring-2025; id=7');
  });

  it('encodes other text as UTF-8 encoded words of at most 75 characters, never splitting a character', () => {
    const value = '山田太郎様のご予約を承りました。チェックインは十五時からです。';
    const encoded = encodeHeaderValue(value);
    const words = encoded.split(' ');
    expect(words.length).toBeGreaterThan(1);
    for (const word of words) expect(word.length).toBeLessThanOrEqual(75);
    const decoded = words.map((word) => Buffer.from(word.slice('=?UTF-8?B?'.length, -2), 'base64').toString('utf8')).join('');
    expect(decoded).toBe(value);
  });
});
