import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createMailrouteClient, type MailrouteClient } from '@mailroute/client';
import type { MailrouteConfigInput } from '@mailroute/server';
import { cpuMicrosOf, fmt, percentile, printTable, stop } from './measure.js';

/**
 * Acknowledged sends per second through HTTP with the typed client (`@mailroute/client`)
 * against the BUILT server (`mailroute serve --role api`: no worker competes for the CPU) on
 * SQLite in a temp directory. Same-run baseline: bare Fastify + tRPC doing one raw
 * better-sqlite3 transaction per call (`http-baseline-child.ts`), driven by the same client.
 * The same endpoint storing nothing is the ceiling: what any server on this stack can answer
 * on this machine, with the client on the same cores. For `sendBatch` the run also prints the
 * CPU each message costs (server + client) and the rate the machine's cores allow at that cost.
 * Each case: callers loop (each awaits its call before the next) for WARMUP_MS, then
 * MEASURE_MS is counted; the servers take turns case by case. `BENCH_CPU_PROF=DIR` writes
 * the server CPU profiles to DIR.
 * Goals: >= 2,500 single sends/s (at or above the baseline), p99 < 50 ms; batches >= 20,000 msgs/s.
 */

const cli = new URL('../../apps/server/dist/cli.js', import.meta.url).pathname;
const baselineEntry = new URL('./http-baseline-child.ts', import.meta.url).pathname;
const ADMIN_KEY = `mr_${'b'.repeat(40)}`;
const WARMUP_MS = 1_000;
const MEASURE_MS = 5_000;
const BATCH_SIZE = 100;

interface Server {
  readonly url: string;
  /** The server process's CPU time so far (user + system), in microseconds, from /proc. */
  cpuMicros(): number;
  stop(): Promise<void>;
}

interface Case {
  readonly kind: 'send' | 'sendBatch';
  readonly callers: number;
  /** The client's `batch` option. */
  readonly clientBatching: boolean | { readonly maxItems: number };
}

interface Outcome {
  readonly messagesPerSecond: number;
  readonly serverCpuMicrosPerMessage: number;
  readonly clientCpuMicrosPerMessage: number;
  /** The benchmark process (the client side) busy, as a share of one core. */
  readonly clientCpuShare: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

const mail = (index: number) => ({
  from: 'desk@hotel.example',
  to: [`guest${index}@example.org`],
  subject: `Booking ${index} confirmed`,
  text: `Your booking ${index} is confirmed. See you soon.`,
});

/** Starts `args` with node; resolves with the URL `urlOf` finds in a line once `ready` has matched a line too (either order). */
function startProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  urlOf: (line: string) => string | undefined,
  ready: (line: string) => boolean,
): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    let readySeen = false;
    let partial = '';
    const onData = (chunk: Buffer) => {
      const complete = (partial + chunk.toString()).split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) {
        if (lines.length < 200) lines.push(line);
        url ??= urlOf(line);
        readySeen ||= ready(line);
        if (url && readySeen) resolve({ url, cpuMicros: () => cpuMicrosOf(child.pid), stop: () => stop(child, exited) });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => reject(new Error(`${args.join(' ')} exited before it was ready:\n${lines.join('\n')}`)));
  });
}

const profileArgs = (name: string) => {
  const directory = process.env.BENCH_CPU_PROF;
  // A directory each: tsx's loader thread writes a profile of its own next to the main thread's.
  return directory ? ['--cpu-prof', `--cpu-prof-dir=${path.join(directory, name)}`] : [];
};

function startMailroute(directory: string): Promise<Server> {
  const config: MailrouteConfigInput = {
    database: { url: `file:${path.join(directory, 'mailroute.db')}` },
    // High enough that the limiter is still on the path but never throttles the benchmark.
    server: { host: '127.0.0.1', port: 0, rateLimit: { perMinute: 100_000_000, messagesPerMinute: 100_000_000 } },
  };
  const file = path.join(directory, 'mailroute.json');
  writeFileSync(file, JSON.stringify(config));
  return startProcess(
    [...profileArgs('mailroute'), cli, 'serve', '--role', 'api', '--config', file, '--log-level', 'info'],
    { ...process.env, MAILROUTE_ADMIN_KEY: ADMIN_KEY },
    (line) => (line.includes('"api listening"') ? (JSON.parse(line) as { url: string }).url : undefined),
    // Calls before the key is stored would be refused; on SQLite it is stored before the listen.
    (line) => line.includes('"first admin key stored'),
  );
}

/** `databaseFile` undefined: the ceiling, which stores nothing. */
function startBaseline(databaseFile: string | undefined): Promise<Server> {
  const urlOf = (line: string) => (line.startsWith('{"url"') ? (JSON.parse(line) as { url: string }).url : undefined);
  const name = databaseFile ? 'baseline' : 'ceiling';
  return startProcess(
    [...profileArgs(name), '--import', 'tsx', baselineEntry, databaseFile ?? '--no-database'],
    process.env,
    urlOf,
    (line) => urlOf(line) !== undefined,
  );
}

async function drive(client: MailrouteClient, server: Server, spec: Case): Promise<Outcome> {
  const started = performance.now();
  const measureFrom = started + WARMUP_MS;
  const end = measureFrom + MEASURE_MS;
  const latencies: number[] = [];
  let errors = 0;
  let sequence = 0;
  const call = () => {
    sequence += 1;
    if (spec.kind === 'send') return client.mail.send.mutate(mail(sequence));
    const messages = Array.from({ length: BATCH_SIZE }, (_, i) => mail(sequence * BATCH_SIZE + i));
    return client.mail.sendBatch.mutate({ messages });
  };
  const caller = async () => {
    for (let now = performance.now(); now < end; now = performance.now()) {
      try {
        await call();
        if (now >= measureFrom) latencies.push(performance.now() - now);
      } catch {
        errors += 1;
      }
    }
  };
  const windowStart = new Promise<{ client: NodeJS.CpuUsage; server: number }>((resolve) =>
    setTimeout(() => resolve({ client: process.cpuUsage(), server: server.cpuMicros() }), WARMUP_MS),
  );
  await Promise.all(Array.from({ length: spec.callers }, caller));
  const before = await windowStart;
  const clientCpu = process.cpuUsage(before.client);
  const serverCpu = server.cpuMicros() - before.server;
  // Calls started in the window may finish after it: the rate divides by the time they took.
  const seconds = (performance.now() - measureFrom) / 1000;
  latencies.sort((a, b) => a - b);
  const perCall = spec.kind === 'send' ? 1 : BATCH_SIZE;
  const messages = latencies.length * perCall;
  return {
    messagesPerSecond: messages / seconds,
    serverCpuMicrosPerMessage: serverCpu / messages,
    clientCpuMicrosPerMessage: (clientCpu.user + clientCpu.system) / messages,
    clientCpuShare: (clientCpu.user + clientCpu.system) / 1e6 / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

/** 200 calls in one tick with the client's default batching: how many are acknowledged. */
async function defaultBatchProbe(server: Server): Promise<string> {
  const client = createMailrouteClient({ url: server.url, apiKey: ADMIN_KEY });
  const settled = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => client.mail.send.mutate(mail(i))));
  const failure = settled.find((result) => result.status === 'rejected');
  const acknowledged = settled.length - settled.filter((result) => result.status === 'rejected').length;
  return `${acknowledged}/200 acknowledged${failure ? ` (${String(failure.reason)})` : ''}`;
}

function runCase(server: Server, spec: Case): Promise<Outcome> {
  const client = createMailrouteClient({ url: server.url, apiKey: ADMIN_KEY, batch: spec.clientBatching });
  return drive(client, server, spec);
}

export async function runHttpSend(): Promise<void> {
  const cases: Case[] = [
    { kind: 'send', callers: 50, clientBatching: true },
    { kind: 'send', callers: 50, clientBatching: false },
    // Default batching puts all 200 in one request, which the server refuses: see defaultBatchProbe.
    { kind: 'send', callers: 200, clientBatching: { maxItems: 50 } },
    { kind: 'send', callers: 200, clientBatching: false },
    { kind: 'sendBatch', callers: 10, clientBatching: false },
  ];
  const directory = mkdtempSync(path.join(tmpdir(), 'mailroute-http-bench-'));
  try {
    const servers: Server[] = [];
    const ours: Outcome[] = [];
    const theirs: Outcome[] = [];
    const ceilings: Outcome[] = [];
    let ourProbe = '';
    let theirProbe = '';
    try {
      const mailroute = await startMailroute(directory);
      servers.push(mailroute);
      const baseline = await startBaseline(path.join(directory, 'baseline.db'));
      servers.push(baseline);
      const ceiling = await startBaseline(undefined);
      servers.push(ceiling);
      ourProbe = await defaultBatchProbe(mailroute);
      theirProbe = await defaultBatchProbe(baseline);
      // Each case right after the others': the machine's speed drifts over minutes.
      for (const spec of cases) {
        ours.push(await runCase(mailroute, spec));
        theirs.push(await runCase(baseline, spec));
        ceilings.push(await runCase(ceiling, spec));
      }
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
    printTable(
      `HTTP sends: typed client -> built server (serve --role api, SQLite) vs bare Fastify+tRPC+better-sqlite3 (${MEASURE_MS / 1000} s each)`,
      cases.map((spec, index) => {
        const a = ours[index] as Outcome;
        const b = theirs[index] as Outcome;
        return {
          call: spec.kind === 'send' ? 'mail.send' : `mail.sendBatch x${BATCH_SIZE}`,
          callers: spec.callers,
          'client batching':
            spec.clientBatching === false ? 'off' : spec.clientBatching === true ? 'on' : `max ${spec.clientBatching.maxItems}`,
          'mailroute msgs/s': Math.round(a.messagesPerSecond),
          'p50 ms': fmt(a.p50, 1),
          'p99 ms': fmt(a.p99, 1),
          'baseline msgs/s': Math.round(b.messagesPerSecond),
          'baseline p50 ms': fmt(b.p50, 1),
          'baseline p99 ms': fmt(b.p99, 1),
          'mailroute/baseline': fmt(a.messagesPerSecond / b.messagesPerSecond),
          'ceiling msgs/s': Math.round((ceilings[index] as Outcome).messagesPerSecond),
          'server CPU us/msg': `${Math.round(a.serverCpuMicrosPerMessage)}/${Math.round(b.serverCpuMicrosPerMessage)}`,
          'client CPU': `${fmt(a.clientCpuShare * 100, 0)}%/${fmt(b.clientCpuShare * 100, 0)}%`,
          errors: `${a.errors}/${b.errors}`,
        };
      }),
    );
    const batchIndex = cases.findIndex((spec) => spec.kind === 'sendBatch');
    const cores = availableParallelism();
    const budget = (name: string, outcome: Outcome | undefined) => {
      if (!outcome) return;
      const micros = outcome.serverCpuMicrosPerMessage + outcome.clientCpuMicrosPerMessage;
      console.log(
        `sendBatch CPU per message, ${name}: server ${fmt(outcome.serverCpuMicrosPerMessage, 1)} us + client ${fmt(outcome.clientCpuMicrosPerMessage, 1)} us; ${cores} cores allow at most ${Math.round((cores * 1e6) / micros)} msgs/s at that cost`,
      );
    };
    budget('mailroute', ours[batchIndex]);
    budget('baseline', theirs[batchIndex]);
    budget('ceiling (stores nothing)', ceilings[batchIndex]);
    console.log(`200 calls in one tick, default client batching: mailroute ${ourProbe}; baseline ${theirProbe}`);
    console.log(
      `load average at the end (2 cores; others' jobs share them): ${loadavg()
        .map((load) => load.toFixed(1))
        .join(' ')}`,
    );
    console.log('goals: mail.send >= 2,500 acks/s and >= baseline (group commit), p99 < 50 ms; sendBatch >= 20,000 msgs/s');
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runHttpSend();
