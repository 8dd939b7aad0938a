import { copyFileSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { createStore } from '@mailroute/store';
import { type BenchDatabase, bookingMail, withDatabase } from './databases.js';
import { fmt, percentile, printTable } from './measure.js';
import { spawnBuiltWorker, writeWorkerConfig } from './worker-child.js';

/**
 * Worker memory with a deep queue: 100,000 messages are enqueued on SQLite, then
 * `mailroute worker` (the built CLI, default settings, with the Node flags of its `#!` line,
 * as `mailroute worker` runs) works through them against the SendGrid stand-in (80 ms
 * latency, in this process). Its RSS is read from /proc every 250 ms; a preload prints its
 * `process.memoryUsage()` each second to tell heap from the rest. The same worker on an empty
 * queue is the baseline. Runs are capped in time; on a shared machine sends/s vary with the
 * load, so each row also gives the worker's CPU time per message sent (from /proc).
 * Goal: worker RSS < 200 MB.
 */

const QUEUED = 100_000;
const LATENCY_MS = 80;
const RUN_CAP_MS = 60_000;
const VARIANT_RUN_MS = 30_000;
const HEAP_VARIANTS: readonly (readonly string[])[] = [
  [],
  ['--max-old-space-size=128'],
  ['--max-old-space-size=128', '--max-semi-space-size=2'],
];
const IDLE_BASELINE_MS = 5_000;
const SAMPLE_MS = 250;
const API_KEY = 'SG.bench.memory';
const MB = 1024 * 1024;

const MEMORY_PRELOAD = `data:text/javascript,setInterval(() => process.stderr.write(JSON.stringify({ memoryUsage: process.memoryUsage() }) + "\\n"), 1000).unref();`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const cli = new URL('../../apps/server/dist/cli.js', import.meta.url).pathname;

/** The Node flags on the built CLI's `#!/usr/bin/env -S node ...` line: what `mailroute` runs with. */
function shippedNodeArgs(): string[] {
  const [first = ''] = readFileSync(cli, 'utf8').split('\n', 1);
  const match = /^#!.*\bnode\b(.*)$/.exec(first);
  return (match?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
}

/** Seconds of CPU (user + system) the process used so far, from /proc/<pid>/stat. */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on Linux. */
const CLOCK_TICKS = 100;

export interface MemoryRun {
  readonly label: string;
  readonly queued: number;
  readonly sent: number;
  readonly seconds: number;
  /** CPU seconds the worker used between "worker started" and the end of the run. */
  readonly cpuSeconds: number;
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
  /** Node flags in place of the shipped ones. */
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

async function workerRun(database: BenchDatabase, { label, queued, capMs, nodeArgs = shippedNodeArgs() }: RunSpec): Promise<MemoryRun> {
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
    const cpuAtStart = cpuSecondsOf(worker.pid) ?? 0;
    const started = performance.now();
    while (performance.now() - started < capMs && (queued === 0 || standIn.counters.accepted < queued)) {
      await sleep(SAMPLE_MS);
      const sample = rssOf(worker.pid);
      if (sample === undefined) break;
      rss.push(sample);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = (cpuSecondsOf(worker.pid) ?? Number.NaN) - cpuAtStart;
    return { label, queued, sent: standIn.counters.accepted, seconds, cpuSeconds, rss, memory: memoryLines(worker.lines) };
  } finally {
    await worker.stop();
    await standIn.close();
  }
}

const loadavgText = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const mb = (bytes: number | undefined) => (bytes === undefined ? '' : fmt(bytes / MB, 1));

export async function runQueueMemory(): Promise<MemoryRun[]> {
  const shipped = shippedNodeArgs().join(' ') || 'none';
  const specs: RunSpec[] = [
    { label: `empty queue (baseline), ${shipped}`, queued: 0, capMs: IDLE_BASELINE_MS },
    { label: `${QUEUED} queued, ${shipped}`, queued: QUEUED, capMs: RUN_CAP_MS },
    // What other heap settings change, on the same queue. V8 sizes the old generation by the
    // machine's memory (24 GiB here) without a cap, and lets garbage pile up to it.
    ...HEAP_VARIANTS.map((nodeArgs) => ({
      label: `${QUEUED} queued, ${nodeArgs.join(' ') || 'no heap flags'}`,
      queued: QUEUED,
      capMs: VARIANT_RUN_MS,
      nodeArgs,
    })),
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
        'CPU ms/sent': run.sent === 0 ? '' : fmt((run.cpuSeconds * 1000) / run.sent, 2),
        'peak RSS (MB)': mb(Math.max(...run.rss)),
        'steady RSS, median (MB)': mb(percentile(steady, 50)),
        // Heap used swings between what is live (low) and garbage awaiting a major GC (high).
        'heap used, low-high (MB)': `${mb(Math.min(...heapUsed))}-${mb(Math.max(...heapUsed))}`,
        'heap total, max (MB)': mb(Math.max(...run.memory.map((usage) => usage.heapTotal))),
        'RSS outside the JS heap, max (MB)': mb(Math.max(...run.memory.map((usage) => usage.rss - usage.heapTotal))),
      };
    }),
  );
  console.log(`goal: worker RSS < 200 MB (${cpus().length} cores, load average ${loadavgText()})`);
  return runs;
}

if (import.meta.url === `file://${process.argv[1]}`) await runQueueMemory();
