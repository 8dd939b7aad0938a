import type { ArgType, SqlDriverAdapter, SqlQueryable } from '@prisma/driver-adapter-utils';
import type { Dialect } from './dialect.js';
import { sqliteStatements } from './sqlite-statements.js';

/**
 * Plain SQL on the very connection (SQLite) or pool (PostgreSQL) the Prisma client uses,
 * through the driver adapter's own interface. The hot paths (enqueue) go here: Prisma's
 * query layer costs about 15 times the database work for a multi-row insert.
 */
export interface SqlRunner {
  execute(sql: string, args?: readonly unknown[]): Promise<number>;
  /** The same statement once per argument list, in order; returns the rows changed in all. */
  executeEach(sql: string, argLists: readonly (readonly unknown[])[]): Promise<number>;
  query<T extends Record<string, unknown>>(sql: string, args?: readonly unknown[]): Promise<T[]>;
}

export interface RawSql {
  readonly dialect: Dialect;
  /** `?` on SQLite, `$n` on PostgreSQL (1-based). */
  placeholder(index: number): string;
  /** Runs `work` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T>;
  /** One read outside any transaction, as the Prisma client runs its own. */
  query<T extends Record<string, unknown>>(sql: string, args?: readonly unknown[]): Promise<T[]>;
}

export function createRawSql(dialect: Dialect, adapter: () => SqlDriverAdapter): RawSql {
  return {
    dialect,
    placeholder: dialect === 'postgres' ? (index) => `$${index}` : () => '?',
    async transaction(work) {
      const tx = await adapter().startTransaction();
      // The adapters leave COMMIT and ROLLBACK to their caller (`usePhantomQuery: false`);
      // `commit()` / `rollback()` only give the connection back.
      try {
        const result = await work(runner(tx));
        await tx.executeRaw(statement('COMMIT'));
        await tx.commit();
        return result;
      } catch (error) {
        await tx.executeRaw(statement('ROLLBACK')).catch(() => {});
        await tx.rollback();
        throw error;
      }
    },
    query: (sql, args) => runner(adapter()).query(sql, args),
  };
}

function runner(queryable: SqlQueryable): SqlRunner {
  const fast = sqliteStatements(queryable);
  // A failed statement changed nothing: the adapter runs it again and reports the error the
  // way the rest of the store expects (unique violations and all).
  return {
    async execute(sql, args = []) {
      if (fast) {
        try {
          return fast.run(sql, args);
        } catch {}
      }
      return queryable.executeRaw(statement(sql, args));
    },
    async executeEach(sql, argLists) {
      const run = fast?.runner(sql);
      let changed = 0;
      for (const args of argLists) {
        if (run) {
          try {
            changed += run(args);
            continue;
          } catch {}
        }
        changed += await queryable.executeRaw(statement(sql, args));
      }
      return changed;
    },
    async query<T extends Record<string, unknown>>(sql: string, args: readonly unknown[] = []) {
      if (fast) {
        try {
          return fast.all(sql, args) as T[];
        } catch {}
      }
      const result = await queryable.queryRaw(statement(sql, args));
      return result.rows.map((row) => Object.fromEntries(result.columnNames.map((name, index) => [name, row[index]])) as T);
    },
  };
}

function statement(sql: string, args: readonly unknown[] = []) {
  return { sql, args: [...args], argTypes: args.map(argType) };
}

function argType(value: unknown): ArgType {
  if (value instanceof Date) return { scalarType: 'datetime', arity: 'scalar' };
  if (typeof value === 'number') return { scalarType: Number.isInteger(value) ? 'int' : 'float', arity: 'scalar' };
  if (typeof value === 'boolean') return { scalarType: 'boolean', arity: 'scalar' };
  return { scalarType: typeof value === 'string' ? 'string' : 'unknown', arity: 'scalar' };
}

/** Collects arguments and hands out their placeholders in order. */
export function argumentList(raw: RawSql) {
  const args: unknown[] = [];
  const add = (value: unknown): string => {
    args.push(value);
    return raw.placeholder(args.length);
  };
  return { args, add, list: (values: readonly unknown[]) => values.map(add).join(', ') };
}

/**
 * PostgreSQL: `INSERT INTO table (a, b) VALUES (..), (..)` in as few statements as the
 * parameter limit allows (each statement is a round trip). SQLite: a one-row INSERT prepared
 * once and run per row, which costs SQLite less CPU than a wide multi-row one (measured: about
 * 4 microseconds a message less for an enqueue of 100).
 */
export async function insertRows(
  sql: SqlRunner,
  raw: RawSql,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  if (rows.length === 0) return;
  if (raw.dialect === 'sqlite') {
    await sql.executeEach(insertText(raw, table, columns, 1), rows);
    return;
  }
  const perStatement = Math.max(1, Math.floor(30_000 / columns.length));
  for (let start = 0; start < rows.length; start += perStatement) {
    const end = Math.min(rows.length, start + perStatement);
    const args: unknown[] = [];
    for (let row = start; row < end; row += 1) args.push(...(rows[row] ?? []));
    await sql.execute(insertText(raw, table, columns, end - start), args);
  }
}

/** Batch shapes kept per table: group commits come in many sizes, bulk loads in a few. */
const SHAPES_PER_TABLE = 32;
const insertTexts = new WeakMap<RawSql, Map<string, Map<number, string>>>();

/**
 * Building the text of a wide multi-row INSERT costs about as much as the adapter's work on
 * it, and hot paths repeat the same shapes (a batch of 100, a group of 500).
 */
function insertText(raw: RawSql, table: string, columns: readonly string[], rowCount: number): string {
  let byTable = insertTexts.get(raw);
  if (!byTable) {
    byTable = new Map();
    insertTexts.set(raw, byTable);
  }
  const key = `${table}(${columns.join(', ')})`;
  let byCount = byTable.get(key);
  if (!byCount) {
    byCount = new Map();
    byTable.set(key, byCount);
  }
  const cached = byCount.get(rowCount);
  if (cached !== undefined) return cached;
  let index = 0;
  const rowText = () => `(${columns.map(() => raw.placeholder(++index)).join(', ')})`;
  const text = `INSERT INTO ${key} VALUES ${Array.from({ length: rowCount }, rowText).join(', ')}`;
  if (byCount.size >= SHAPES_PER_TABLE) {
    const oldest = byCount.keys().next();
    if (!oldest.done) byCount.delete(oldest.value);
  }
  byCount.set(rowCount, text);
  return text;
}
