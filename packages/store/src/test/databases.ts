import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, test } from 'vitest';
import { type Dialect, describeUrl } from '../dialect.js';
import { migrateDatabase } from '../migrate.js';
import { createStore, type MailStore, type StoreOptions } from '../store.js';

/**
 * The one place tests learn where PostgreSQL is. Each test file gets its own database there
 * (and its own SQLite file), created in beforeAll and dropped in afterAll.
 */
const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const IN_CI = process.env.CI === 'true';

const TABLES = [
  'event',
  'attempt',
  'message_transition',
  'message_recipient',
  'message_tag',
  'message',
  'suppression',
  'provider_override',
  'api_key',
  'tenant_sender',
  'alert_notification',
  'alert',
  'lease',
  'process_heartbeat',
  'dashboard_session',
  'provider_audit',
  'breaker_event',
];

async function probePostgres(): Promise<string | undefined> {
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
}

const postgresProblem = await probePostgres();
if (postgresProblem && !IN_CI) {
  console.warn(`PostgreSQL tests SKIPPED: ${describeUrl(SERVER_URL)} is unreachable (${postgresProblem}). Set TEST_DATABASE_URL.`);
}

export interface TestDatabase {
  readonly dialect: Dialect;
  /** The database url for this test file. */
  readonly url: string;
  /** Opens a store on this database; closed after the test. */
  open(options?: Omit<StoreOptions, 'url'>): Promise<MailStore>;
  /** Runs one query on a brand-new connection (what another process would see). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs one write on a brand-new connection (an older version's rows, another process's change). */
  execute(sql: string, params?: unknown[]): Promise<void>;
}

/** Declares the same tests once per database. Every test starts on empty tables. */
export function forEachDatabase(name: string, body: (database: TestDatabase) => void): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    describe(`${name} [${dialect}]`, () => {
      if (dialect === 'postgres' && postgresProblem && !IN_CI) {
        test.skip(`PostgreSQL unreachable at ${describeUrl(SERVER_URL)}`, () => {});
        return;
      }
      let url = '';
      let drop: () => Promise<void> = async () => {};
      const stores: MailStore[] = [];

      beforeAll(async () => {
        if (dialect === 'postgres' && postgresProblem) {
          throw new Error(`PostgreSQL is required in CI but ${describeUrl(SERVER_URL)} is unreachable: ${postgresProblem}`);
        }
        ({ url, drop } = dialect === 'sqlite' ? createSqliteFile() : await createPostgresDatabase());
        await migrateDatabase({ url });
      }, 30_000);

      beforeEach(async () => {
        if (url) await truncate(dialect, url);
      });

      afterEach(async () => {
        await Promise.all(stores.splice(0).map((store) => store.close()));
      });

      afterAll(async () => {
        await drop();
      }, 30_000);

      body({
        dialect,
        get url() {
          return url;
        },
        async open(options = {}) {
          const store = await createStore({ ...options, url });
          stores.push(store);
          return store;
        },
        query: (sql, params) => rawQuery(dialect, url, sql, params),
        execute: (sql, params) => rawExecute(dialect, url, sql, params),
      });
    });
  }
}

/** A new, empty database of each kind at once (for tests that compare the two). */
export async function withBothDatabases<T>(work: (urls: Record<Dialect, string>) => Promise<T>): Promise<T | undefined> {
  if (postgresProblem) {
    if (IN_CI) throw new Error(`PostgreSQL is required in CI but unreachable: ${postgresProblem}`);
    return undefined;
  }
  const sqlite = createSqliteFile();
  const postgres = await createPostgresDatabase();
  try {
    return await work({ sqlite: sqlite.url, postgres: postgres.url });
  } finally {
    await sqlite.drop();
    await postgres.drop();
  }
}

export const postgresAvailable = postgresProblem === undefined || IN_CI;

export function createSqliteFile(): { url: string; drop: () => Promise<void> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-store-'));
  return { url: `file:${path.join(dir, 'test.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

export async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `mailroute_test_${randomUUID().replace(/-/g, '')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
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

async function truncate(dialect: Dialect, url: string): Promise<void> {
  if (dialect === 'postgres') {
    await rawQuery(dialect, url, `TRUNCATE ${TABLES.join(', ')} CASCADE`);
    return;
  }
  const db = new Database(url.replace(/^file:/, ''));
  try {
    db.transaction(() => {
      for (const table of TABLES) db.prepare(`DELETE FROM ${table}`).run();
    })();
  } finally {
    db.close();
  }
}

async function rawExecute(dialect: Dialect, url: string, sql: string, params: unknown[] = []): Promise<void> {
  if (dialect === 'sqlite') {
    const db = new Database(url.replace(/^file:/, ''));
    try {
      db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

async function rawQuery<T>(dialect: Dialect, url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  if (dialect === 'sqlite') {
    const db = new Database(url.replace(/^file:/, ''), { readonly: true });
    try {
      const statement = db.prepare(sql);
      return (statement.reader ? statement.all(...params) : []) as T[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}
