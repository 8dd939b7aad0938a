// Writes the next migration for both databases: `npm run migration -w @mailroute/store -- <name>`
// after a build. SQLite: the committed migrations replayed in memory, diffed against the
// schema. PostgreSQL: the schema as last committed to git, diffed against the working copy
// (the WASM engine cannot read a PostgreSQL catalog yet; see pendingSchemaChange). The engine
// still connects to a server: MIGRATION_DATABASE_URL, default the local one.
import { execFileSync } from 'node:child_process';
import { createMigration } from '../dist/migrate.js';

const name = process.argv[2];
if (!name) {
  console.error('usage: node scripts/migration.mjs <name>');
  process.exit(2);
}
const previousPostgres = execFileSync('git', ['show', 'HEAD:./prisma/postgres/schema.prisma'], { encoding: 'utf8' });
const targets = [
  { url: 'file::memory:' },
  { url: process.env.MIGRATION_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres', previousSchema: previousPostgres },
];
for (const target of targets) {
  const dir = await createMigration({ ...target, name });
  console.error(dir ? `wrote ${dir}` : `${target.url.split(':')[0]}: migrations already match the schema`);
}
