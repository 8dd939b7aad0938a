import { describe, expect, it } from 'vitest';
import { formatAddress } from './address.js';
import { messageLimits, parseMessage } from './message.js';

const valid = {
  from: 'Front Desk <desk@hotel.example>',
  to: ['guest@example.org'],
  subject: 'Booking 42 confirmed',
  text: 'See you on Friday.',
};

function issuesOf(input: unknown): Record<string, string> {
  const result = parseMessage(input);
  if (result.ok) throw new Error('expected the message to be refused');
  expect(result.error.code).toBe('INVALID_MESSAGE');
  expect(result.error.category).toBe('message');
  expect(result.error.retryable).toBe(false);
  return Object.fromEntries((result.error.issues ?? []).map((issue) => [issue.path, issue.message]));
}

describe('parseMessage', () => {
  it('normalises the three address forms and fills defaults', () => {
    const result = parseMessage({
      ...valid,
      from: '"山田 太郎" <taro@hotel.example>',
      to: ['a@example.org', 'Bob <b@example.org>', { email: 'c@example.org', name: 'Carol' }],
      replyTo: ['reply@hotel.example'],
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.from).toEqual({ email: 'taro@hotel.example', name: '山田 太郎' });
    expect(result.value.to).toEqual([
      { email: 'a@example.org' },
      { email: 'b@example.org', name: 'Bob' },
      { email: 'c@example.org', name: 'Carol' },
    ]);
    expect(result.value).toMatchObject({ cc: [], bcc: [], attachments: [], headers: {}, tags: [], metadata: {} });
  });

  it('keeps Japanese subject and body as they are', () => {
    const result = parseMessage({ ...valid, subject: 'ご予約ありがとうございます', html: '<p>山田様</p>' });
    expect(result.ok && result.value.subject).toBe('ご予約ありがとうございます');
  });

  it('accepts attachments with inline content ids and a send-at time', () => {
    const result = parseMessage({
      ...valid,
      html: '<img src="cid:logo">',
      attachments: [
        { filename: 'logo.png', content: 'iVBORw0KGgo=', contentType: 'image/png', disposition: 'inline', contentId: 'logo' },
        { filename: 'invoice.pdf', content: 'JVBERi0xLjQ=' },
      ],
      sendAt: '2030-01-01T10:00:00Z',
      idempotencyKey: 'booking-42',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.attachments[1]).toMatchObject({ contentType: 'application/octet-stream', disposition: 'attachment' });
    expect(result.value.sendAt?.toISOString()).toBe('2030-01-01T10:00:00.000Z');
  });

  it('refuses header injection in subject, header values and display names', () => {
    const issues = issuesOf({
      ...valid,
      subject: 'Hello\r\nBcc: victim@example.org',
      headers: { 'X-Campaign': 'a\nBcc: victim@example.org' },
      to: [{ email: 'a@example.org', name: 'Evil\r\nBcc: x@example.org' }],
    });
    expect(issues.subject).toMatch(/line breaks/);
    expect(issues['headers.X-Campaign']).toMatch(/line breaks/);
    expect(issues['to.0.name']).toMatch(/line breaks/);
  });

  it('names the field of each invalid address', () => {
    const issues = issuesOf({ ...valid, from: 'not an address', to: ['ok@example.org', 'broken@'], cc: [{ email: 'x' }] });
    expect(issues['from.email']).toMatch(/valid e-mail/);
    expect(issues['to.1.email']).toMatch(/valid e-mail/);
    expect(issues['cc.0.email']).toMatch(/valid e-mail/);
  });

  it('requires a recipient, a subject and a body', () => {
    const issues = issuesOf({ from: 'a@example.org', subject: '' });
    expect(issues.to).toMatch(/at least one `to` recipient/);
    expect(issuesOf({ ...valid, to: [], bcc: ['hidden@example.org'] }).to).toMatch(/at least one `to` recipient/);
    expect(issues.subject).toMatch(/must not be empty/);
    expect(issues.text).toMatch(/text or html/);
  });

  it(`refuses more than ${messageLimits.maxRecipients} recipients`, () => {
    const to = Array.from({ length: 1001 }, (_, i) => `guest${i}@example.org`);
    expect(issuesOf({ ...valid, to }).to).toMatch(/at most 1000 recipients/);
    expect(parseMessage({ ...valid, to: to.slice(0, 1000) }).ok).toBe(true);
  });

  it('refuses oversize content and attachments', () => {
    const big = Buffer.alloc(messageLimits.maxTotalBytes + 1).toString('base64');
    expect(issuesOf({ ...valid, attachments: [{ filename: 'big.bin', content: big }] }).attachments).toMatch(/exceeds/);
  });

  it('names the field that is too big', () => {
    const over = 'x'.repeat(messageLimits.maxBodyBytes + 1);
    const textOnly = issuesOf({ ...valid, text: over });
    expect(Object.keys(textOnly)).toEqual(['text']);
    expect(textOnly.text).toMatch(/^text exceeds 10485760 bytes/);
    const htmlOnly = issuesOf({ ...valid, text: undefined, html: over });
    expect(Object.keys(htmlOnly)).toEqual(['html']);
    const both = issuesOf({ ...valid, text: 'x'.repeat(1000), html: 'y'.repeat(messageLimits.maxBodyBytes) });
    expect(Object.keys(both)).toEqual(['html']);
    expect(both.html).toMatch(/^text and html together exceed/);
    const half = Buffer.alloc(messageLimits.maxTotalBytes / 2 + 1).toString('base64');
    const withFile = issuesOf({
      ...valid,
      text: 'x'.repeat(messageLimits.maxTotalBytes / 2),
      attachments: [{ filename: 'a.bin', content: half }],
    });
    expect(Object.keys(withFile)).toEqual(['attachments']);
  });

  it('refuses reserved headers, malformed header names, bad metadata and unknown fields', () => {
    const issues = issuesOf({
      ...valid,
      headers: { From: 'x@example.org', 'Bad Name': 'v', 'X-Mailroute-Id': 'forged' },
      metadata: { mailroute_id: 'forged', 'bad key!': 'v' },
      unknownField: true,
    });
    expect(issues['headers.From']).toMatch(/set by mailroute/);
    expect(issues['headers.X-Mailroute-Id']).toMatch(/set by mailroute/);
    expect(issues['headers.Bad Name']).toMatch(/header names/);
    expect(issues['metadata.bad key!']).toMatch(/metadata keys/);
    expect(issues.unknownField).toBe('unknown field');
  });

  it('refuses __proto__, constructor and prototype as header names and metadata keys, naming each', () => {
    // As JSON.parse makes them: own properties, which zod would skip without a word.
    const issues = issuesOf(
      JSON.parse(
        JSON.stringify({ ...valid, metadata: { booking: '42' }, headers: { 'X-Ok': 'v' } })
          .replace('"booking":"42"', '"booking":"42","__proto__":"x","prototype":"y"')
          .replace('"X-Ok":"v"', '"X-Ok":"v","__proto__":"x","constructor":"y"'),
      ),
    );
    expect(issues).toEqual({
      'headers.__proto__': 'header name __proto__ is not allowed (a JavaScript object key)',
      'headers.constructor': 'header name constructor is not allowed (a JavaScript object key)',
      'metadata.__proto__': 'metadata key __proto__ is not allowed (a JavaScript object key)',
      'metadata.prototype': 'metadata key prototype is not allowed (a JavaScript object key)',
    });
    const both = parseMessage({ ...valid, headers: { 'X-Constructor': 'fine' }, metadata: { proto: 'fine' } });
    expect(both.ok).toBe(true);
  });

  it('refuses wrong types and bad attachments', () => {
    const issues = issuesOf({
      ...valid,
      to: 'guest@example.org',
      tags: [1],
      attachments: [
        { filename: '../etc/passwd', content: 'not base64!' },
        { filename: 'a.png', content: 'aGk=', disposition: 'inline' },
      ],
    });
    expect(issues.to).toBeDefined();
    expect(issues['tags.0']).toBeDefined();
    expect(issues['attachments.0.filename']).toMatch(/path separators/);
    expect(issues['attachments.0.content']).toMatch(/base64/);
    expect(issues['attachments.1.contentId']).toMatch(/inline attachments need a contentId/);
  });

  it('refuses a send-at time no database can store', () => {
    expect(issuesOf({ ...valid, sendAt: -8.64e15 }).sendAt).toMatch(/after 2000/);
    expect(issuesOf({ ...valid, sendAt: '+100000-01-01T00:00:00Z' }).sendAt).toBeDefined();
  });

  it('refuses input that is not an object at all', () => {
    for (const input of [null, 'mail', 42, []]) {
      const result = parseMessage(input);
      expect(result.ok).toBe(false);
    }
  });
});

describe('formatAddress', () => {
  it('quotes display names', () => {
    expect(formatAddress({ email: 'a@example.org' })).toBe('a@example.org');
    expect(formatAddress({ email: 'a@example.org', name: 'Doe, "J"' })).toBe('"Doe, \\"J\\"" <a@example.org>');
  });
});
