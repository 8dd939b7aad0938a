import { copyFileSync, readFileSync } from 'node:fs';
import { startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { createStore } from '@mailroute/store';
import { type BenchDatabase, bookingMail, withDatabase } from './databases.js';
import { fmt, percentile, printTable } from './measure.js';
import { spawnBuiltWorker, writeWorkerConfig } from './worker-child.js';

/**
 * Worker memory with a deep queue: 100,000 messages are enqueued on SQLite, then
 * `mailroute worker` (the built CLI, default settings) works through them against the
 * SendGrid stand-in (80 ms latency, in this process). Its RSS is read from /proc every
 * 250 ms; a preload prints its `process.memoryUsage()` each second to tell heap from the
 * rest. The same worker on an empty queue is the baseline. The run is capped in time.
 * Goal: worker RSS < 200 MB.
 */

const QUEUED = 100_000;
const LATENCY_MS = 80;
const RUN_CAP_MS = 60_000;
const CAPPED_RUN_MS = 20_000;
const CAPPED_HEAP_MB = 96;
const IDLE_BASELINE_MS = 5_000;
const SAMPLE_MS = 250;
const API_KEY = 'SG.bench.memory';
const MB = 1024 * 1024;

const MEMORY_PRELOAD = `data:text/javascript,setInterval(() => process.stderr.write(JSON.stringify({ memoryUsage: process.memoryUsage() }) + "\\n"), 1000).unref();`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface MemoryRun {
  readonly label: string;
  readonly queued: number;
  readonly sent: number;
  readonly seconds: number;
  /** RSS samples in bytes, oldest first. */
  readonly rss: readonly number[];
  /** The worker's own `process.memoryUsage()`, once a second. */
  readonly memory: readonly NodeJS.MemoryUsage[];
}

function rssOf(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

function memoryLines(lines: readonly string[]): NodeJS.MemoryUsage[] {
  return lines
    .filter((line) => line.startsWith('{"memoryUsage"'))
    .map((line) => (JSON.parse(line) as { memoryUsage: NodeJS.MemoryUsage }).memoryUsage);
}

interface RunSpec {
  readonly label: string;
  readonly queued: number;
  readonly capMs: number;
  readonly nodeArgs?: readonly string[];
}

async function fill(database: BenchDatabase, queued: number): Promise<void> {
  const store = await createStore({ url: database.url, autoMigrate: false });
  try {
    for (let start = 0; start < queued; start += 1_000) {
      await store.enqueueMany(Array.from({ length: 1_000 }, (_, i) => bookingMail(start + i)));
    }
  } finally {
    // The last connection to close checkpoints the WAL: the file alone then holds every row.
    await store.close();
  }
}

async function workerRun(database: BenchDatabase, { label, queued, capMs, nodeArgs = [] }: RunSpec): Promise<MemoryRun> {
  const standIn = await startSendGridStandIn({ apiKey: API_KEY, latencyMs: LATENCY_MS, logLimit: 100 });
  const directory = database.file ? database.file.replace(/\/[^/]+$/, '') : '.';
  const worker = spawnBuiltWorker(
    writeWorkerConfig(directory, {
      database: { url: database.url },
      providers: [{ type: 'sendgrid', name: 'sendgrid', apiKey: API_KEY, baseUrl: standIn.url }],
    }),
    ['--import', MEMORY_PRELOAD, ...nodeArgs],
  );
  const rss: number[] = [];
  try {
    await worker.started;
    const started = performance.now();
    while (performance.now() - started < capMs && (queued === 0 || standIn.counters.accepted < queued)) {
      await sleep(SAMPLE_MS);
      const sample = rssOf(worker.pid);
      if (sample === undefined) break;
      rss.push(sample);
    }
    const seconds = (performance.now() - started) / 1000;
    return { label, queued, sent: standIn.counters.accepted, seconds, rss, memory: memoryLines(worker.lines) };
  } finally {
    await worker.stop();
    await standIn.close();
  }
}

const mb = (bytes: number | undefined) => (bytes === undefined ? '' : fmt(bytes / MB, 1));

export async function runQueueMemory(): Promise<MemoryRun[]> {
  const specs: RunSpec[] = [
    { label: 'empty queue (baseline)', queued: 0, capMs: IDLE_BASELINE_MS },
    { label: `${QUEUED} queued`, queued: QUEUED, capMs: RUN_CAP_MS },
    // V8 sizes the old generation by the machine's memory (24 GiB here) and lets garbage pile
    // up; this row shows what a capped heap changes.
    {
      label: `${QUEUED} queued, --max-old-space-size=${CAPPED_HEAP_MB}`,
      queued: QUEUED,
      capMs: CAPPED_RUN_MS,
      nodeArgs: [`--max-old-space-size=${CAPPED_HEAP_MB}`],
    },
  ];
  const runs: MemoryRun[] = [];
  await withDatabase('sqlite', async (full) => {
    await fill(full, QUEUED);
    for (const spec of specs) {
      runs.push(
        await withDatabase('sqlite', (database) => {
          if (spec.queued > 0 && database.file && full.file) copyFileSync(full.file, database.file);
          return workerRun(database, spec);
        }),
      );
    }
  });
  printTable(
    `Worker memory (mailroute worker, SQLite, default settings, stand-in at ${LATENCY_MS} ms)`,
    runs.map((run) => {
      // Steady state: the second half of the run, once the queue has been worked on for a while.
      const steady = [...run.rss.slice(Math.floor(run.rss.length / 2))].sort((a, b) => a - b);
      const heapUsed = run.memory.map((usage) => usage.heapUsed);
      return {
        worker: run.label,
        sent: run.sent,
        seconds: fmt(run.seconds, 1),
        'sent/s': Math.round(run.sent / run.seconds),
        'peak RSS (MB)': mb(Math.max(...run.rss)),
        'steady RSS, median (MB)': mb(percentile(steady, 50)),
        // Heap used swings between what is live (low) and garbage awaiting a major GC (high).
        'heap used, low-high (MB)': `${mb(Math.min(...heapUsed))}-${mb(Math.max(...heapUsed))}`,
        'heap total, max (MB)': mb(Math.max(...run.memory.map((usage) => usage.heapTotal))),
        'RSS outside the JS heap, max (MB)': mb(Math.max(...run.memory.map((usage) => usage.rss - usage.heapTotal))),
      };
    }),
  );
  console.log('goal: worker RSS < 200 MB');
  return runs;
}

if (import.meta.url === `file://${process.argv[1]}`) await runQueueMemory();
