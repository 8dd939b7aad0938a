import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { StoreError } from './errors.js';

export type Dialect = 'sqlite' | 'postgres';

/** The embedded default: one file beside the process's working directory. */
export const DEFAULT_DATABASE_URL = 'file:./data/mailroute.db';

/** `postgres://` / `postgresql://` is PostgreSQL; `file:` is SQLite. */
export function dialectOf(url: string): Dialect {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  if (url.startsWith('file:')) return 'sqlite';
  throw new StoreError(
    'INVALID_INPUT',
    `database url must start with file: (SQLite) or postgresql:// (PostgreSQL), got ${describeUrl(url)}`,
  );
}

export interface AdapterOptions {
  /** SQLite: how long a writer waits for another process's lock before failing. */
  readonly busyTimeoutMs?: number;
  /** PostgreSQL: connections in the pool. */
  readonly poolSize?: number;
}

export function adapterFactory(url: string, options: AdapterOptions = {}): SqlMigrationAwareDriverAdapterFactory {
  if (dialectOf(url) === 'postgres') {
    return lazyFactory('postgres', '@prisma/adapter-pg', async () => {
      const { PrismaPg } = await import('@prisma/adapter-pg');
      // Prisma's pg adapter writes timestamps as UTC without an offset; a UTC session reads them right.
      return new PrismaPg({ connectionString: url, max: options.poolSize ?? 10, options: '-c TimeZone=UTC' });
    });
  }
  const file = sqliteFile(url);
  if (file !== ':memory:') createOwnerOnly(path.resolve(file));
  return lazyFactory('sqlite', '@prisma/adapter-better-sqlite3', async () => {
    const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3');
    return new PrismaBetterSqlite3({ url: file, timeout: options.busyTimeoutMs ?? 5_000 });
  });
}

/**
 * The database holds every message and key hash: a folder created for it is 0700 and a new
 * database file 0600 (SQLite gives its -wal and -shm files the database file's mode). An
 * existing file keeps the mode its operator chose.
 */
function createOwnerOnly(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
}

/**
 * The adapter (and its driver: `pg` or better-sqlite3) is imported on first connect, so a
 * process never loads the other database's code.
 */
function lazyFactory(
  provider: SqlMigrationAwareDriverAdapterFactory['provider'],
  adapterName: string,
  load: () => Promise<SqlMigrationAwareDriverAdapterFactory>,
): SqlMigrationAwareDriverAdapterFactory {
  let factory: Promise<SqlMigrationAwareDriverAdapterFactory> | undefined;
  const loaded = () => {
    factory ??= load();
    return factory;
  };
  return {
    provider,
    adapterName,
    connect: async () => (await loaded()).connect(),
    connectToShadowDb: async () => (await loaded()).connectToShadowDb(),
  };
}

/** `file:./data/x.db` -> `./data/x.db` (query parameters are not SQLite's business). */
export function sqliteFile(url: string): string {
  const file = url.replace(/^file:/, '').replace(/\?.*$/, '');
  if (file === '') throw new StoreError('INVALID_INPUT', 'SQLite url has no file name (use file:./data/mailroute.db)');
  return file;
}

/** A url fit for an error message: the password is never shown. */
export function describeUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
