import { type Message, type MessageInput, parseMessage } from '@mailroute/core';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { MAX_SES_TAGS, messageTags, toSendRawEmailInput } from './converter.js';

function message(input: Partial<MessageInput> = {}, id = 'msg-0001'): Message {
  const parsed = parseMessage({ from: 'sender@example.com', to: ['to@example.com'], subject: 'Hello', text: 'Hi', ...input });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return { ...parsed.value, id };
}

describe('messageTags', () => {
  it('puts our id first, then metadata, then tags as name=true', () => {
    const { tags, skipped } = messageTags(message({ metadata: { booking_id: 'B-42' }, tags: ['welcome'] }));
    expect(tags).toEqual([
      { Name: 'mailroute_id', Value: 'msg-0001' },
      { Name: 'booking_id', Value: 'B-42' },
      { Name: 'welcome', Value: 'true' },
    ]);
    expect(skipped).toEqual([]);
  });

  it('skips what SES would refuse instead of rewriting it', () => {
    const { tags, skipped } = messageTags(
      message({
        metadata: { 'shop.region': 'eu', email: 'guest@example.com', empty: '', ok: 'yes' },
        tags: ['予約', 'ok', 'two words'],
      }),
    );
    expect(tags.map((tag) => tag.Name)).toEqual(['mailroute_id', 'ok']);
    expect(skipped).toEqual(['shop.region', 'email', 'empty', '予約', 'ok', 'two words']);
  });

  it(`stops at ${MAX_SES_TAGS} tags`, () => {
    const metadata = Object.fromEntries(Array.from({ length: 60 }, (_, index) => [`key_${index}`, 'v']));
    const { tags, skipped } = messageTags(message({ metadata }));
    expect(tags).toHaveLength(MAX_SES_TAGS);
    expect(tags[0]).toEqual({ Name: 'mailroute_id', Value: 'msg-0001' });
    expect(skipped).toHaveLength(60 + 1 - MAX_SES_TAGS);
  });
});

describe('toSendRawEmailInput', () => {
  it('puts Bcc only in Destinations and our id in a header', async () => {
    const { input } = await toSendRawEmailInput(
      message({ to: ['to@example.com'], cc: ['cc@example.com'], bcc: ['Hidden <hidden@example.com>'] }),
      { configurationSetName: 'transactional' },
    );
    expect(input.Destinations).toEqual(['to@example.com', 'cc@example.com', 'hidden@example.com']);
    expect(input.ConfigurationSetName).toBe('transactional');
    const raw = Buffer.from(input.RawMessage?.Data ?? new Uint8Array()).toString('utf8');
    expect(raw).not.toMatch(/^bcc:/im);
    expect(raw).not.toContain('hidden@example.com');
    const parsed = await simpleParser(raw);
    expect(parsed.headers.get('x-mailroute-id')).toBe('msg-0001');
    expect(parsed.bcc).toBeUndefined();
  });

  it('leaves ConfigurationSetName out when none is configured', async () => {
    const { input } = await toSendRawEmailInput(message());
    expect(input).not.toHaveProperty('ConfigurationSetName');
  });
});
