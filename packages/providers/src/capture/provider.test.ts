import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '@mailroute/core';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaptureProvider } from './index.js';

let sequence = 0;
function message(overrides: Partial<Message> = {}): Message {
  sequence += 1;
  return {
    id: `msg-capture-${sequence}`,
    from: { email: 'bookings@hotel.example.com', name: '山田 太郎' },
    to: [{ email: 'guest@example.org', name: '山田 花子' }],
    cc: [],
    bcc: [{ email: 'audit@hotel.example.com' }],
    replyTo: [],
    subject: 'ご予約ありがとうございます',
    text: 'ご予約を承りました。',
    attachments: [
      { filename: 'note.txt', content: Buffer.from('メモ').toString('base64'), contentType: 'text/plain', disposition: 'attachment' },
    ],
    headers: { 'X-Campaign': 'spring' },
    tags: ['booking'],
    metadata: { reservation: 'A-123' },
    ...overrides,
  };
}

const signal = () => new AbortController().signal;

describe('capture provider in memory', () => {
  it('keeps sent mail, finds it by either id, and clears it', async () => {
    const capture = createCaptureProvider({ type: 'capture', name: 'capture' });
    const first = message();
    const second = message({ subject: 'Second' });
    const sentFirst = await capture.send(first, { signal: signal() });
    const sentSecond = await capture.send(second, { signal: signal() });
    if (!sentFirst.ok || !sentSecond.ok) throw new Error('capture refused a message');
    expect(sentFirst.providerMessageId).toMatch(/^capture-[0-9a-f-]{36}$/);
    expect(sentSecond.providerMessageId).not.toBe(sentFirst.providerMessageId);

    const listed = await capture.list();
    expect(listed.map((captured) => captured.messageId)).toEqual([first.id, second.id]);
    expect(listed[0]).toMatchObject({
      providerMessageId: sentFirst.providerMessageId,
      envelope: { from: 'bookings@hotel.example.com', to: ['guest@example.org', 'audit@hotel.example.com'] },
      metadata: { reservation: 'A-123' },
      tags: ['booking'],
    });

    const byOurId = await capture.get(first.id);
    expect(byOurId?.providerMessageId).toBe(sentFirst.providerMessageId);
    expect((await capture.get(sentSecond.providerMessageId))?.subject).toBe('Second');
    expect(await capture.get('nope')).toBeUndefined();

    const parsed = await simpleParser(byOurId?.raw ?? Buffer.alloc(0));
    expect(parsed.subject).toBe('ご予約ありがとうございます');
    expect(parsed.text?.trim()).toBe('ご予約を承りました。');
    expect(parsed.messageId).toBe(`<${first.id}@hotel.example.com>`);
    expect(parsed.headers.get('x-mailroute-id')).toBe(first.id);
    expect(parsed.attachments.map((a) => a.content.toString('utf8'))).toEqual(['メモ']);
    expect(byOurId?.raw.toString('utf8')).not.toMatch(/audit@hotel\.example\.com/);

    await capture.clear();
    expect(await capture.list()).toEqual([]);
    expect(await capture.verify()).toEqual({ ok: true });
  });

  it('drops the oldest beyond maxInMemory', async () => {
    const capture = createCaptureProvider({ type: 'capture', name: 'capture', maxInMemory: 3 });
    const sent = Array.from({ length: 5 }, () => message());
    for (const item of sent) await capture.send(item, { signal: signal() });
    expect((await capture.list()).map((captured) => captured.messageId)).toEqual(sent.slice(2).map((item) => item.id));
  });

  it('captures nothing when the signal was already aborted', async () => {
    const capture = createCaptureProvider({ type: 'capture', name: 'capture' });
    const controller = new AbortController();
    controller.abort();
    expect(await capture.send(message(), { signal: controller.signal })).toMatchObject({
      ok: false,
      error: { code: 'PROVIDER_UNREACHABLE', detail: { requestWritten: false } },
    });
    expect(await capture.list()).toEqual([]);
  });
});

describe('capture provider in a folder', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mailroute-capture-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes one .eml and one .json per message, named to sort by time, readable by a new instance', async () => {
    const directory = join(root, 'outbox', 'nested');
    const capture = createCaptureProvider({ type: 'capture', name: 'capture-dir', directory });
    expect(await capture.verify()).toEqual({ ok: true });
    const sent = [message(), message({ subject: '二通目' }), message({ subject: 'third' })];
    const ids: string[] = [];
    for (const item of sent) {
      const outcome = await capture.send(item, { signal: signal() });
      if (!outcome.ok) throw new Error(outcome.error.message);
      ids.push(outcome.providerMessageId);
    }

    const files = (await readdir(directory)).sort();
    expect(files).toHaveLength(6);
    expect(files.filter((name) => name.endsWith('.eml')).map((name) => name.replace(/^.*-(capture-.*)\.eml$/, '$1'))).toEqual(ids);
    expect(files.every((name) => /^\d{8}T\d{9}Z-\d{6}-capture-/.test(name))).toBe(true);

    const jsonName = files.find((name) => name.endsWith('.json')) ?? '';
    const record = JSON.parse(await readFile(join(directory, jsonName), 'utf8'));
    expect(record).toMatchObject({
      providerMessageId: ids[0],
      messageId: sent[0]?.id,
      envelope: { from: 'bookings@hotel.example.com', to: ['guest@example.org', 'audit@hotel.example.com'] },
      metadata: { reservation: 'A-123' },
      subject: 'ご予約ありがとうございます',
    });
    const eml = await simpleParser(await readFile(join(directory, jsonName.replace(/\.json$/, '.eml'))));
    expect(eml.subject).toBe('ご予約ありがとうございます');
    expect(eml.from?.value[0]).toMatchObject({ name: '山田 太郎', address: 'bookings@hotel.example.com' });

    const reopened = createCaptureProvider({ type: 'capture', name: 'capture-dir', directory });
    expect((await reopened.list()).map((captured) => captured.subject)).toEqual(['ご予約ありがとうございます', '二通目', 'third']);
    const second = await reopened.get(ids[1] ?? '');
    expect((await simpleParser(second?.raw ?? Buffer.alloc(0))).subject).toBe('二通目');

    await reopened.clear();
    expect(await readdir(directory)).toEqual([]);
    expect(await capture.list()).toEqual([]);
  });

  it('reports PROVIDER_UNAVAILABLE when the folder cannot be written', async () => {
    const blocker = join(root, 'not-a-folder');
    await writeFile(blocker, 'x');
    const capture = createCaptureProvider({ type: 'capture', name: 'capture-bad', directory: join(blocker, 'outbox') });
    const outcome = await capture.send(message(), { signal: signal() });
    expect(outcome).toMatchObject({
      ok: false,
      error: {
        code: 'PROVIDER_UNAVAILABLE',
        category: 'provider',
        provider: 'capture-bad',
        detail: { code: 'ENOTDIR', requestWritten: false },
      },
    });
    expect(await capture.verify()).toMatchObject({ ok: false, error: { code: 'PROVIDER_UNAVAILABLE' } });
  });
});
