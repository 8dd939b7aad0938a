import type { AddressInfo } from 'node:net';
import type { LiveOverview } from '@mailroute/api';
import { createStore, type MailStore, type ProcessBreaker } from '@mailroute/store';
import { createSqliteFile } from '@mailroute/store/testing';
import { EventSource } from 'eventsource';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { createHttpApp } from './app.js';

let store: MailStore;
let drop: () => Promise<void>;
let app: FastifyInstance;
let base: string;
const sources: EventSource[] = [];

beforeEach(async () => {
  const file = createSqliteFile();
  drop = file.drop;
  store = await createStore({ url: file.url });
  const { server } = configSchema.parse({});
  app = await createHttpApp({
    settings: server,
    logger: pino({ level: 'silent' }),
    api: { store, providerNames: () => ['sendgrid', 'ses'] },
    readiness: async () => ({ ready: true }),
    role: 'api',
    dashboard: false,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  for (const source of sources.splice(0)) source.close();
  await app.close();
  await store.close();
  await drop();
});

function breaker(state: ProcessBreaker['state'], since: number): ProcessBreaker {
  return { type: 'sendgrid', state, since, enabled: true, fires: 3, successes: 0, failures: 3, rejects: 0, latencyMeanMs: 8 };
}

async function signIn(key: string): Promise<string> {
  const response = await fetch(`${base}/trpc/session.signIn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-mailroute-csrf': '1' },
    body: JSON.stringify({ key }),
  });
  expect(response.status).toBe(200);
  return (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

interface Stream {
  readonly events: { id: string; data: LiveOverview }[];
  readonly errors: string[];
  readonly headers: Promise<Headers>;
  next(predicate: (overview: LiveOverview) => boolean, timeoutMs: number): Promise<LiveOverview>;
}

/** The console's live channel as a browser opens it: EventSource, the session cookie, no Authorization header. */
function subscribe(cookie: string, lastEventId?: string): Stream {
  let gotHeaders: (headers: Headers) => void = () => {};
  const headers = new Promise<Headers>((resolve) => {
    gotHeaders = resolve;
  });
  const source = new EventSource(`${base}/trpc/live.overview`, {
    fetch: async (input, init) => {
      const response = await fetch(input, {
        ...init,
        headers: { ...init.headers, cookie, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      });
      gotHeaders(response.headers);
      return response;
    },
  });
  sources.push(source);
  const events: Stream['events'] = [];
  const errors: string[] = [];
  source.addEventListener('message', (event) => events.push({ id: event.lastEventId, data: JSON.parse(event.data) as LiveOverview }));
  source.addEventListener('serialized-error', (event) => errors.push(event.data));
  return {
    events,
    errors,
    headers,
    async next(predicate, timeoutMs) {
      const started = Date.now();
      for (;;) {
        const found = events.find((event) => predicate(event.data));
        if (found) return found.data;
        if (Date.now() - started > timeoutMs)
          throw new Error(`no matching overview within ${timeoutMs} ms; got ${JSON.stringify(events.at(-1)?.data)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

it('live.overview over SSE with the session cookie: a snapshot at once, a breaker opening in a worker within 3 s, unsent mail counted', async () => {
  const admin = await store.createApiKey({ name: 'on call', scopes: ['operator'] });
  const stream = subscribe(await signIn(admin.key));
  const first = await stream.next(() => true, 5_000);
  expect(first.providers.map((provider) => [provider.name, provider.state, provider.openIn])).toEqual([
    ['sendgrid', 'enabled', 0],
    ['ses', 'enabled', 0],
  ]);
  expect(first).toMatchObject({ queueDepth: 0, processes: 0, alerts: [] });
  const headers = await stream.headers;
  expect(headers.get('content-type')).toMatch(/^text\/event-stream/);
  expect(headers.get('x-accel-buffering')).toBe('no');

  const now = Date.now();
  await store.recordHeartbeat({
    id: 'worker-2',
    role: 'worker',
    host: 'mail-2',
    pid: 7,
    startedAt: now - 60_000,
    breakers: { sendgrid: breaker('open', now), ses: breaker('closed', now - 60_000) },
  });
  const opened = Date.now();
  const seen = await stream.next((overview) => overview.providers[0]?.openIn === 1, 3_000);
  expect(Date.now() - opened).toBeLessThan(3_000);
  expect(seen.providers[0]?.breakers).toEqual([{ process: 'worker-2', host: 'mail-2', state: 'open', since: now }]);
  expect(seen.processes).toBe(1);

  await store.enqueue({
    from: { email: 'desk@hotel.example' },
    to: [{ email: 'guest@example.org' }],
    cc: [],
    bcc: [],
    replyTo: [],
    subject: 'Booking',
    text: 'x',
    attachments: [],
    headers: {},
    tags: [],
    metadata: {},
  } as never);
  const queued = await stream.next((overview) => overview.queueDepth === 1, 3_000);
  expect(queued.oldestUnsentAt).toBeGreaterThan(0);
  // Nothing changed since: no new event within two checks.
  const count = stream.events.length;
  await new Promise((resolve) => setTimeout(resolve, 2_200));
  expect(stream.events.length).toBe(count);
  expect(new Set(stream.events.map((event) => event.id)).size).toBe(count);
});

it('a reconnect with Last-Event-ID gets the current snapshot at once; a read key sees no alerts or processes', async () => {
  const reader = await store.createApiKey({ name: 'viewer', scopes: ['read'] });
  const cookie = await signIn(reader.key);
  const stream = subscribe(cookie);
  await stream.next(() => true, 5_000);
  const resumed = subscribe(cookie, stream.events[0]?.id);
  const again = await resumed.next(() => true, 3_000);
  expect(again).not.toHaveProperty('alerts');
  expect(again).not.toHaveProperty('processes');
  expect(again.providers).toHaveLength(2);
});

it('no cookie gets UNAUTHENTICATED (as an error event: SSE headers go out first); revoking the key closes an open stream within the key cache time', async () => {
  const anonymous = subscribe('');
  const asked = Date.now();
  while (anonymous.errors.length === 0) {
    expect(Date.now() - asked).toBeLessThan(3_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(anonymous.errors[0]).toContain('UNAUTHENTICATED');
  expect(anonymous.events).toEqual([]);
  const key = await store.createApiKey({ name: 'on call', scopes: ['read'] });
  const stream = subscribe(await signIn(key.key));
  await stream.next(() => true, 5_000);
  await store.revokeApiKey(key.id);
  const started = Date.now();
  while (stream.errors.length === 0) {
    expect(Date.now() - started).toBeLessThan(7_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(stream.errors[0]).toContain('UNAUTHENTICATED');
});
