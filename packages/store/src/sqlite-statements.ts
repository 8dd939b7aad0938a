import type { SqlQueryable } from '@prisma/driver-adapter-utils';

/** The part of a better-sqlite3 connection this module uses. */
interface Connection {
  prepare(sql: string): {
    readonly reader: boolean;
    run(params: unknown[]): { changes: number };
    all(params: unknown[]): Record<string, unknown>[];
  };
}

export interface SqliteStatements {
  run(sql: string, args: readonly unknown[]): number;
  /** The statement prepared once, to run with many argument lists in a row. */
  runner(sql: string): (args: readonly unknown[]) => number;
  /** Rows as objects by column name, integers as numbers (as the adapter gives them). */
  all(sql: string, args: readonly unknown[]): Record<string, unknown>[];
}

type Statement = ReturnType<Connection['prepare']>;

/** Enough for every hot statement shape (a few tables times a few batch sizes). */
const STATEMENTS_PER_CONNECTION = 64;
const statements = new WeakMap<Connection, Map<string, Statement>>();

/**
 * The SQLite adapter prepares every statement on every call and binds it once, so nothing it
 * prepared can be reused; its transaction object does hold the better-sqlite3 connection
 * (`client`, not part of the adapter interface). When it is there, plain SQL runs on
 * statements prepared once per connection. Returns undefined when the adapter does not look like that,
 * and callers go through the adapter as before.
 */
export function sqliteStatements(queryable: SqlQueryable): SqliteStatements | undefined {
  const client = (queryable as { client?: Partial<Connection> }).client;
  if (queryable.provider !== 'sqlite' || typeof client?.prepare !== 'function') return undefined;
  const connection = client as Connection;
  let cache = statements.get(connection);
  if (!cache) {
    cache = new Map();
    statements.set(connection, cache);
  }
  const byText = cache;
  const prepared = (sql: string): Statement => {
    let statement = byText.get(sql);
    if (statement) {
      // Most recently used last, so eviction takes the coldest.
      byText.delete(sql);
    } else {
      statement = connection.prepare(sql);
      if (byText.size >= STATEMENTS_PER_CONNECTION) {
        const coldest = byText.keys().next();
        if (!coldest.done) byText.delete(coldest.value);
      }
    }
    byText.set(sql, statement);
    return statement;
  };
  return {
    run: (sql, args) => prepared(sql).run(args.map(sqliteArg)).changes,
    runner(sql) {
      const statement = prepared(sql);
      return (args) => statement.run(args.map(sqliteArg)).changes;
    },
    all(sql, args) {
      const statement = prepared(sql);
      if (!statement.reader) throw new Error('not a statement that returns rows');
      const rows = statement.all(args.map(sqliteArg));
      for (const row of rows) {
        for (const column in row) {
          const value = row[column];
          // The adapter's connection reads integers as bigint; the adapter hands out numbers when safe.
          if (typeof value === 'bigint') row[column] = Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
        }
      }
      return rows;
    },
  };
}

let lastDate: Date | undefined;
let lastTime = Number.NaN;
let lastDateText = '';

/** What the adapter would bind: its default ISO-8601 timestamps with an explicit offset, booleans as 0/1. */
function sqliteArg(value: unknown): unknown {
  if (value instanceof Date) {
    // A batch stamps every row with the same Date object; Dates are not frozen, so compare the time too.
    if (value !== lastDate || value.getTime() !== lastTime) {
      lastDateText = value.toISOString().replace('Z', '+00:00');
      lastDate = value;
      lastTime = value.getTime();
    }
    return lastDateText;
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}
