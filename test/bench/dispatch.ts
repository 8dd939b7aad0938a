import { configSchema, startWorker } from '@mailroute/server';
import { createStore, type MailStore } from '@mailroute/store';
import { type BenchDialect, bookingMail, postgresUnavailable, withDatabase } from './databases.js';
import { fmt, printTable } from './measure.js';
import { startStandInProcess } from './standin-process.js';

/**
 * Dispatch rate: N messages are enqueued, then the server's worker (core dispatcher, real
 * store, SendGrid provider over HTTP) sends them to the SendGrid stand-in, which answers
 * after `latencyMs`. Measured from the worker's start until every message is `sent` (or
 * 20 s have passed: then the rate is what was sent by then).
 * The stand-in runs in a child process, so the CPU per message is the worker's own
 * (dispatcher, router, SDK, store); the stand-in's is shown apart.
 * Goal: >= 1,000 sends/s at 80 ms provider latency.
 */

const API_KEY = 'SG.bench.dispatch';
// Keeps the whole benchmark within about two minutes on a busy machine; the rate stays sent / elapsed.
const MAX_RUN_MS = 20_000;

export interface DispatchCase {
  readonly dialect: BenchDialect;
  readonly latencyMs: number;
  readonly concurrency: number;
  readonly messages: number;
}

export interface DispatchResult extends DispatchCase {
  readonly seconds: number;
  readonly perSecond: number;
  readonly sent: number;
  readonly workerCpuUsPerMessage: number;
  readonly standInCpuUsPerMessage: number;
  readonly storageErrors: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function fill(store: MailStore, messages: number): Promise<void> {
  for (let start = 0; start < messages; start += 1_000) {
    await store.enqueueMany(Array.from({ length: Math.min(1_000, messages - start) }, (_, i) => bookingMail(start + i)));
  }
}

async function allSent(store: MailStore, messages: number, dispatched: () => number, deadline: number): Promise<number> {
  // The dispatcher's counter is free to read; the database is asked only to confirm.
  while (dispatched() < messages && performance.now() < deadline) await sleep(5);
  for (;;) {
    const sent = (await store.countByStatus()).sent;
    if (sent >= messages || performance.now() >= deadline) return sent;
    await sleep(50);
  }
}

export async function dispatchCase(spec: DispatchCase): Promise<DispatchResult> {
  return withDatabase(spec.dialect, async (database) => {
    const store = await createStore({ url: database.url, autoMigrate: false });
    const standIn = await startStandInProcess({ apiKey: API_KEY, latencyMs: spec.latencyMs });
    try {
      await fill(store, spec.messages);
      const config = configSchema.parse({
        database: { url: database.url },
        providers: [{ type: 'sendgrid', name: 'sendgrid', apiKey: API_KEY, baseUrl: standIn.url }],
        // The breaker's in-flight cap must not be below the worker's concurrency, or the excess is refused as busy.
        routing: { breaker: { capacity: spec.concurrency } },
        worker: { concurrency: spec.concurrency },
      });
      let storageErrors = 0;
      const standInBefore = await standIn.usage();
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const worker = await startWorker({ store, config, onError: () => (storageErrors += 1) });
      const sent = await allSent(store, spec.messages, () => worker.dispatcher.stats().dispatched, started + MAX_RUN_MS);
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const standInAfter = await standIn.usage();
      await worker.stop({ graceMs: 5_000 });
      return {
        ...spec,
        seconds,
        perSecond: sent / seconds,
        sent,
        workerCpuUsPerMessage: (cpu.user + cpu.system) / sent,
        standInCpuUsPerMessage: (standInAfter.cpuMicros - standInBefore.cpuMicros) / sent,
        storageErrors,
      };
    } finally {
      await standIn.close();
      await store.close();
    }
  });
}

export async function runDispatch(): Promise<DispatchResult[]> {
  const cases: DispatchCase[] = [
    { dialect: 'sqlite', latencyMs: 0, concurrency: 100, messages: 10_000 },
    { dialect: 'sqlite', latencyMs: 80, concurrency: 100, messages: 10_000 },
    { dialect: 'sqlite', latencyMs: 80, concurrency: 200, messages: 10_000 },
  ];
  const problem = await postgresUnavailable();
  if (problem) console.log(`PostgreSQL row skipped: ${problem}`);
  else cases.push({ dialect: 'postgres', latencyMs: 80, concurrency: 200, messages: 10_000 });

  const results: DispatchResult[] = [];
  for (const spec of cases) results.push(await dispatchCase(spec));
  printTable(
    'Dispatch: store -> worker -> SendGrid SDK -> stand-in (own process)',
    results.map((result) => ({
      database: result.dialect,
      'provider latency (ms)': result.latencyMs,
      concurrency: result.concurrency,
      messages: result.messages,
      sent: result.sent,
      seconds: fmt(result.seconds),
      'sent/s': Math.round(result.perSecond),
      'ceiling (concurrency/latency)': result.latencyMs === 0 ? '' : Math.round((result.concurrency * 1000) / result.latencyMs),
      'worker CPU us/msg': Math.round(result.workerCpuUsPerMessage),
      'stand-in CPU us/msg': Math.round(result.standInCpuUsPerMessage),
      'storage errors': result.storageErrors,
    })),
  );
  console.log('goal: >= 1,000 sent/s at 80 ms latency');
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await runDispatch();
