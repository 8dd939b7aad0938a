import { createContext, runInContext } from 'node:vm';
import { startTestApi, type TestApi } from '@mailroute/api/testing';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { createMailrouteClient } from './index.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

/** The client as a browser bundler would package it: browser platform, nothing left external. */
async function browserBundle(): Promise<string> {
  const result = await build({
    entryPoints: [new URL('./index.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'mailroute',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

test('the client bundles for browsers without Node built-ins or server code', async () => {
  const bundle = await browserBundle();
  expect(bundle.length).toBeLessThan(80_000);
  for (const serverOnly of ['appRouter', 'PrismaClient', 'better-sqlite3', 'messageInputSchema', 'node:']) {
    expect(bundle).not.toContain(serverOnly);
  }
});

test('the bundle sends mail from a context that has only web globals (no process, require or Buffer)', async () => {
  const page = createContext({
    fetch,
    AbortSignal,
    AbortController,
    URL,
    URLSearchParams,
    Headers,
    Request,
    Response,
    TextDecoder,
    TextEncoder,
    ReadableStream,
    DOMException,
    setTimeout,
    clearTimeout,
    console,
  });
  runInContext(await browserBundle(), page);
  expect(runInContext('typeof process + typeof require + typeof Buffer', page)).toBe('undefinedundefinedundefined');
  const create = runInContext('mailroute.createMailrouteClient', page) as typeof createMailrouteClient;
  const client = create({ url: api.url, apiKey: api.keys.hotelSend.key, timeoutMs: 5_000 });
  const [first, second] = await Promise.all([
    client.mail.send.mutate({ from: 'desk@hotel.example', to: ['web@example.org'], subject: 'From a page', text: 'Hi' }),
    client.mail.send.mutate({ from: 'desk@hotel.example', to: ['web2@example.org'], subject: 'From a page', text: 'Hi' }),
  ]);
  expect(first?.status).toBe('queued');
  expect((await api.store.getMessage(second?.id ?? ''))?.subject).toBe('From a page');
});
