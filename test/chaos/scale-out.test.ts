import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { createStore, type MailStore, migrateDatabase } from '@mailroute/store';
import { createPostgresDatabase, postgresAvailable } from '@mailroute/store/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookings, duplicatesOf, sendGridReceivedIds } from '../support/mail.js';
import { workerOwner } from '../support/worker-logs.js';
import { spawnWorker, type WorkerProcess, writeConfig } from '../support/worker-process.js';

/**
 * Scale-out: three `mailroute worker` processes share one PostgreSQL database. SKIP LOCKED
 * claims must hand each message to exactly one of them, so the provider gets every message
 * once, and all three must really share the work (not one worker doing it while the others
 * wait on locks).
 */

const MESSAGES = 5_000;
const WORKERS = 3;
const API_KEY = 'SG.scale-out-test.key';
/** Each worker must have sent at least this share; an even split gives a third. */
const MIN_SHARE = 0.12;

let directory: string;
let database: { url: string; drop: () => Promise<void> } | undefined;
let sendgrid: SendGridStandIn;
let store: MailStore | undefined;
const workers: WorkerProcess[] = [];

async function query<T>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: database?.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

// Without PostgreSQL outside CI there is nothing to scale out on; in CI `postgresAvailable`
// is always true, so a missing server fails in beforeAll instead of skipping.
describe.skipIf(!postgresAvailable)('three worker processes on one PostgreSQL', () => {
  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'mailroute-scale-out-'));
    database = await createPostgresDatabase();
    await migrateDatabase({ url: database.url });
    store = await createStore({ url: database.url, listen: false });
    // Latency so that sends overlap: each worker has many requests open at once.
    sendgrid = await startSendGridStandIn({ apiKey: API_KEY, latencyMs: 8 });
  }, 30_000);

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill('SIGKILL')));
    await store?.close();
    await sendgrid?.close();
    await database?.drop();
    rmSync(directory, { recursive: true, force: true });
  }, 30_000);

  it('sends every message exactly once, each worker a real share', async () => {
    if (!database || !store) throw new Error('no database');
    const configPath = writeConfig(directory, {
      database: { url: database.url },
      providers: [{ type: 'sendgrid', name: 'sendgrid', apiKey: API_KEY, baseUrl: sendgrid.url }],
      worker: { concurrency: 50, leaseMs: 30_000, idlePollMs: 500 },
    });
    for (let index = 0; index < WORKERS; index += 1) workers.push(spawnWorker(configPath));
    await Promise.all(workers.map((worker) => worker.started));
    const owners = workers.map(workerOwner);
    expect(new Set(owners).size).toBe(WORKERS);

    // Enqueued only once all three listen, so none gets a head start on a full queue.
    const started = Date.now();
    const ids: string[] = [];
    for (let offset = 0; offset < MESSAGES; offset += 500) {
      ids.push(...(await store.enqueueMany(bookings(500, offset))).map((result) => result.id));
    }
    const liveStore = store;
    await expect.poll(async () => (await liveStore.countByStatus()).sent, { timeout: 50_000, interval: 250 }).toBe(MESSAGES);
    const elapsedMs = Date.now() - started;
    const exitCodes = await Promise.all(workers.map((worker) => worker.kill('SIGTERM')));
    expect(exitCodes).toEqual(Array(WORKERS).fill(0));

    const counts = await store.countByStatus();
    expect(counts.sent).toBe(MESSAGES);
    expect(Object.values(counts).reduce((sum, count) => sum + count, 0)).toBe(MESSAGES);

    const received = sendGridReceivedIds(sendgrid);
    expect(duplicatesOf(received)).toEqual([]);
    expect(received).toHaveLength(MESSAGES);
    expect(new Set(received)).toEqual(new Set(ids));

    // The store records which lease owner made each provider call.
    const perWorker = await query<{ worker: string; sent: number; first: Date; last: Date }>(
      `SELECT worker, count(*)::int AS sent, min(started_at) AS first, max(finished_at) AS last
       FROM attempt WHERE outcome = 'accepted' GROUP BY worker`,
    );
    const failed = await query<{ failed: number }>(`SELECT count(*)::int AS failed FROM attempt WHERE outcome <> 'accepted'`);
    expect(failed[0]?.failed).toBe(0);
    expect(perWorker.map((row) => row.worker).sort()).toEqual([...owners].sort());
    expect(perWorker.reduce((sum, row) => sum + row.sent, 0)).toBe(MESSAGES);
    for (const row of perWorker) expect(row.sent, `${row.worker} sent ${row.sent}`).toBeGreaterThanOrEqual(MESSAGES * MIN_SHARE);
    // They worked side by side: every worker was still sending after every other had begun.
    const latestFirst = Math.max(...perWorker.map((row) => row.first.getTime()));
    const earliestLast = Math.min(...perWorker.map((row) => row.last.getTime()));
    expect(latestFirst).toBeLessThan(earliestLast);
    // The claims agree: one per message, each by one of the three.
    const claims = await query<{ reason: string; claims: number }>(
      `SELECT reason, count(*)::int AS claims FROM message_transition WHERE to_status = 'sending' GROUP BY reason`,
    );
    expect(claims.map((row) => row.reason).sort()).toEqual(owners.map((owner) => `claimed by ${owner}`).sort());
    expect(claims.reduce((sum, row) => sum + row.claims, 0)).toBe(MESSAGES);

    expect(elapsedMs).toBeLessThan(45_000);
    const shares = perWorker.map((row) => row.sent).join(' / ');
    console.log(
      `scale-out: ${MESSAGES} messages through ${WORKERS} workers in ${elapsedMs} ms (${Math.round((MESSAGES * 1000) / elapsedMs)}/s); per worker ${shares}`,
    );
  }, 100_000);
});
