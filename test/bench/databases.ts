import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type MessageContent, parseMessage } from '@mailroute/core';
import { migrateDatabase } from '@mailroute/store';
import pg from 'pg';

/**
 * Fresh, migrated databases for the benchmarks, dropped afterwards. (`@mailroute/store/testing`
 * needs the source condition and vitest; benchmarks run against the built packages.)
 */

export type BenchDialect = 'sqlite' | 'postgres';

export interface BenchDatabase {
  readonly dialect: BenchDialect;
  readonly url: string;
  /** SQLite: the database file. */
  readonly file?: string;
  drop(): Promise<void>;
}

const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

let postgresProblem: Promise<string | undefined> | undefined;

/** Undefined when PostgreSQL answers; else why not (the PostgreSQL rows are then skipped). */
export function postgresUnavailable(): Promise<string | undefined> {
  postgresProblem ??= (async () => {
    const client = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return postgresProblem;
}

export async function createDatabase(dialect: BenchDialect): Promise<BenchDatabase> {
  const database = dialect === 'sqlite' ? sqliteDatabase() : await postgresDatabase();
  try {
    await migrateDatabase({ url: database.url });
  } catch (error) {
    await database.drop();
    throw error;
  }
  return database;
}

/** Runs `work` on a fresh database and drops it whatever happens. */
export async function withDatabase<T>(dialect: BenchDialect, work: (database: BenchDatabase) => Promise<T>): Promise<T> {
  const database = await createDatabase(dialect);
  try {
    return await work(database);
  } finally {
    await database.drop();
  }
}

function sqliteDatabase(): BenchDatabase {
  const directory = mkdtempSync(path.join(tmpdir(), 'mailroute-bench-'));
  const file = path.join(directory, 'bench.db');
  return { dialect: 'sqlite', url: `file:${file}`, file, drop: async () => rmSync(directory, { recursive: true, force: true }) };
}

async function postgresDatabase(): Promise<BenchDatabase> {
  const name = `mailroute_bench_${randomUUID().replace(/-/g, '')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return { dialect: 'postgres', url: url.toString(), drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A typical transactional mail: one recipient, a short text body. */
export function bookingMail(index: number): MessageContent {
  const parsed = parseMessage({
    from: 'desk@hotel.example',
    to: [`guest${index}@example.org`],
    subject: `Booking ${index} confirmed`,
    text: `Your booking ${index} is confirmed. See you soon.`,
  });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}
