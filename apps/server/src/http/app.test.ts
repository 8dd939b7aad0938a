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

  it('counts each bearer token apart and requests without one per address; 429 in tRPC shape with Retry-After', async () => {
    for (let i = 0; i < 3; i += 1) expect((await send('Bearer mr_one')).statusCode).toBe(401);
    const limited = await send('Bearer mr_one');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toEqual({
      error: {
        code: -32029,
        message: expect.stringMatching(/^rate limit of 3 requests per minute exceeded; retry in/),
        data: { code: 'RATE_LIMITED', httpStatus: 429, path: 'mail.send', issues: [] },
      },
    });
    expect((await send('Bearer mr_two')).statusCode).toBe(401);
    for (let i = 0; i < 3; i += 1) expect((await send()).statusCode).toBe(401);
    expect((await send()).statusCode).toBe(429);
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
  it('refuses a request that would pass the budget with 503 and Retry-After; one request always fits', async () => {
    const { server } = configSchema.parse({ server: { bodyLimitBytes: 10_000, bodyBytesInFlight: 10_000 } });
    const budgeted = await createHttpApp({
      settings: server,
      logger: pino({ level: 'silent' }),
      api: { store, providerNames: () => [] },
      readiness: async () => ({ ready: true }),
      role: 'api',
    });
    budgeted.post('/slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { ok: true };
    });
    const post = () =>
      budgeted.inject({
        method: 'POST',
        url: '/slow',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ pad: 'x'.repeat(6_000) }),
      });
    try {
      const [first, second] = await Promise.all([post(), post()]);
      expect(first.statusCode).toBe(200);
      expect(second.statusCode).toBe(503);
      expect(second.headers['retry-after']).toBe('1');
      expect(second.json()).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('server.bodyBytesInFlight') });
      expect((await post()).statusCode).toBe(200);
    } finally {
      await budgeted.close();
    }
  });
});
