import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, type SecurityServer, startBuiltServer } from './support/server.js';

/**
 * Rate limits against the built server: invented bearer tokens buy no bucket of their own,
 * a flood of them neither escapes the limit nor resets a real key's bucket, and a batch counts
 * its messages against the per-key message limit.
 */

const PER_MINUTE = 5;
const MESSAGES_PER_MINUTE = 150;
/**
 * Tokens in the flood. Each costs the server a key lookup, so it must end well within the key's
 * one-minute window on a loaded machine. That the address table cannot evict a key's bucket
 * however many entries it takes is shown by the unit tests (apps/server/src/http/rate-limit.test.ts).
 */
const FLOOD = 1_000;

let server: SecurityServer;

beforeAll(async () => {
  server = await startBuiltServer({
    name: 'rate',
    config: { server: { rateLimit: { perMinute: PER_MINUTE, messagesPerMinute: MESSAGES_PER_MINUTE } } },
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

const message = (index: number) => ({
  from: 'desk@hotel.example',
  to: [`guest${index}@example.org`],
  subject: `Booking ${index}`,
  text: 'ok',
});

function call(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const inventedToken = () => `mr_${randomBytes(32).toString('base64url')}`;

/** Runs `count` calls, `concurrency` at a time; answers how many got each status. */
async function flood(count: number, concurrency: number, request: (index: number) => Promise<Response>): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const response = await request(index);
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    }),
  );
  return statuses;
}

describe('request rate limits', () => {
  it('a key at 429 stays limited after a flood of random bearer tokens; the flood is limited per address', async () => {
    const key = await createKey(server, 'limited', 'send');
    const windowStart = performance.now();
    const own: number[] = [];
    for (let i = 0; i < PER_MINUTE + 1; i += 1) {
      const response = await call('mail.send', message(i), bearer(key));
      await response.arrayBuffer();
      own.push(response.status);
    }
    expect(own).toEqual([...Array(PER_MINUTE).fill(200), 429]);

    // A fresh token (and a fresh X-Forwarded-For, ignored without trustProxy) on every request.
    const statuses = await flood(FLOOD, 16, (index) =>
      call('mail.send', message(index), {
        ...bearer(inventedToken()),
        'x-forwarded-for': `10.${index >> 16}.${(index >> 8) & 255}.${index & 255}`,
      }),
    );
    expect(statuses.get(401) ?? 0).toBeLessThanOrEqual(PER_MINUTE);
    expect(statuses.get(429)).toBeGreaterThanOrEqual(FLOOD - PER_MINUTE);
    expect([...statuses.keys()].filter((status) => status !== 401 && status !== 429)).toEqual([]);

    // Still inside the key's one-minute window, or a 200 below would be the window's own reset.
    expect(performance.now() - windowStart).toBeLessThan(55_000);
    const after = await call('mail.send', message(99), bearer(key));
    expect(after.status).toBe(429);
    expect(Number(after.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await after.json()).toMatchObject({ error: { data: { code: 'RATE_LIMITED', httpStatus: 429 } } });
  }, 120_000);

  it('missing and malformed keys share the address bucket; a valid key from the same address keeps its own', async () => {
    // The address is at its limit from the flood above: every kind of keyless request is refused.
    for (const headers of [{}, { authorization: 'Basic Zm9vOmJhcg==' }, bearer('not-a-key'), bearer(inventedToken())]) {
      const response = await call('mail.send', message(1), headers);
      expect(response.status).toBe(429);
      expect(await response.json()).toMatchObject({ error: { data: { code: 'RATE_LIMITED' } } });
    }
    const fresh = await createKey(server, 'fresh', 'send');
    const response = await call('mail.send', message(2), bearer(fresh));
    expect(response.status).toBe(200);
  });
});

describe('message limits', () => {
  it('a batch of 100 counts as 100 messages against server.rateLimit.messagesPerMinute; refused whole with Retry-After', async () => {
    const key = await createKey(server, 'batcher', 'send,read');
    const tagged = (index: number) => ({ ...message(index), tags: ['batcher'] });
    const batch = (count: number, offset: number) =>
      call('mail.sendBatch', { messages: Array.from({ length: count }, (_, index) => tagged(offset + index)) }, bearer(key));

    const first = await batch(100, 0);
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    const second = await batch(100, 100);
    expect(second.status).toBe(429);
    const retryAfter = Number(second.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await second.json()).toMatchObject({
      error: {
        data: { code: 'RATE_LIMITED', httpStatus: 429, path: 'mail.sendBatch' },
        message: expect.stringContaining('server.rateLimit.messagesPerMinute'),
      },
    });
    // What is left of the minute still fits; one message more does not, batch or single send.
    const rest = await batch(MESSAGES_PER_MINUTE - 100, 200);
    expect(rest.status).toBe(200);
    await rest.arrayBuffer();
    const single = await call('mail.send', tagged(400), bearer(key));
    expect(single.status).toBe(429);
    expect(await single.json()).toMatchObject({ error: { data: { code: 'RATE_LIMITED' } } });

    // Exactly the accepted messages were stored: the refused calls left nothing behind.
    const input = encodeURIComponent(JSON.stringify({ tag: 'batcher', limit: 500 }));
    const listed = await fetch(`${server.url}/trpc/mail.list?input=${input}`, { headers: bearer(server.adminKey) });
    expect(listed.status).toBe(200);
    const { result } = (await listed.json()) as { result: { data: { items: unknown[] } } };
    expect(result.data.items).toHaveLength(MESSAGES_PER_MINUTE);
  });
});
