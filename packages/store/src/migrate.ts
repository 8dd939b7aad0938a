import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DiffTarget, MigrationList } from '@prisma/schema-engine-wasm';
import { adapterFactory, type Dialect, dialectOf } from './dialect.js';
import { withSchemaEngine } from './schema-engine.js';

/** `prisma/<dialect>/`: one schema and one Prisma migrations folder per database. */
const PRISMA_DIR = fileURLToPath(new URL('../prisma/', import.meta.url));
const LOCKFILE = 'migration_lock.toml';
const NO_FILTERS = { externalTables: [], externalEnums: [] };

export function schemaDir(dialect: Dialect): string {
  return path.join(PRISMA_DIR, dialect);
}

export function migrationsDir(dialect: Dialect): string {
  return path.join(schemaDir(dialect), 'migrations');
}

export async function readSchema(dialect: Dialect): Promise<{ path: string; content: string }> {
  const file = path.join(schemaDir(dialect), 'schema.prisma');
  return { path: file, content: await readFile(file, 'utf8') };
}

/** The migrations folder in the shape the schema engine takes (what `prisma migrate deploy` reads). */
export async function readMigrations(dialect: Dialect): Promise<MigrationList> {
  const baseDir = migrationsDir(dialect);
  const entries = existsSync(baseDir) ? await readdir(baseDir, { withFileTypes: true }) : [];
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const lockfile = path.join(baseDir, LOCKFILE);
  return {
    baseDir,
    lockfile: { path: LOCKFILE, content: existsSync(lockfile) ? await readFile(lockfile, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      names.map(async (name) => ({
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: { tag: 'ok' as const, value: await readFile(path.join(baseDir, name, 'migration.sql'), 'utf8') },
        },
      })),
    ),
  };
}

export interface MigrateResult {
  /** Names of the migrations applied by this call; empty when the database was up to date. */
  readonly applied: readonly string[];
}

/**
 * Applies pending migrations and records them in `_prisma_migrations`, like
 * `prisma migrate deploy`, through the WebAssembly schema engine (no native binary).
 */
export async function migrateDatabase(options: { readonly url: string }): Promise<MigrateResult> {
  const dialect = dialectOf(options.url);
  const migrationsList = await readMigrations(dialect);
  // Most starts find nothing to do; a plain query says so without starting the engine, which
  // on a SQLite file in WAL mode also waits on other open connections.
  const applied = await appliedMigrations(options.url);
  if (migrationsList.migrationDirectories.every((migration) => applied.has(migration.path))) return { applied: [] };
  const result = await withSchemaEngine(adapterFactory(options.url), await readSchema(dialect), (engine) =>
    engine.applyMigrations({ migrationsList, filters: NO_FILTERS }),
  );
  return { applied: result.appliedMigrationNames };
}

/** Names of migrations recorded as finished; empty when the database has never been migrated. */
async function appliedMigrations(url: string): Promise<Set<string>> {
  const adapter = await adapterFactory(url).connect();
  try {
    const result = await adapter.queryRaw({
      sql: 'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
      args: [],
      argTypes: [],
    });
    return new Set(result.rows.map((row) => String(row[0])));
  } catch {
    return new Set();
  } finally {
    await adapter.dispose();
  }
}

export interface SchemaChangeOptions {
  readonly url: string;
  /**
   * The schema as of the last migration (e.g. from git). Given, the change is the diff of
   * the two schemas and needs no database. Without it the committed migrations are replayed
   * on a shadow database (SQLite: in memory; PostgreSQL: a temporary database on the server
   * at `url`); on PostgreSQL that fails for now, because the WASM engine reads the catalog
   * through `@prisma/adapter-pg`, which cannot decode the catalog's `"char"` columns.
   */
  readonly previousSchema?: string;
}

/** The SQL that brings a database migrated with the committed migrations up to the schema; empty when they are in step. */
export async function pendingSchemaChange(options: SchemaChangeOptions): Promise<string> {
  const dialect = dialectOf(options.url);
  const schema = await readSchema(dialect);
  const migrations = await readMigrations(dialect);
  const from: DiffTarget =
    options.previousSchema !== undefined
      ? { tag: 'schemaDatamodel', files: [{ path: schema.path, content: options.previousSchema }] }
      : migrations.migrationDirectories.length === 0
        ? { tag: 'empty' }
        : { tag: 'migrations', ...migrations };
  const result = await withSchemaEngine(adapterFactory(options.url), schema, (engine) =>
    engine.diff({
      from,
      to: { tag: 'schemaDatamodel', files: [{ path: schema.path, content: schema.content }] },
      script: true,
      exitCode: null,
      filters: NO_FILTERS,
    }),
  );
  const sql = result.stdout ?? '';
  // An empty diff still says so in a comment ("-- This is an empty migration.").
  const statements = sql.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('--'));
  return statements.length === 0 ? '' : sql;
}

/** Writes the pending change as a new migration folder; returns its path, or nothing when in step. */
export async function createMigration(
  options: SchemaChangeOptions & { readonly name: string; readonly now?: Date },
): Promise<string | undefined> {
  const dialect = dialectOf(options.url);
  const sql = await pendingSchemaChange(options);
  if (sql === '') return undefined;
  const stamp = (options.now ?? new Date()).toISOString().replace(/\D/g, '').slice(0, 14);
  const dir = path.join(migrationsDir(dialect), `${stamp}_${options.name.replace(/\W+/g, '_')}`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'migration.sql'), sql);
  const lockfile = path.join(migrationsDir(dialect), LOCKFILE);
  if (!existsSync(lockfile)) {
    const provider = dialect === 'postgres' ? 'postgresql' : 'sqlite';
    await writeFile(
      lockfile,
      `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${provider}"\n`,
    );
  }
  return dir;
}
