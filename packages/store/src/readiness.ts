import { adapterFactory, dialectOf } from './dialect.js';
import { readMigrations } from './migrate.js';

export interface DatabaseReadiness {
  /** Committed migrations the database has not recorded as applied; empty when it is up to date. */
  readonly pendingMigrations: readonly string[];
}

/**
 * What `/readyz` asks: can a fresh connection reach the database, and has every committed
 * migration been applied? One plain query each, no schema engine, so it is cheap enough to
 * poll. Throws when the database cannot be reached.
 */
export async function checkDatabase(options: { readonly url: string }): Promise<DatabaseReadiness> {
  const migrations = await readMigrations(dialectOf(options.url));
  const adapter = await adapterFactory(options.url).connect();
  try {
    await adapter.queryRaw({ sql: 'SELECT 1', args: [], argTypes: [] });
    let applied = new Set<string>();
    try {
      const result = await adapter.queryRaw({
        sql: 'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
        args: [],
        argTypes: [],
      });
      applied = new Set(result.rows.map((row) => String(row[0])));
    } catch {
      // No migrations table: the database was never migrated, so every migration is pending.
    }
    return { pendingMigrations: migrations.migrationDirectories.map((entry) => entry.path).filter((name) => !applied.has(name)) };
  } finally {
    await adapter.dispose();
  }
}
