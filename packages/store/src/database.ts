import type { SqlDriverAdapter, SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { type AdapterOptions, adapterFactory, type Dialect, dialectOf } from './dialect.js';
import type { PrismaClient as PostgresClient } from './generated/postgres/client.js';
import { createRawSql, type RawSql } from './sql.js';

/**
 * The store is written once against the PostgreSQL client's types. The SQLite client is
 * generated from a schema with the very same models and fields (a test compares the two
 * schema files), so its delegates accept and return the same shapes.
 */
export type Db = PostgresClient;
export type { Prisma } from './generated/postgres/client.js';

export interface Database {
  readonly dialect: Dialect;
  readonly db: Db;
  /** Plain SQL on the Prisma client's own connection or pool. */
  readonly raw: RawSql;
  /** Whether the Prisma client has connected (and so started its query compiler). */
  clientConnected(): boolean;
  close(): Promise<void>;
}

export interface OpenOptions extends AdapterOptions {
  readonly url: string;
}

/**
 * Interactive transactions queue behind SQLite's single writer (the adapter holds a mutex),
 * so waiting for one must not time out under load the way Prisma's 2 s default would.
 */
const transactionOptions = { maxWait: 60_000, timeout: 60_000 };

export async function openDatabase(options: OpenOptions): Promise<Database> {
  const dialect = dialectOf(options.url);
  // Plain SQL and the Prisma client share one adapter: on SQLite its connection is the only writer.
  const adapter = await adapterFactory(options.url, options).connect();
  if (dialect === 'sqlite') {
    // WAL lets readers run beside the writer; FULL makes every commit durable before the
    // store acknowledges it (group commit keeps that affordable).
    await adapter
      .executeScript('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;')
      .catch(async (error: unknown) => {
        await adapter.dispose();
        throw error;
      });
  }
  // Each generated client is tens of MB once loaded: a process only loads the one it uses.
  // Prisma starts its WebAssembly query compiler (about 45 MB of RSS, more as it plans
  // queries) when it connects, which it does at its first query, not here. The queue's
  // paths are plain SQL, so a worker-only process never pays for it.
  let clientConnected = false;
  const lent = sharedAdapter(adapter, () => {
    clientConnected = true;
  });
  const db: Db =
    dialect === 'postgres'
      ? new (await import('./generated/postgres/client.js')).PrismaClient({ adapter: lent, transactionOptions })
      : (new (await import('./generated/sqlite/client.js')).PrismaClient({ adapter: lent, transactionOptions }) as unknown as Db);
  const raw = createRawSql(dialect, () => adapter);
  return {
    dialect,
    db,
    raw,
    clientConnected: () => clientConnected,
    async close() {
      await db.$disconnect();
      await adapter.dispose();
    },
  };
}

/** Hands the client the open adapter; closing it stays with `close()`, as plain SQL uses it too. */
function sharedAdapter(adapter: SqlDriverAdapter, onConnect: () => void): SqlDriverAdapterFactory {
  const lent = new Proxy(adapter, {
    get(target, property) {
      if (property === 'dispose') return () => Promise.resolve();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    connect: () => {
      onConnect();
      return Promise.resolve(lent);
    },
  };
}
