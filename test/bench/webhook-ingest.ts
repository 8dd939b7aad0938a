import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { MailrouteConfigInput } from '@mailroute/server';
import { createStore } from '@mailroute/store';
import { bookingMail } from './databases.js';
import { cpuMicrosOf, fmt, percentile, printTable, stop } from './measure.js';

/**
 * Signed SendGrid Event Webhook batches of 100 events posted over HTTP to the BUILT server
 * (`mailroute serve --role api`, SQLite in a temp directory) by 1, 4 and 16 concurrent posters
 * (each awaits its answer before the next post; one poster shows the handling time without
 * queueing). Every batch is signed when posted (ECDSA P-256, like SendGrid) and carries
 * processed / delivered / open / click events for 25 messages that were sent through
 * SendGrid, so each post verifies, parses, correlates, moves statuses and stores 100 rows in
 * one transaction. Same-run baseline: bare Fastify verifying the same signature and inserting
 * the same rows raw with better-sqlite3 in one transaction per post (`webhook-baseline-child.ts`).
 * `BENCH_CPU_PROF=DIR` writes the server's CPU profile to DIR.
 * Goal: >= 5,000 events/s on SQLite, p99 < 100 ms per batch.
 */

const cli = new URL('../../apps/server/dist/cli.js', import.meta.url).pathname;
const baselineEntry = new URL('./webhook-baseline-child.ts', import.meta.url).pathname;
const ADMIN_KEY = `mr_${'w'.repeat(40)}`;
const WARMUP_MS = 2_000;
const MEASURE_MS = 5_000;
const BATCH_SIZE = 100;
const EVENTS_PER_MESSAGE = 4;
/** More than the run can use at the goal rate, so most events find a message still in flight. */
const MESSAGES = 20_000;
const POSTERS = [1, 4, 16] as const;

interface Server {
  readonly url: URL;
  cpuMicros(): number;
  stop(): Promise<void>;
}

interface Outcome {
  readonly eventsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly serverCpuMicrosPerEvent: number;
  readonly errors: number;
  readonly firstError?: string;
}

interface Sent {
  readonly id: string;
  readonly providerMessageId: string;
  readonly to: string;
}

/** Messages sent through SendGrid (one accepted attempt each), written before the server starts. */
async function seedSentMail(url: string): Promise<Sent[]> {
  const store = await createStore({ url });
  try {
    const sent: Sent[] = [];
    for (let offset = 0; offset < MESSAGES; offset += 1_000) {
      const contents = Array.from({ length: 1_000 }, (_, i) => bookingMail(offset + i));
      const stored = await store.enqueueMany(contents);
      const claimed = await store.claim('bench-seed', stored.length, 600_000);
      const at = Date.now();
      const outcomes = claimed.map((message) => {
        const id = message.message.id;
        const providerMessageId = randomBytes(16).toString('base64url');
        sent.push({ id, providerMessageId, to: message.message.to[0]?.email ?? '' });
        return {
          kind: 'sent' as const,
          id,
          provider: 'sendgrid',
          providerMessageId,
          attempts: [
            {
              messageId: id,
              provider: 'sendgrid',
              providerType: 'sendgrid',
              startedAt: at,
              finishedAt: at + 40,
              latencyMs: 40,
              outcome: 'accepted' as const,
              providerMessageId,
            },
          ],
        };
      });
      await store.complete('bench-seed', outcomes);
    }
    return sent;
  } finally {
    await store.close();
  }
}

/** One batch as SendGrid posts it: a JSON array; custom_args (our id) echoed as a top-level key. */
function batchBody(sent: readonly Sent[], batch: number): string {
  const perBatch = BATCH_SIZE / EVENTS_PER_MESSAGE;
  const timestamp = Math.floor(Date.now() / 1000);
  const events = [];
  for (let i = 0; i < perBatch; i += 1) {
    const mail = sent[(batch * perBatch + i) % sent.length] as Sent;
    for (const event of ['processed', 'delivered', 'open', 'click']) {
      events.push({
        email: mail.to,
        timestamp,
        'smtp-id': `<${mail.providerMessageId}@geopod-ismtpd-3>`,
        event,
        category: ['booking'],
        sg_event_id: randomBytes(16).toString('base64url'),
        sg_message_id: `${mail.providerMessageId}.recvd-7c9f8b9d5-x2l4q-1-6560A1B2-3.0`,
        mailroute_id: mail.id,
        ...(event === 'delivered' ? { response: '250 2.0.0 OK', ip: '149.72.1.2', tls: 1 } : {}),
        ...(event === 'click' ? { url: 'https://example.com/booking', useragent: 'Mozilla/5.0', ip: '203.0.113.7' } : {}),
      });
    }
  }
  return JSON.stringify(events);
}

function post(agent: Agent, url: URL, body: string, privateKey: KeyObject): Promise<number> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), privateKey).toString('base64');
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-twilio-email-event-webhook-signature': signature,
          'x-twilio-email-event-webhook-timestamp': timestamp,
        },
      },
      (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
        response.once('error', reject);
      },
    );
    outgoing.once('error', reject);
    outgoing.end(body);
  });
}

async function drive(
  server: Server,
  sent: readonly Sent[],
  privateKey: KeyObject,
  posters: number,
  firstBatch: number,
): Promise<Outcome & { batches: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: posters });
  const started = performance.now();
  const measureFrom = started + WARMUP_MS;
  const end = measureFrom + MEASURE_MS;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let batch = firstBatch;
  const poster = async () => {
    for (let now = performance.now(); now < end; now = performance.now()) {
      const body = batchBody(sent, batch);
      batch += 1;
      const sentAt = performance.now();
      try {
        const status = await post(agent, server.url, body, privateKey);
        if (status !== 200) throw new Error(`HTTP ${status}`);
        if (sentAt >= measureFrom) latencies.push(performance.now() - sentAt);
      } catch (error) {
        errors += 1;
        firstError ??= String(error);
      }
    }
  };
  const windowStart = new Promise<number>((resolve) => setTimeout(() => resolve(server.cpuMicros()), WARMUP_MS));
  await Promise.all(Array.from({ length: posters }, poster));
  const serverCpu = server.cpuMicros() - (await windowStart);
  agent.destroy();
  const seconds = (performance.now() - measureFrom) / 1000;
  latencies.sort((a, b) => a - b);
  const events = latencies.length * BATCH_SIZE;
  return {
    eventsPerSecond: events / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    serverCpuMicrosPerEvent: serverCpu / events,
    errors,
    ...(firstError ? { firstError } : {}),
    batches: batch,
  };
}

function startProcess(args: readonly string[], env: NodeJS.ProcessEnv, urlOf: (line: string) => string | undefined): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let partial = '';
    const onData = (chunk: Buffer) => {
      const complete = (partial + chunk.toString()).split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) {
        if (lines.length < 200) lines.push(line);
        const url = urlOf(line);
        if (url) resolve({ url: new URL(url), cpuMicros: () => cpuMicrosOf(child.pid), stop: () => stop(child, exited) });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => reject(new Error(`${args.join(' ')} exited before it was ready:\n${lines.join('\n')}`)));
  });
}

const profileArgs = () => {
  const directory = process.env.BENCH_CPU_PROF;
  return directory ? ['--cpu-prof', `--cpu-prof-dir=${directory}`] : [];
};

function startMailroute(directory: string, publicKey: string): Promise<Server> {
  const config: MailrouteConfigInput = {
    database: { url: `file:${path.join(directory, 'mailroute.db')}` },
    providers: [{ type: 'sendgrid', name: 'sendgrid', apiKey: 'SG.bench', webhookPublicKey: publicKey }],
    server: { host: '127.0.0.1', port: 0 },
  };
  const file = path.join(directory, 'mailroute.json');
  writeFileSync(file, JSON.stringify(config));
  return startProcess(
    [...profileArgs(), cli, 'serve', '--role', 'api', '--config', file, '--log-level', 'info'],
    { ...process.env, MAILROUTE_ADMIN_KEY: ADMIN_KEY },
    (line) => (line.includes('"api listening"') ? `${(JSON.parse(line) as { url: string }).url}/webhooks/sendgrid` : undefined),
  );
}

function startBaseline(directory: string, publicKey: string): Promise<Server> {
  return startProcess(['--import', 'tsx', baselineEntry, path.join(directory, 'baseline.db'), publicKey], process.env, (line) =>
    line.startsWith('{"url"') ? (JSON.parse(line) as { url: string }).url : undefined,
  );
}

export async function runWebhookIngest(): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKeyBase64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const directory = mkdtempSync(path.join(tmpdir(), 'mailroute-webhook-bench-'));
  try {
    const sent = await seedSentMail(`file:${path.join(directory, 'mailroute.db')}`);
    const ours: (Outcome & { batches: number })[] = [];
    const mailroute = await startMailroute(directory, publicKeyBase64);
    try {
      let batch = 0;
      for (const posters of POSTERS) {
        const outcome = await drive(mailroute, sent, privateKey, posters, batch);
        batch = outcome.batches;
        ours.push(outcome);
      }
    } finally {
      await mailroute.stop();
    }
    const theirs: Outcome[] = [];
    const baseline = await startBaseline(directory, publicKeyBase64);
    try {
      for (const posters of POSTERS) theirs.push(await drive(baseline, sent, privateKey, posters, 0));
    } finally {
      await baseline.stop();
    }
    printTable(
      `Signed SendGrid webhook batches of ${BATCH_SIZE} -> built server (serve --role api, SQLite) vs bare Fastify + raw better-sqlite3 (${MEASURE_MS / 1000} s each)`,
      POSTERS.map((posters, index) => {
        const a = ours[index] as Outcome;
        const b = theirs[index] as Outcome;
        return {
          posters,
          'mailroute events/s': Math.round(a.eventsPerSecond),
          'p50 ms/batch': fmt(a.p50, 1),
          'p99 ms/batch': fmt(a.p99, 1),
          'baseline events/s': Math.round(b.eventsPerSecond),
          'baseline p50 ms': fmt(b.p50, 1),
          'baseline p99 ms': fmt(b.p99, 1),
          'mailroute/baseline': fmt(a.eventsPerSecond / b.eventsPerSecond),
          'server CPU us/event': `${fmt(a.serverCpuMicrosPerEvent, 0)}/${fmt(b.serverCpuMicrosPerEvent, 0)}`,
          errors: `${a.errors}/${b.errors}${a.firstError ? ` (${a.firstError})` : ''}${b.firstError ? ` (${b.firstError})` : ''}`,
        };
      }),
    );
    console.log(
      `load average at the end (2 cores; others' jobs share them): ${loadavg()
        .map((load) => load.toFixed(1))
        .join(' ')}`,
    );
    console.log('goal: >= 5,000 events/s on SQLite, p99 < 100 ms per batch of 100');
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runWebhookIngest();
