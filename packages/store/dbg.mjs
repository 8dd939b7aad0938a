import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createStore, migrateDatabase } from './dist/index.js';

rmSync('/tmp/dbg', { recursive: true, force: true });
const steps = process.argv[2].split(',');
await migrateDatabase({ url: 'file:/tmp/dbg/x.db' });
for (const s of steps) {
  if (s === 'open') {
    const x = await createStore({ url: 'file:/tmp/dbg/x.db' });
    globalThis.last = x;
  }
  if (s === 'close') await globalThis.last.close();
  if (s === 'trunc') {
    const db = new Database('/tmp/dbg/x.db');
    db.prepare('DELETE FROM message').run();
    db.close();
  }
}
const t = performance.now();
try {
  console.log(await migrateDatabase({ url: 'file:/tmp/dbg/x.db' }));
} catch (e) {
  console.log('ERR', e.message.slice(0, 60));
}
console.log(process.argv[2], 'ms', Math.round(performance.now() - t));
process.exit(0);
