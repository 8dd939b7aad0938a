import { createStore, type MailStore } from '@mailroute/store';
import { createSqliteFile } from '@mailroute/store/testing';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { createHttpApp } from './app.js';
import type { Readiness } from './readiness.js';

let store: MailStore;
let drop: () => Promise<void>;
let app: FastifyInstance;
let readiness: Readiness;

beforeEach(async () => {
  const file = createSqliteFile();
  drop = file.drop;
  store = await createStore({ url: file.url });
  readiness = { ready: true };
  const { server } = configSchema.parse({ server: { bodyLimitBytes: 10_000, rateLimit: { perMinute: 3 } } });
  app = await createHttpApp({
    settings: server,
    logger: pino({ level: 'silent' }),
    api: { store, providerNames: () => [] },
    readiness: async () => readiness,
    role: 'api',
  });
});
afterEach(async () => {
  await app.close();
  await store.close();
  await drop();
});

const send = (authorization?: string, body = '{}') =>
  app.inject({
    method: 'POST',
    url: '/trpc/mail.send',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    payload: body,
  });

describe('HTTP edge', () => {
  it('health and readiness are never rate limited; readiness says why it is not ready', async () => {
    for (let i = 0; i < 5; i += 1) expect((await app.inject('/healthz')).statusCode).toBe(200);
    readiness = { ready: false, reason: 'migrations not applied: x (run mailroute migrate)' };
    const unready = await app.inject('/readyz');
    expect(unready.statusCode).toBe(503);
    expect(unready.json()).toEqual({ status: 'not ready', role: 'api', reason: 'migrations not applied: x (run mailroute migrate)' });
  });

  it('counts a valid key on its own and everything else per address; 429 in tRPC shape with Retry-After', async () => {
    const { key } = await store.createApiKey({ name: 'app', scopes: ['send'] });
    for (let i = 0; i < 3; i += 1) expect((await send(`Bearer ${key}`)).statusCode).toBe(400);
    const limited = await send(`Bearer ${key}`);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toEqual({
      error: {
        code: -32029,
        message: expect.stringMatching(/^rate limit of 3 requests per minute exceeded; retry in/),
        data: { code: 'RATE_LIMITED', httpStatus: 429, path: 'mail.send', issues: [] },
      },
    });
    // Invented tokens, a missing key and a malformed header share the address's one bucket.
    expect((await send('Bearer mr_one')).statusCode).toBe(401);
    expect((await send('Bearer mr_two')).statusCode).toBe(401);
    expect((await send()).statusCode).toBe(401);
    expect((await send('Bearer mr_three')).statusCode).toBe(429);
    expect((await send('Basic abc')).statusCode).toBe(429);
    // The key's bucket is its own: still limited, not reset by the others.
    expect((await send(`Bearer ${key}`)).statusCode).toBe(429);
  });

  it('looks a key up once per request: the edge hands the caller it identified on to the API', async () => {
    let lookups = 0;
    const counting: MailStore = Object.create(store, {
      authenticateApiKey: {
        value: (secret: string) => {
          lookups += 1;
          return store.authenticateApiKey(secret);
        },
      },
    });
    const { server } = configSchema.parse({});
    const counted = await createHttpApp({
      settings: server,
      logger: pino({ level: 'silent' }),
      api: { store: counting, providerNames: () => [] },
      readiness: async () => ({ ready: true }),
      role: 'api',
    });
    try {
      const response = await counted.inject({
        method: 'POST',
        url: '/trpc/mail.send',
        headers: { 'content-type': 'application/json', authorization: 'Bearer mr_invented_token_that_is_not_a_key' },
        payload: '{}',
      });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ error: { message: 'unknown or revoked API key' } });
      expect(lookups).toBe(1);
    } finally {
      await counted.close();
    }
  });

  it('refuses a body over the limit with 413 naming the setting; tRPC shape on /trpc, plain JSON elsewhere', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(20_000) });
    const trpc = await send('Bearer mr_big', big);
    expect(trpc.statusCode).toBe(413);
    expect(trpc.json()).toMatchObject({
      error: {
        code: -32013,
        data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 },
        message: expect.stringContaining('10000 bytes (server.bodyLimitBytes)'),
      },
    });
    const other = await app.inject({ method: 'POST', url: '/elsewhere', headers: { 'content-type': 'application/json' }, payload: big });
    expect(other.statusCode).toBe(413);
    expect(other.json()).toEqual({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('10000 bytes') });
  });

  it('answers an unknown route with 404 JSON', async () => {
    const response = await app.inject('/nothing');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ statusCode: 404, code: 'NOT_FOUND', message: 'no route GET /nothing' });
  });
});

describe('bodies in memory at once', () => {
  async function budgetedApp(server: Record<string, unknown>, webhookBytesInFlight?: number) {
    const settings = configSchema.parse({ server: { bodyLimitBytes: 10_000, bodyBytesInFlight: 10_000, ...server } }).server;
    const budgeted = await createHttpApp({
      settings,
      logger: pino({ level: 'silent' }),
      api: { store, providerNames: () => [] },
      readiness: async () => ({ ready: true }),
      role: 'api',
      ...(webhookBytesInFlight === undefined ? {} : { webhookBodyLimitBytes: 10_000, webhookBytesInFlight }),
    });
    return budgeted;
  }

  it('refuses an authenticated request that would pass the budget with 503 and Retry-After; one request always fits', async () => {
    const budgeted = await budgetedApp({});
    const { key } = await store.createApiKey({ name: 'app', scopes: ['send'] });
    // The budget is reserved before the body is parsed; a handler that takes its time keeps it.
    budgeted.addHook('preValidation', async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
    });
    const post = () =>
      budgeted.inject({
        method: 'POST',
        url: '/trpc/mail.send',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        payload: JSON.stringify({ pad: 'x'.repeat(6_000) }),
      });
    try {
      const [first, second] = await Promise.all([post(), post()]);
      expect(first.statusCode).toBe(400);
      expect(second.statusCode).toBe(503);
      expect(second.headers['retry-after']).toBe('1');
      expect(second.json()).toMatchObject({
        error: { data: { code: 'UNAVAILABLE' }, message: expect.stringContaining('server.bodyBytesInFlight') },
      });
      expect((await post()).statusCode).toBe(400);
    } finally {
      await budgeted.close();
    }
  });

  it('a request without a valid key gets only the small anonymous allowance: over it, 401 before the body is read', async () => {
    const budgeted = await budgetedApp({ anonymousBytesInFlight: 1_000 });
    const post = (authorization: string | undefined, bytes: number) =>
      budgeted.inject({
        method: 'POST',
        url: '/trpc/mail.send',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        payload: JSON.stringify({ pad: 'x'.repeat(bytes) }),
      });
    try {
      for (const authorization of [undefined, 'Bearer mr_invented_token_that_is_not_a_key']) {
        const refused = await post(authorization, 2_000);
        expect(refused.statusCode).toBe(401);
        expect(refused.json()).toMatchObject({
          error: {
            data: { code: 'UNAUTHENTICATED' },
            message: expect.stringContaining('1000 bytes across such requests (server.anonymousBytesInFlight)'),
          },
        });
      }
      // Within the allowance the API itself answers (still 401: no key), so callers see its usual message.
      const small = await post(undefined, 100);
      expect(small.statusCode).toBe(401);
      expect(small.json()).toMatchObject({ error: { message: expect.stringContaining('missing API key') } });
      // A made-up path under /webhooks/ is no webhook: the allowance applies.
      const nowhere = await budgeted.inject({
        method: 'POST',
        url: '/webhooks/nowhere',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ pad: 'x'.repeat(2_000) }),
      });
      expect(nowhere.statusCode).toBe(401);
      // A valid key is not held to the allowance.
      const { key } = await store.createApiKey({ name: 'app', scopes: ['send'] });
      expect((await post(`Bearer ${key}`, 2_000)).statusCode).toBe(400);
    } finally {
      await budgeted.close();
    }
  });

  it('webhooks have a budget of their own: full, they get 503 while API requests still fit', async () => {
    const budgeted = await budgetedApp({}, 3_000);
    const { key } = await store.createApiKey({ name: 'app', scopes: ['send'] });
    budgeted.addHook('preValidation', async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
    });
    const webhook = () =>
      budgeted.inject({
        method: 'POST',
        url: '/webhooks/sendgrid',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify([{ pad: 'x'.repeat(2_000) }]),
      });
    const api = () =>
      budgeted.inject({
        method: 'POST',
        url: '/trpc/mail.send',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        payload: JSON.stringify({ pad: 'x'.repeat(6_000) }),
      });
    try {
      const [first, second, third] = await Promise.all([webhook(), webhook(), api()]);
      expect(first.statusCode).not.toBe(503);
      expect(second.statusCode).toBe(503);
      expect(second.json()).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('webhooks.bodyBytesInFlight 3000') });
      expect(third.statusCode).toBe(400);
    } finally {
      await budgeted.close();
    }
  });
});

describe('messages per key', () => {
  it('a batch counts one per message against messagesPerMinute: refused whole with RATE_LIMITED and Retry-After, nothing stored', async () => {
    const { server } = configSchema.parse({ server: { rateLimit: { perMinute: 1_000, messagesPerMinute: 5 } } });
    const limited = await createHttpApp({
      settings: server,
      logger: pino({ level: 'silent' }),
      api: { store, providerNames: () => [] },
      readiness: async () => ({ ready: true }),
      role: 'api',
    });
    const { key } = await store.createApiKey({ name: 'app', scopes: ['send', 'read'] });
    const other = await store.createApiKey({ name: 'other', scopes: ['send'] });
    const message = (index: number) => ({ from: 'desk@hotel.example', to: [`guest${index}@example.org`], subject: 'Booking', text: 'ok' });
    const batch = (secret: string, count: number) =>
      limited.inject({
        method: 'POST',
        url: '/trpc/mail.sendBatch',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
        payload: JSON.stringify({ messages: Array.from({ length: count }, (_, index) => message(index)) }),
      });
    try {
      expect((await batch(key, 4)).statusCode).toBe(200);
      const refused = await batch(key, 2);
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.json()).toMatchObject({
        error: {
          data: { code: 'RATE_LIMITED', path: 'mail.sendBatch' },
          message: expect.stringContaining('server.rateLimit.messagesPerMinute'),
        },
      });
      // One more fits exactly; then a single send is refused too.
      expect((await batch(key, 1)).statusCode).toBe(200);
      const single = await limited.inject({
        method: 'POST',
        url: '/trpc/mail.send',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        payload: JSON.stringify(message(9)),
      });
      expect(single.statusCode).toBe(429);
      expect((await store.listMessages({})).items).toHaveLength(5);
      // Another key has its own count; a batch larger than the limit can never pass and says so.
      expect((await batch(other.key, 5)).statusCode).toBe(200);
      const huge = await batch(other.key, 6);
      expect(huge.statusCode).toBe(429);
      expect(huge.json()).toMatchObject({
        error: { message: expect.stringContaining('a batch of 6 messages is more than the limit of 5') },
      });
    } finally {
      await limited.close();
    }
  });
});
