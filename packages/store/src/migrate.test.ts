import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import type { Dialect } from './dialect.js';
import { migrateDatabase, migrationsDir, pendingSchemaChange, schemaDir } from './migrate.js';
import { createPostgresDatabase, createSqliteFile, forEachDatabase, postgresAvailable, withBothDatabases } from './test/databases.js';

const folders = (dialect: Dialect) =>
  readdirSync(migrationsDir(dialect), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

forEachDatabase('migrations', (database) => {
  test('are recorded in _prisma_migrations and a second run applies nothing', async () => {
    const again = await migrateDatabase({ url: database.url });
    expect(again.applied).toEqual([]);
    const rows = await database.query<{ migration_name: string; finished_at: unknown; rolled_back_at: unknown }>(
      'SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((row) => row.migration_name)).toEqual(folders(database.dialect));
    expect(rows.every((row) => row.finished_at !== null && row.rolled_back_at === null)).toBe(true);
  });
});

describe('migrations from an empty database', () => {
  test('SQLite: applies every migration once, then nothing', async () => {
    const { url, drop } = createSqliteFile();
    try {
      expect((await migrateDatabase({ url })).applied).toEqual(folders('sqlite'));
      const before = sqliteColumns(url);
      expect((await migrateDatabase({ url })).applied).toEqual([]);
      expect(sqliteColumns(url)).toEqual(before);
      expect(Object.keys(before)).toContain('message');
    } finally {
      await drop();
    }
  });

  test.runIf(postgresAvailable)('PostgreSQL: applies every migration once, then nothing', async () => {
    const { url, drop } = await createPostgresDatabase();
    try {
      expect((await migrateDatabase({ url })).applied).toEqual(folders('postgres'));
      const before = await postgresColumns(url);
      expect((await migrateDatabase({ url })).applied).toEqual([]);
      expect(await postgresColumns(url)).toEqual(before);
    } finally {
      await drop();
    }
  });

  test.runIf(postgresAvailable)('both databases end with the same tables, columns and indexes', async () => {
    await withBothDatabases(async (urls) => {
      await migrateDatabase({ url: urls.sqlite });
      await migrateDatabase({ url: urls.postgres });
      expect(await postgresColumns(urls.postgres)).toEqual(sqliteColumns(urls.sqlite));
      expect(await postgresIndexes(urls.postgres)).toEqual(sqliteIndexes(urls.sqlite));
    });
  });
});

describe('upgrading a database that holds mail', () => {
  const INTEGER_IDS = '20261126005740_integer_row_ids';
  // Old text ids (UUIDv7, time-ordered), inserted out of order and all in the same millisecond.
  const oldTransitions = [
    ['0193a000-0000-7000-8000-000000000002', 'queued', 'sending'],
    ['0193a000-0000-7000-8000-000000000003', 'sending', 'sent'],
    ['0193a000-0000-7000-8000-000000000001', null, 'queued'],
  ] as const;
  const at = "'2026-11-25T10:00:00.000Z'";
  const seed = [
    `INSERT INTO message (id, status, from_address, to_addresses, cc_addresses, bcc_addresses, reply_to_addresses, subject,
       attachments, headers, tags, metadata, created_at, updated_at)
     VALUES ('m1', 'sent', '{}', '[]', '[]', '[]', '[]', 'Booking', '[]', '{}', '[]', '{}', ${at}, ${at})`,
    `INSERT INTO message_recipient (id, message_id, kind, address) VALUES
       ('0193a000-0000-7000-8000-00000000000b', 'm1', 'cc', 'b@example.org'),
       ('0193a000-0000-7000-8000-00000000000a', 'm1', 'to', 'a@example.org')`,
    ...oldTransitions.map(
      ([id, from, to]) =>
        `INSERT INTO message_transition (id, message_id, from_status, to_status, at, reason)
         VALUES ('${id}', 'm1', ${from === null ? 'NULL' : `'${from}'`}, '${to}', ${at}, 'step')`,
    ),
  ];
  const after = [
    'SELECT id, to_status FROM message_transition ORDER BY id',
    'SELECT id, address FROM message_recipient ORDER BY id',
    `INSERT INTO message_transition (message_id, from_status, to_status, at, reason) VALUES ('m1', 'sent', 'delivered', ${at}, 'event')`,
    "SELECT id FROM message_transition WHERE to_status = 'delivered'",
  ];

  /** The SQL of every migration before `INTEGER_IDS`, and of that migration. */
  function steps(dialect: Dialect): { before: string[]; upgrade: string } {
    const sqlOf = (name: string) => readFileSync(path.join(migrationsDir(dialect), name, 'migration.sql'), 'utf8');
    const names = folders(dialect);
    return { before: names.slice(0, names.indexOf(INTEGER_IDS)).map(sqlOf), upgrade: sqlOf(INTEGER_IDS) };
  }

  const expected = [
    [
      { id: 1, to_status: 'queued' },
      { id: 2, to_status: 'sending' },
      { id: 3, to_status: 'sent' },
    ],
    [
      { id: 1, address: 'a@example.org' },
      { id: 2, address: 'b@example.org' },
    ],
    [],
    [{ id: 4 }],
  ];

  test('SQLite: recipients and transitions keep their rows and the order of their old ids', async () => {
    const { url, drop } = createSqliteFile();
    const db = new Database(url.replace(/^file:/, ''));
    try {
      const { before, upgrade } = steps('sqlite');
      for (const sql of [...before, ...seed]) db.exec(sql);
      db.exec(upgrade);
      const results = after.map((sql) => {
        const statement = db.prepare(sql);
        if (statement.reader) return statement.all();
        statement.run();
        return [];
      });
      expect(results).toEqual(expected);
    } finally {
      db.close();
      await drop();
    }
  });

  test.runIf(postgresAvailable)('PostgreSQL: recipients and transitions keep their rows and the order of their old ids', async () => {
    const { url, drop } = await createPostgresDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { before, upgrade } = steps('postgres');
      for (const sql of [...before, ...seed]) await client.query(sql);
      await client.query(upgrade);
      const results = [];
      for (const sql of after) {
        const rows = (await client.query(sql)).rows as Record<string, unknown>[];
        results.push(rows.map((row) => ({ ...row, id: Number(row.id) })));
      }
      expect(results).toEqual(expected);
    } finally {
      await client.end();
      await drop();
    }
  });
});

describe('upgrading to the operator scope and sender lists', () => {
  const OPERATOR_SCOPE = '20261207170000_operator_scope_sender_domains';
  const at = "'2026-12-01T10:00:00.000+00:00'";
  const keys = [
    ['k1', 'default', '["send","read","admin"]'],
    ['k2', 'default', '["send"]'],
    ['k3', 'default', '["read","admin"]'],
    ['k4', 'hotel', '["send","read","admin"]'],
    ['k5', 'hotel', '["read"]'],
  ] as const;
  const messages = [
    ['m1', 'hotel', 'Desk@Hotel.Example'],
    ['m2', 'hotel', 'night@hotel.example'],
    ['m3', 'hotel', 'news@mail.hotel.example'],
    ['m4', 'spa', 'spa@spa.example'],
    ['m5', 'default', 'app@default.example'],
  ] as const;
  const seed = [
    ...keys.map(
      ([id, tenant, scopes]) =>
        `INSERT INTO api_key (id, tenant_id, name, hash, prefix, scopes, created_at) VALUES ('${id}', '${tenant}', '${id}', 'hash-${id}', 'mr_${id}', '${scopes}', ${at})`,
    ),
    ...messages.map(
      ([id, tenant, from]) =>
        `INSERT INTO message (id, tenant_id, status, from_address, to_addresses, cc_addresses, bcc_addresses, reply_to_addresses, subject,
           attachments, headers, tags, metadata, created_at, updated_at)
         VALUES ('${id}', '${tenant}', 'sent', '{"email":"${from}"}', '[]', '[]', '[]', '[]', 'Booking', '[]', '{}', '[]', '{}', ${at}, ${at})`,
    ),
  ];
  const expectedScopes = {
    k1: ['send', 'read', 'admin', 'operator'],
    k2: ['send'],
    k3: ['read', 'admin', 'operator'],
    k4: ['send', 'read', 'admin'],
    k5: ['read'],
  };
  const expectedSenders = [
    { tenant_id: 'hotel', sender: 'hotel.example' },
    { tenant_id: 'hotel', sender: 'mail.hotel.example' },
    { tenant_id: 'spa', sender: 'spa.example' },
  ];
  const keySql = 'SELECT id, scopes FROM api_key ORDER BY id';
  const senderSql = 'SELECT tenant_id, sender FROM tenant_sender ORDER BY tenant_id, sender';

  function steps(dialect: Dialect): { before: string[]; upgrade: string } {
    const sqlOf = (name: string) => readFileSync(path.join(migrationsDir(dialect), name, 'migration.sql'), 'utf8');
    const names = folders(dialect);
    return { before: names.slice(0, names.indexOf(OPERATOR_SCOPE)).map(sqlOf), upgrade: sqlOf(OPERATOR_SCOPE) };
  }

  test('SQLite: admin keys of the default tenant become operators; other tenants keep the domains they sent from', async () => {
    const { url, drop } = createSqliteFile();
    const db = new Database(url.replace(/^file:/, ''));
    try {
      const { before, upgrade } = steps('sqlite');
      for (const sql of [...before, ...seed]) db.exec(sql);
      db.exec(upgrade);
      const rows = db.prepare(keySql).all() as { id: string; scopes: string }[];
      expect(Object.fromEntries(rows.map((row) => [row.id, JSON.parse(row.scopes) as unknown]))).toEqual(expectedScopes);
      expect(db.prepare(senderSql).all()).toEqual(expectedSenders);
    } finally {
      db.close();
      await drop();
    }
  });

  test.runIf(postgresAvailable)(
    'PostgreSQL: admin keys of the default tenant become operators; other tenants keep the domains they sent from',
    async () => {
      const { url, drop } = await createPostgresDatabase();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { before, upgrade } = steps('postgres');
        for (const sql of [...before, ...seed]) await client.query(sql);
        await client.query(upgrade);
        const rows = (await client.query(keySql)).rows as { id: string; scopes: unknown }[];
        expect(Object.fromEntries(rows.map((row) => [row.id, row.scopes]))).toEqual(expectedScopes);
        expect((await client.query(senderSql)).rows).toEqual(expectedSenders);
      } finally {
        await client.end();
        await drop();
      }
    },
  );
});

describe('upgrading to content fingerprints and unknown outcomes', () => {
  const UPGRADE = '20261207171000_idempotency_hash_unknown_attempts';
  const at = "'2026-12-01T10:00:00.000Z'";
  const seed = [
    `INSERT INTO message (id, status, from_address, to_addresses, cc_addresses, bcc_addresses, reply_to_addresses, subject,
       attachments, headers, tags, metadata, idempotency_key, created_at, updated_at)
     VALUES ('m1', 'sent', '{}', '[]', '[]', '[]', '[]', 'Booking', '[]', '{}', '[]', '{}', 'booking-1', ${at}, ${at})`,
    "INSERT INTO message_recipient (message_id, kind, address) VALUES ('m1', 'to', 'a@example.org')",
    `INSERT INTO attempt (id, message_id, worker, provider, provider_type, started_at, finished_at, latency_ms, outcome, provider_message_id)
     VALUES ('a1', 'm1', 'w1', 'sendgrid', 'sendgrid', ${at}, ${at}, 42, 'accepted', 'pm-1')`,
    `INSERT INTO event (id, provider, provider_event_id, type, provider_type, occurred_at, received_at, effect, message_id, attempt_id, payload)
     VALUES ('e1', 'sendgrid', 'sg-1', 'delivered', 'delivered', ${at}, ${at}, 'applied', 'm1', 'a1', '{}')`,
  ];
  const after = [
    'SELECT idempotency_key, idempotency_hash FROM message',
    'SELECT address, suppressed_at, suppressed_reason FROM message_recipient',
    'SELECT id, provider, outcome, latency_ms, provider_message_id FROM attempt',
    'SELECT id, attempt_id FROM event',
    `INSERT INTO attempt (id, message_id, worker, started_at, finished_at, latency_ms, outcome) VALUES ('a2', 'm1', 'w2', ${at}, ${at}, 0, 'unknown')`,
    "SELECT id, provider, provider_type FROM attempt WHERE outcome = 'unknown'",
  ];
  const expected = [
    [{ idempotency_key: 'booking-1', idempotency_hash: null }],
    [{ address: 'a@example.org', suppressed_at: null, suppressed_reason: null }],
    [{ id: 'a1', provider: 'sendgrid', outcome: 'accepted', latency_ms: 42, provider_message_id: 'pm-1' }],
    [{ id: 'e1', attempt_id: 'a1' }],
    [],
    [{ id: 'a2', provider: null, provider_type: null }],
  ];

  function steps(dialect: Dialect): { before: string[]; upgrade: string } {
    const sqlOf = (name: string) => readFileSync(path.join(migrationsDir(dialect), name, 'migration.sql'), 'utf8');
    const names = folders(dialect);
    return { before: names.slice(0, names.indexOf(UPGRADE)).map(sqlOf), upgrade: sqlOf(UPGRADE) };
  }

  test('SQLite: the attempt table is rebuilt with every row and the events still linked to it', async () => {
    const { url, drop } = createSqliteFile();
    const db = new Database(url.replace(/^file:/, ''));
    try {
      const { before, upgrade } = steps('sqlite');
      for (const sql of [...before, ...seed]) db.exec(sql);
      db.exec(upgrade);
      const results = after.map((sql) => {
        const statement = db.prepare(sql);
        if (statement.reader) return statement.all();
        statement.run();
        return [];
      });
      expect(results).toEqual(expected);
      expect(db.prepare('PRAGMA foreign_key_check').all()).toEqual([]);
    } finally {
      db.close();
      await drop();
    }
  });

  test.runIf(postgresAvailable)('PostgreSQL: existing rows keep their values; the new columns start empty', async () => {
    const { url, drop } = await createPostgresDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { before, upgrade } = steps('postgres');
      for (const sql of [...before, ...seed]) await client.query(sql);
      await client.query(upgrade);
      const results = [];
      for (const sql of after) results.push((await client.query(sql)).rows);
      expect(results).toEqual(expected);
    } finally {
      await client.end();
      await drop();
    }
  });
});

describe('migrations are in step with the schema', () => {
  test('SQLite: replaying the migrations leaves nothing to change', async () => {
    expect(await pendingSchemaChange({ url: 'file::memory:' })).toBe('');
  });

  test.runIf(postgresAvailable)('PostgreSQL: the migrations build exactly what the schema describes', async () => {
    await withBothDatabases(async ({ postgres: migrated }) => {
      await migrateDatabase({ url: migrated });
      const fromSchema = await createPostgresDatabase();
      try {
        const emptySchema = 'datasource db {\n  provider = "postgresql"\n}\n';
        const sql = await pendingSchemaChange({ url: fromSchema.url, previousSchema: emptySchema });
        const client = new pg.Client({ connectionString: fromSchema.url });
        await client.connect();
        await client.query(sql);
        await client.end();
        expect(await postgresColumns(migrated, true)).toEqual(await postgresColumns(fromSchema.url, true));
        expect(await postgresIndexes(migrated, true)).toEqual(await postgresIndexes(fromSchema.url, true));
      } finally {
        await fromSchema.drop();
      }
    });
  });

  test('the two schema files declare the same models and fields', () => {
    expect(models('postgres')).toEqual(models('sqlite'));
    expect(Object.keys(models('sqlite'))).toEqual([
      'Message',
      'MessageRecipient',
      'MessageTag',
      'Attempt',
      'MessageTransition',
      'Event',
      'Suppression',
      'ProviderOverride',
      'ApiKey',
      'TenantSender',
      'ProcessHeartbeat',
      'Lease',
      'Alert',
      'AlertNotification',
      'DashboardSession',
      'ProviderAudit',
      'BreakerEvent',
    ]);
  });
});

/** model name -> "field Type attributes" lines, without database-specific native types. */
function models(dialect: Dialect): Record<string, string[]> {
  const text = readFileSync(path.join(schemaDir(dialect), 'schema.prisma'), 'utf8');
  const out: Record<string, string[]> = {};
  for (const match of text.matchAll(/^model (\w+) \{\n([\s\S]*?)^\}/gm)) {
    const [, name = '', body = ''] = match;
    out[name] = body
      .split('\n')
      .map((line) =>
        line
          .replace(/\/\/\/.*$/, '')
          .replace(/@db\.\w+(\([^)]*\))?/g, '')
          // SQLite makes a 64-bit rowid key only of an `Int` key; PostgreSQL needs `BigInt` for the same range.
          .replace(/^(\s*id\s+)BigInt(\s+@id @default\(autoincrement\(\)\))/, '$1Int$2')
          .replace(/\s+/g, ' ')
          .trim(),
      )
      .filter((line) => line !== '');
  }
  return out;
}

function sqliteColumns(url: string): Record<string, string[]> {
  const db = new Database(url.replace(/^file:/, ''), { readonly: true });
  try {
    const rows = db
      .prepare(
        `SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_prisma_migrations' ORDER BY m.name, p.name`,
      )
      .all() as { t: string; c: string }[];
    return group(rows.map((row) => [row.t, row.c]));
  } finally {
    db.close();
  }
}

function sqliteIndexes(url: string): string[] {
  const db = new Database(url.replace(/^file:/, ''), { readonly: true });
  try {
    const rows = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name`)
      .all() as { name: string }[];
    return rows.map((row) => row.name);
  } finally {
    db.close();
  }
}

async function postgresColumns(url: string, withTypes = false): Promise<Record<string, string[]>> {
  const rows = await pgQuery<{ t: string; c: string; type: string; nullable: string; dflt: string | null }>(
    url,
    `SELECT table_name AS t, column_name AS c, data_type AS type, is_nullable AS nullable, column_default AS dflt
     FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY table_name, column_name`,
  );
  return group(rows.map((row) => [row.t, withTypes ? `${row.c} ${row.type} ${row.nullable} ${row.dflt ?? ''}` : row.c]));
}

async function postgresIndexes(url: string, withDefinitions = false): Promise<string[]> {
  const rows = await pgQuery<{ indexname: string; indexdef: string }>(
    url,
    `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'
     AND tablename <> '_prisma_migrations' ORDER BY indexname`,
  );
  return rows.map((row) => (withDefinitions ? row.indexdef : row.indexname));
}

async function pgQuery<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

function group(pairs: [string, string][]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, value] of pairs) out[key] = [...(out[key] ?? []), value];
  return out;
}
