import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMessage } from '@mailroute/core';
import { createStore, type MailStore } from '@mailroute/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema, longestSendMs, type MailrouteConfigInput } from '../config/schema.js';
import { startWorker } from './worker.js';

let dir: string;
let store: MailStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailroute-worker-'));
  store = await createStore({ url: `file:${join(dir, 'db.sqlite')}` });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const capture = (name: string) => ({ type: 'capture' as const, name, directory: join(dir, name), maxInMemory: 1000 });
const config = (input: MailrouteConfigInput) => configSchema.parse(input);
const emlCount = (name: string) => readdirSync(join(dir, name)).filter((file) => file.endsWith('.eml')).length;

function message(index: number) {
  const parsed = parseMessage({ from: 'desk@hotel.example', to: [`guest${index}@example.org`], subject: `Booking ${index}`, text: 'ok' });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

describe('worker configuration reload', () => {
  it('swaps the provider order while mail flows: the new order takes over, nothing lost or sent twice', async () => {
    const first = config({ providers: [capture('a'), capture('b')], worker: { concurrency: 10, idlePollMs: 50 } });
    const outcomes: string[] = [];
    const worker = await startWorker({
      store,
      config: first,
      onOutcome: async (outcome) => {
        const stored = await store.getMessage(outcome.id);
        outcomes.push(`${outcome.kind}:${stored?.status}`);
      },
    });
    const ids: string[] = [];
    for (let i = 0; i < 100; i += 1) ids.push((await store.enqueue(message(i))).id);
    await worker.reload(config({ providers: [capture('b'), capture('a')], worker: { concurrency: 10, idlePollMs: 50 } }));
    for (let i = 100; i < 200; i += 1) ids.push((await store.enqueue(message(i))).id);
    const deadline = Date.now() + 10_000;
    while ((await store.countByStatus()).sent < ids.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await worker.stop();

    expect((await store.countByStatus()).sent).toBe(200);
    expect(emlCount('a') + emlCount('b')).toBe(200);
    const last = await Promise.all(ids.slice(150).map((id) => store.getMessage(id)));
    expect(last.every((detail) => detail?.provider === 'b')).toBe(true);
    expect(worker.router().providerNames()).toEqual(['b', 'a']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(outcomes).toHaveLength(200);
    expect(new Set(outcomes)).toEqual(new Set(['sent:sent']));
  });

  it('a provider that cannot be built leaves the running router in place', async () => {
    const worker = await startWorker({ store, config: config({ providers: [capture('a')] }) });
    const before = worker.router();
    const broken = config({ providers: [capture('a')] });
    await expect(worker.reload({ ...broken, providers: [capture('a'), capture('a')] })).rejects.toThrow(/used twice/);
    expect(worker.router()).toBe(before);
    await worker.stop();
  });

  it('bounds the old router by the sum of its providers timeouts', () => {
    const input = config({
      providers: [capture('a'), capture('b'), capture('c')],
      routing: { breaker: { timeoutMs: 2_000 }, providerBreakers: { c: { timeoutMs: 500 } } },
    });
    expect(longestSendMs(input)).toBe(4_500);
  });
});
