import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configSchema, type MailrouteConfigInput, startWorker } from '@mailroute/server';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { createStore, type MailStore } from '@mailroute/store';
import { type BenchDatabase, type BenchDialect, bookingMail, postgresUnavailable, withDatabase } from './databases.js';
import { fmt, percentile, printTable } from './measure.js';
import { spawnBuiltWorker, writeWorkerConfig } from './worker-child.js';

/**
 * Pickup latency: from the moment `enqueue` is acknowledged (committed) to the moment the
 * SendGrid stand-in receives the send, with an idle worker each time (samples are spaced
 * out). The worker is woken by the in-process signal, or by LISTEN/NOTIFY when it runs in
 * another process on PostgreSQL; its idle poll (1 s) would otherwise show. Both timestamps
 * are taken in this process, so the figure includes the worker's claim, the SDK and one
 * HTTP request over loopback. Goal: p99 < 50 ms.
 */

const SAMPLES = 200;
const WARM_UP = 10;
const API_KEY = 'SG.bench.pickup';

const clock = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Variant {
  readonly name: string;
  readonly dialect: BenchDialect;
  readonly workerInOwnProcess: boolean;
}

export interface PickupResult {
  readonly variant: string;
  readonly samplesMs: readonly number[];
}

function workerConfig(database: BenchDatabase, standIn: SendGridStandIn): MailrouteConfigInput {
  return {
    database: { url: database.url },
    providers: [{ type: 'sendgrid', name: 'sendgrid', apiKey: API_KEY, baseUrl: standIn.url }],
  };
}

/** Starts the worker the variant asks for; returns how to stop it. */
async function startVariantWorker(variant: Variant, database: BenchDatabase, standIn: SendGridStandIn, store: MailStore) {
  const config = workerConfig(database, standIn);
  if (!variant.workerInOwnProcess) {
    const worker = await startWorker({ store, config: configSchema.parse(config) });
    return () => worker.stop({ graceMs: 5_000 });
  }
  const directory = mkdtempSync(path.join(tmpdir(), 'mailroute-pickup-'));
  const child = spawnBuiltWorker(writeWorkerConfig(directory, config));
  try {
    await child.started;
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  return async () => {
    await child.stop();
    rmSync(directory, { recursive: true, force: true });
  };
}

async function measureVariant(variant: Variant): Promise<PickupResult> {
  return withDatabase(variant.dialect, async (database) => {
    const standIn = await startSendGridStandIn({ apiKey: API_KEY, logLimit: 10, now: clock });
    // A store in another process than the worker has no use for LISTEN: it only enqueues.
    const store = await createStore({ url: database.url, autoMigrate: false, listen: !variant.workerInOwnProcess });
    const stopWorker = await startVariantWorker(variant, database, standIn, store);
    try {
      const samplesMs: number[] = [];
      for (let i = 0; i < WARM_UP + SAMPLES; i += 1) {
        // Long enough for the previous outcome's commit and the worker's return to idle.
        await sleep(50 + Math.random() * 50);
        const before = standIn.counters.requests;
        await store.enqueue(bookingMail(i));
        const acknowledgedAt = clock();
        const requests = await standIn.waitForRequests(before + 1, 10_000);
        const receivedAt = requests.at(-1)?.receivedAt ?? Number.NaN;
        if (i >= WARM_UP) samplesMs.push(receivedAt - acknowledgedAt);
      }
      return { variant: variant.name, samplesMs };
    } finally {
      await stopWorker();
      await store.close();
      await standIn.close();
    }
  });
}

export async function runPickupLatency(): Promise<PickupResult[]> {
  const variants: Variant[] = [{ name: 'SQLite, worker in this process (signal)', dialect: 'sqlite', workerInOwnProcess: false }];
  const problem = await postgresUnavailable();
  if (problem) console.log(`PostgreSQL rows skipped: ${problem}`);
  else {
    variants.push(
      { name: 'PostgreSQL, worker in this process (signal)', dialect: 'postgres', workerInOwnProcess: false },
      { name: 'PostgreSQL, worker in its own process (LISTEN/NOTIFY)', dialect: 'postgres', workerInOwnProcess: true },
    );
  }
  const results: PickupResult[] = [];
  for (const variant of variants) results.push(await measureVariant(variant));
  printTable(
    `Pickup latency: enqueue acknowledged -> stand-in received the send (idle worker, ${SAMPLES} samples)`,
    results.map((result) => {
      const sorted = [...result.samplesMs].sort((a, b) => a - b);
      return {
        variant: result.variant,
        'p50 (ms)': fmt(percentile(sorted, 50)),
        'p90 (ms)': fmt(percentile(sorted, 90)),
        'p99 (ms)': fmt(percentile(sorted, 99)),
        'max (ms)': fmt(sorted.at(-1) ?? Number.NaN),
      };
    }),
  );
  console.log('goal: p99 < 50 ms');
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await runPickupLatency();
