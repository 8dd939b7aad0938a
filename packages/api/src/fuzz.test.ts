import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ApiErrorData } from './errors.js';
import { apiClient } from './test/client.js';
import { messageCount } from './test/fixtures.js';
import { startTestApi, type TestApi } from './test/server.js';

/** mulberry32: a small seeded generator, so a failure can be replayed from its seed. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick };
}
type Random = ReturnType<typeof generator>;

const FIELDS = [
  'from',
  'to',
  'cc',
  'bcc',
  'replyTo',
  'subject',
  'text',
  'html',
  'attachments',
  'headers',
  'tags',
  'metadata',
  'sendAt',
  'idempotencyKey',
];
const STRINGS = [
  '',
  ' ',
  'guest@example.org',
  'Guest <guest@example.org>',
  '"Quoted, Name" <q@example.org>',
  'a@b@c',
  '@example.org',
  'user@',
  'line\r\nBcc: victim@example.org',
  'tab\there',
  'nul\u0000byte',
  'emoji 📬 ünïcödé 日本語',
  '\ud800 lone surrogate',
  '<script>alert(1)</script>',
  "'; DROP TABLE message; --",
  '2030-01-01T00:00:00Z',
  '-271821-04-20T00:00:00Z',
  'not a date',
  'AAAA',
  '====',
  '__proto__',
  'constructor',
  'x'.repeat(1000),
  'X-Custom',
  'Bcc',
];
const NUMBERS = [0, -1, 1, 42, 1.5, -0, 2 ** 31, 2 ** 53, 1e21, -1e21, 8.64e15, 8.64e15 + 1, Number.MAX_VALUE];

function randomJson(random: Random, depth = 0): unknown {
  const kind = random.int(depth > 3 ? 5 : 8);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random.next() < 0.5;
    case 2:
      return random.pick(NUMBERS);
    case 3:
    case 4:
      return random.pick(STRINGS);
    case 5:
      return Array.from({ length: random.int(4) }, () => randomJson(random, depth + 1));
    default: {
      const entries = Array.from({ length: random.int(5) }, () => [
        random.next() < 0.7 ? random.pick(FIELDS) : random.pick(STRINGS),
        randomJson(random, depth + 1),
      ]);
      return Object.fromEntries(entries);
    }
  }
}

function validMessage(random: Random, index: number): Record<string, unknown> {
  return {
    from: { email: 'desk@hotel.example', name: 'Hotel Desk' },
    to: [`guest${index}@example.org`],
    cc: random.next() < 0.3 ? ['Manager <manager@hotel.example>'] : [],
    subject: `Booking ${index}`,
    text: 'See you soon.',
    html: '<p>See you soon.</p>',
    attachments: random.next() < 0.2 ? [{ filename: 'booking.pdf', content: 'JVBERi0xLjQK', contentType: 'application/pdf' }] : [],
    headers: { 'X-Booking': String(index) },
    tags: ['booking'],
    metadata: { booking: String(index) },
    ...(random.next() < 0.3 ? { idempotencyKey: `key-${random.int(50)}` } : {}),
    ...(random.next() < 0.2 ? { sendAt: new Date(Date.UTC(2031, 0, 1) + random.int(1e9)).toISOString() } : {}),
  };
}

/** One to three changes somewhere in a valid message: a field replaced, removed, added, nested or blown up. */
function mutate(random: Random, message: Record<string, unknown>): unknown {
  const result: Record<string, unknown> = structuredClone(message);
  for (let step = random.int(3); step >= 0; step -= 1) {
    const field = random.pick(FIELDS);
    switch (random.int(6)) {
      case 0:
        result[field] = randomJson(random);
        break;
      case 1:
        delete result[field];
        break;
      case 2:
        result[random.pick(STRINGS) || 'extra'] = randomJson(random);
        break;
      case 3:
        result[field] = random.pick(STRINGS);
        break;
      case 4: {
        const list = Array.isArray(result[field]) ? (result[field] as unknown[]) : [];
        result[field] = [...list, ...Array.from({ length: random.pick([1, 5, 1000]) }, () => randomJson(random, 3))];
        break;
      }
      default:
        result[field] = { [random.pick(STRINGS)]: randomJson(random, 2) };
    }
  }
  return result;
}

// A well-formed `from` outside the tenant's senders (a mutation may put any address there) is a 403
// by policy, not a fault; a key reused with other content is a 409.
const ALLOWED: ReadonlyMap<string, number> = new Map([
  ['INVALID_MESSAGE', 400],
  ['INVALID_INPUT', 400],
  ['SENDER_NOT_ALLOWED', 403],
  ['IDEMPOTENCY_CONFLICT', 409],
]);
const SEED = Number(process.env.FUZZ_SEED ?? 20_301);

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

test(`a few thousand random inputs to mail.send are each accepted or refused with a 400, 403 or 409, never a 500 (seed ${SEED})`, {
  timeout: 60_000,
}, async () => {
  const random = generator(SEED);
  const client = apiClient(api.url, api.keys.hotelSend.key);
  const inputs = Array.from({ length: 3000 }, (_, index) =>
    index % 2 === 0 ? randomJson(random) : mutate(random, validMessage(random, index)),
  );
  const unexpected: { input: unknown; answer: unknown }[] = [];
  let stored = 0;
  let refused = 0;
  for (let start = 0; start < inputs.length; start += 100) {
    const chunk = inputs.slice(start, start + 100);
    const answers = await Promise.allSettled(chunk.map((input) => client.mail.send.mutate(input as never)));
    answers.forEach((answer, index) => {
      if (answer.status === 'fulfilled') {
        if (typeof answer.value.id !== 'string') unexpected.push({ input: chunk[index], answer: answer.value });
        if (!answer.value.duplicate) stored += 1;
        return;
      }
      const error = answer.reason;
      const data = error instanceof TRPCClientError ? (error.data as ApiErrorData | undefined) : undefined;
      if (data !== undefined && ALLOWED.get(data.code) === data.httpStatus && data.issues.length > 0) refused += 1;
      else unexpected.push({ input: chunk[index], answer: data ?? String(error) });
    });
  }
  expect(unexpected.slice(0, 3)).toEqual([]);
  // Both kinds of answer were exercised, and exactly the accepted messages are on disk.
  expect(stored).toBeGreaterThan(100);
  expect(refused).toBeGreaterThan(1000);
  expect(await messageCount(api.store)).toBe(stored);
});

test(`random batches answer per message, never a 500 (seed ${SEED})`, { timeout: 60_000 }, async () => {
  const random = generator(SEED + 1);
  const client = apiClient(api.url, api.keys.hotelSend.key);
  const before = await messageCount(api.store);
  let stored = 0;
  for (let round = 0; round < 100; round += 1) {
    const messages = Array.from({ length: 1 + random.int(20) }, (_, index) =>
      random.next() < 0.5 ? validMessage(random, round * 100 + index) : mutate(random, validMessage(random, index)),
    );
    const results = await client.mail.sendBatch.mutate({ messages: messages as never });
    expect(results).toHaveLength(messages.length);
    for (const result of results) {
      if (result.ok) stored += result.duplicate ? 0 : 1;
      else expect(result.error.issues.length).toBeGreaterThan(0);
    }
  }
  expect(await messageCount(api.store)).toBe(before + stored);
});
