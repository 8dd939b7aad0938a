import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
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
    // Prisma's pg adapter writes timestamps as UTC without an offset; a UTC session reads them right.
    return new PrismaPg({ connectionString: url, max: options.poolSize ?? 10, options: '-c TimeZone=UTC' });
  }
  const file = sqliteFile(url);
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  return new PrismaBetterSqlite3({ url: file, timeout: options.busyTimeoutMs ?? 5_000 });
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
