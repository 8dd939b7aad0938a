// Generates the Prisma clients for both databases offline. `prisma generate` never runs
// the native schema engine, but the CLI tries to download it unless
// PRISMA_SCHEMA_ENGINE_BINARY names an existing file; any file will do.
// With --if-stale, a client newer than its schema is left alone (typecheck and test call it
// so a fresh clone works without a build first).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const cli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
const onlyIfStale = process.argv.includes('--if-stale');

for (const dialect of ['sqlite', 'postgres']) {
  const schema = path.join(root, 'prisma', dialect, 'schema.prisma');
  const client = path.join(root, 'src', 'generated', dialect, 'client.ts');
  if (onlyIfStale && existsSync(client) && statSync(client).mtimeMs >= statSync(schema).mtimeMs) continue;
  const result = spawnSync(process.execPath, [cli, 'generate', '--schema', schema, '--no-hints'], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      CHECKPOINT_DISABLE: '1',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
    },
  });
  if (result.status !== 0) {
    console.error(`prisma generate failed for ${dialect}`);
    process.exit(result.status ?? 1);
  }
}
