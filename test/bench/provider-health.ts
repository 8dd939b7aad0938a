import { randomUUID } from 'node:crypto';
import { createStore } from '@mailroute/store';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type BenchDatabase, type BenchDialect, bookingMail, postgresUnavailable, withDatabase } from './databases.js';
import { fmt, printTable } from './measure.js';

/**
 * What `providers.health` costs the database on a busy attempt log: three providers, 100,000
 * attempts within the last hour (about 2.4 million a day) and 200,000 older ones, 5 % of them
 * failures. Timed: `providerHealth` over 1 min / 15 min / 1 h (counts, p50/p95/p99, last
 * success, last fault, delivery lag), the median of 7 calls. Wall times on this shared 2-core
 * machine swing with the other load; the CPU column is steadier.
 */

const PROVIDERS = ['sendgrid', 'ses', 'smtp'];
const RECENT = 100_000;
const OLDER = 200_000;
const MESSAGES = 2_000;
const CALLS = 7;
const HOUR = 3_600_000;

interface AttemptRow {
  readonly id: string;
  readonly messageId: string;
  readonly provider: string;
  readonly startedAt: Date;
  readonly latencyMs: number;
  readonly failed: boolean;
}

function* attemptRows(messageIds: readonly string[], now: number): Generator<AttemptRow> {
  for (let index = 0; index < RECENT + OLDER; index += 1) {
    const recent = index < RECENT;
    // Recent ones within 57 minutes: filling takes a while and the hour ends at the call.
    const age = recent ? (index / RECENT) * 0.95 * HOUR : HOUR + ((index - RECENT) / OLDER) * 23 * HOUR;
    yield {
      id: randomUUID(),
      messageId: messageIds[index % messageIds.length] ?? '',
      provider: PROVIDERS[index % PROVIDERS.length] ?? 'sendgrid',
      startedAt: new Date(now - age),
      latencyMs: 20 + ((index * 7919) % 400),
      failed: index % 20 === 0,
    };
  }
}

function values(row: AttemptRow, date: (value: Date) => unknown): unknown[] {
  const finished = new Date(row.startedAt.getTime() + row.latencyMs);
  return [
    row.id,
    row.messageId,
    row.provider,
    row.provider,
    date(row.startedAt),
    date(finished),
    row.latencyMs,
    row.failed ? 'failed' : 'accepted',
    row.failed ? 'provider' : null,
    row.failed ? 'PROVIDER_UNAVAILABLE' : null,
    row.failed ? 'answered 503' : null,
    row.failed ? 503 : 202,
  ];
}

const COLUMNS =
  'id, message_id, provider, provider_type, started_at, finished_at, latency_ms, outcome, error_category, error_code, error_message, status_code';

async function fill(database: BenchDatabase, messageIds: readonly string[], now: number): Promise<void> {
  if (database.dialect === 'sqlite') {
    const db = new Database(database.file ?? '');
    try {
      const insert = db.prepare(`INSERT INTO attempt (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      db.transaction(() => {
        for (const row of attemptRows(messageIds, now)) insert.run(...values(row, (value) => value.toISOString().replace('Z', '+00:00')));
      })();
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    let batch: unknown[][] = [];
    const flush = async () => {
      const args = batch.flat();
      const width = 12;
      const tuples = batch.map((_, row) => `(${Array.from({ length: width }, (__, column) => `$${row * width + column + 1}`).join(', ')})`);
      await client.query(`INSERT INTO attempt (${COLUMNS}) VALUES ${tuples.join(', ')}`, args);
      batch = [];
    };
    for (const row of attemptRows(messageIds, now)) {
      batch.push(values(row, (value) => value));
      if (batch.length === 2_000) await flush();
    }
    if (batch.length > 0) await flush();
    await client.query('ANALYZE attempt');
  } finally {
    await client.end();
  }
}

export interface HealthCase {
  readonly database: BenchDialect;
  readonly medianMs: number;
  readonly maxMs: number;
  /** CPU of this process per call: on SQLite that is the query itself, on PostgreSQL the client side only. */
  readonly cpuMsPerCall: number;
}

async function runCase(dialect: BenchDialect): Promise<HealthCase> {
  return withDatabase(dialect, async (database) => {
    const now = Date.now();
    const store = await createStore({ url: database.url });
    try {
      const enqueued = await store.enqueueMany(Array.from({ length: MESSAGES }, (_, index) => bookingMail(index)));
      await fill(
        database,
        enqueued.map((result) => result.id),
        now,
      );
      const timings: number[] = [];
      const cpu = process.cpuUsage();
      for (let call = 0; call < CALLS; call += 1) {
        const started = performance.now();
        const health = await store.providerHealth({ providers: PROVIDERS, windowsMs: [60_000, 15 * 60_000, HOUR] });
        timings.push(performance.now() - started);
        const hour = health.reduce((sum, entry) => sum + (entry.windows[2]?.attempts ?? 0), 0);
        if (hour !== RECENT) throw new Error(`the hour window counted ${hour} attempts, expected ${RECENT}`);
      }
      const used = process.cpuUsage(cpu);
      timings.sort((a, b) => a - b);
      return {
        database: dialect,
        medianMs: fmt(timings[Math.floor(CALLS / 2)] ?? Number.NaN, 1),
        maxMs: fmt(timings[CALLS - 1] ?? Number.NaN, 1),
        cpuMsPerCall: fmt((used.user + used.system) / 1000 / CALLS, 1),
      };
    } finally {
      await store.close();
    }
  });
}

export async function runProviderHealth(): Promise<HealthCase[]> {
  const cases = [await runCase('sqlite')];
  const problem = await postgresUnavailable();
  if (problem) console.warn(`PostgreSQL skipped: ${problem}`);
  else cases.push(await runCase('postgres'));
  printTable(
    `providers.health store query: ${RECENT.toLocaleString('en')} attempts in the hour, ${OLDER.toLocaleString('en')} older, 3 providers`,
    cases.map((entry) => ({ ...entry })),
  );
  return cases;
}

if (import.meta.url === `file://${process.argv[1]}`) await runProviderHealth();
