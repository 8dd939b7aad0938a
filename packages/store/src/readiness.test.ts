import { describe, expect, test } from 'vitest';
import { migrateDatabase } from './migrate.js';
import { checkDatabase } from './readiness.js';
import { createPostgresDatabase, createSqliteFile, forEachDatabase, postgresAvailable } from './test/databases.js';

forEachDatabase('readiness and provided API keys', (database) => {
  test('a migrated database is reachable with nothing pending', async () => {
    expect(await checkDatabase({ url: database.url })).toEqual({ pendingMigrations: [] });
  });

  test('a provided key is stored hashed and authenticates like a drawn one', async () => {
    const store = await database.open();
    const key = `mr_${'a1B2_c3-D4'.repeat(5)}`;
    const created = await store.createApiKey({ name: 'first admin', scopes: ['admin', 'send', 'read'], key });
    expect(created.key).toBe(key);
    expect(created.prefix).toBe(key.slice(0, 11));
    expect((await store.authenticateApiKey(key))?.id).toBe(created.id);
    const stored = await database.query<{ hash: string }>('SELECT hash FROM api_key');
    expect(JSON.stringify(stored)).not.toContain(key);
  });

  test('a provided key too short or without the mr_ prefix is refused without echoing it', async () => {
    const store = await database.open();
    for (const key of ['mr_short', 'sk_0123456789012345678901234567890123456789']) {
      const error = await store.createApiKey({ name: 'x', scopes: ['admin'], key }).catch((caught: unknown) => caught);
      expect(String(error)).toMatch(/key: must start with mr_/);
      expect(String(error)).not.toContain(key);
    }
    expect(await store.listApiKeys()).toEqual([]);
  });
});

describe('readiness of an unmigrated or unreachable database', () => {
  test('SQLite: every migration is pending until migrate runs', async () => {
    const { url, drop } = createSqliteFile();
    try {
      const before = await checkDatabase({ url });
      expect(before.pendingMigrations.length).toBeGreaterThan(0);
      await migrateDatabase({ url });
      expect(await checkDatabase({ url })).toEqual({ pendingMigrations: [] });
    } finally {
      await drop();
    }
  });

  test.runIf(postgresAvailable)('PostgreSQL: pending before migrate; a closed port throws', async () => {
    const { url, drop } = await createPostgresDatabase();
    try {
      expect((await checkDatabase({ url })).pendingMigrations.length).toBeGreaterThan(0);
      await migrateDatabase({ url });
      expect(await checkDatabase({ url })).toEqual({ pendingMigrations: [] });
    } finally {
      await drop();
    }
    await expect(checkDatabase({ url: 'postgresql://postgres@127.0.0.1:1/none' })).rejects.toThrow();
  });
});
