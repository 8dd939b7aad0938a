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
  const factory = adapterFactory(options.url, options);
  // The client connects through this factory; keeping the adapter it made lets plain SQL
  // share the client's connection, which on SQLite is the only writer.
  let connected: SqlDriverAdapter | undefined;
  const adapter: SqlDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      connected = await factory.connect();
      return connected;
    },
  };
  // Each generated client is tens of MB once loaded: a process only loads the one it uses.
  const db: Db =
    dialect === 'postgres'
      ? new (await import('./generated/postgres/client.js')).PrismaClient({ adapter, transactionOptions })
      : (new (await import('./generated/sqlite/client.js')).PrismaClient({ adapter, transactionOptions }) as unknown as Db);
  await db.$connect();
  if (dialect === 'sqlite') {
    // WAL lets readers run beside the writer; FULL makes every commit durable before the
    // store acknowledges it (group commit keeps that affordable).
    await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
    await db.$queryRawUnsafe('PRAGMA synchronous = FULL');
    await db.$queryRawUnsafe('PRAGMA foreign_keys = ON');
  }
  const raw = createRawSql(dialect, () => {
    if (!connected) throw new Error('the database is not connected');
    return connected;
  });
  return { dialect, db, raw, close: () => db.$disconnect() };
}
