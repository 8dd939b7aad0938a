import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApi, type TestApi } from '@mailroute/api/testing';
import type { MessageStatus } from '@mailroute/core';
import { afterAll, beforeAll, describe, expect, expectTypeOf, test } from 'vitest';
import { createMailrouteClient, errorCodeOf, type MailrouteInputs, type MailrouteOutputs, TRPCClientError } from './index.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const message = (n: number) => ({
  from: 'desk@hotel.example',
  to: [`guest${n}@example.org`],
  subject: `Booking ${n}`,
  text: 'See you soon.',
});

/** The global fetch, recording what each HTTP request carried. */
function recordingFetch() {
  const requests: { url: string; authorization: string | null }[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    requests.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
    return globalThis.fetch(input, init);
  };
  return { fetch, requests };
}

test('calls are fully typed from the router type alone', () => {
  const client = createMailrouteClient({ url: api.url, apiKey: 'mr_x' });
  expectTypeOf<MailrouteOutputs['mail']['send']>().toEqualTypeOf<{
    readonly id: string;
    readonly status: MessageStatus;
    readonly duplicate: boolean;
  }>();
  expectTypeOf<MailrouteInputs['mail']['send']['from']>().not.toBeAny();
  expectTypeOf<{ recipient: string; status: 'sent' }>().toExtend<MailrouteInputs['mail']['list']>();
  expectTypeOf<{ recipient: number }>().not.toExtend<MailrouteInputs['mail']['list']>();
  expectTypeOf<MailrouteOutputs['mail']['get']['timeline'][number]['kind']>().toEqualTypeOf<'status' | 'attempt' | 'event'>();
  expectTypeOf<MailrouteInputs['providers']['setState']['state']>().toEqualTypeOf<'enabled' | 'disabled' | 'drained' | 'forced_open'>();
  // @ts-expect-error a message needs a subject
  void (() => client.mail.send.mutate({ from: 'a@example.org', to: ['b@example.org'], text: 'x' }));
  // @ts-expect-error no such procedure
  void (() => client.mail.delete);
});

test('every request carries the key as a Bearer token; the server address works with or without /trpc', async () => {
  const recorder = recordingFetch();
  const base = api.url.replace(/\/trpc$/, '');
  const client = createMailrouteClient({ url: `${base}/`, apiKey: api.keys.hotelSend.key, fetch: recorder.fetch });
  const sent = await client.mail.send.mutate(message(1));
  expect(sent).toMatchObject({ status: 'queued', duplicate: false });
  expect((await api.store.getMessage(sent.id))?.tenantId).toBe('hotel');
  expect(recorder.requests).toEqual([
    {
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/trpc\/mail\.send\?batch=1$/),
      authorization: `Bearer ${api.keys.hotelSend.key}`,
    },
  ]);
  const explicit = createMailrouteClient({ url: api.url, apiKey: api.keys.hotelRead.key });
  expect((await explicit.mail.get.query({ id: sent.id })).id).toBe(sent.id);
});

test('errors carry the API code; a wrong key is UNAUTHENTICATED', async () => {
  const stranger = createMailrouteClient({ url: api.url, apiKey: 'mr_deadbeef_nope' });
  const refused = await stranger.stats.overview.query().catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(TRPCClientError);
  expect(errorCodeOf(refused)).toBe('UNAUTHENTICATED');
  const client = createMailrouteClient({ url: api.url, apiKey: api.keys.hotelSend.key });
  const invalid = await client.mail.send.mutate({ ...message(2), to: ['nobody'] }).catch((error: unknown) => error);
  expect(errorCodeOf(invalid)).toBe('INVALID_MESSAGE');
  expect((invalid as TRPCClientError<never>).data).toMatchObject({ httpStatus: 400, issues: [{ path: 'to.0.email' }] });
  expect(errorCodeOf(new Error('plain'))).toBeUndefined();
});

describe('batching', () => {
  test('calls made in the same tick share one HTTP request', async () => {
    const recorder = recordingFetch();
    const client = createMailrouteClient({ url: api.url, apiKey: api.keys.hotelAdmin.key, fetch: recorder.fetch });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => client.mail.send.mutate(message(n + 10))));
    expect(new Set(results.map((result) => result.id)).size).toBe(5);
    expect(recorder.requests).toHaveLength(1);
    expect(recorder.requests[0]?.url).toContain('mail.send,mail.send,mail.send,mail.send,mail.send?batch=1');
    // Queries batch too, and a batch may mix answers and errors.
    const [overview, missing] = await Promise.allSettled([client.stats.overview.query(), client.mail.get.query({ id: 'nope' })]);
    expect(recorder.requests).toHaveLength(2);
    expect(overview.status).toBe('fulfilled');
    expect(missing.status === 'rejected' && errorCodeOf(missing.reason)).toBe('NOT_FOUND');
  });

  test('hundreds of sends in one tick are split into batches the server accepts', async () => {
    const recorder = recordingFetch();
    const client = createMailrouteClient({ url: api.url, apiKey: api.keys.hotelSend.key, fetch: recorder.fetch });
    const results = await Promise.all(Array.from({ length: 220 }, (_, n) => client.mail.send.mutate(message(n + 1000))));
    expect(new Set(results.map((result) => result.id)).size).toBe(220);
    expect(recorder.requests).toHaveLength(5);
  });

  test('maxItems caps a batch; batch: false sends one request per call', async () => {
    const capped = recordingFetch();
    const client = createMailrouteClient({ url: api.url, apiKey: api.keys.hotelSend.key, fetch: capped.fetch, batch: { maxItems: 2 } });
    await Promise.all([1, 2, 3, 4, 5].map((n) => client.mail.send.mutate(message(n + 20))));
    expect(capped.requests).toHaveLength(3);
    const single = recordingFetch();
    const unbatched = createMailrouteClient({ url: api.url, apiKey: api.keys.hotelSend.key, fetch: single.fetch, batch: false });
    await Promise.all([1, 2, 3].map((n) => unbatched.mail.send.mutate(message(n + 30))));
    expect(single.requests.map((request) => new URL(request.url).pathname)).toEqual([
      '/trpc/mail.send',
      '/trpc/mail.send',
      '/trpc/mail.send',
    ]);
  });
});

describe('timeout', () => {
  let silent: Server;
  let silentUrl = '';
  beforeAll(async () => {
    // Accepts requests and never answers: a hung server or network.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        silent.closeAllConnections();
        silent.close(() => resolve());
      }),
  );

  test('a request with no answer fails after timeoutMs with a TimeoutError cause', async () => {
    const client = createMailrouteClient({ url: silentUrl, apiKey: 'mr_x', timeoutMs: 300 });
    const started = performance.now();
    const error = await client.mail.send.mutate(message(40)).catch((caught: unknown) => caught);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<never>).cause?.name).toBe('TimeoutError');
    expect(errorCodeOf(error)).toBeUndefined();
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3_000);
  });

  test('the timeout is per request: a slow answer inside it is fine', async () => {
    const recorder = recordingFetch();
    const slowFetch: typeof globalThis.fetch = async (input, init) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return recorder.fetch(input, init);
    };
    const client = createMailrouteClient({ url: api.url, apiKey: api.keys.hotelSend.key, timeoutMs: 2_000, fetch: slowFetch });
    expect((await client.mail.send.mutate(message(41))).status).toBe('queued');
  });
});

test('the client imports no server code at run time (only @trpc/client), so it runs in browsers', () => {
  const source = readFileSync(new URL('./index.ts', import.meta.url), 'utf8');
  const runtimeImports = [...source.matchAll(/^import (?!type )[^;]*? from '([^']+)'/gm)].map((match) => match[1]);
  expect(runtimeImports).toEqual(['@trpc/client']);
  expect(source).not.toMatch(/from 'node:|require\(/);
});
