import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startApiServer } from '@mailroute/api/testing';
import { runCli } from '@mailroute/server';
import { createStore } from '@mailroute/store';
import { bookingMail, withDatabase } from './databases.js';
import { fmt, printTable } from './measure.js';

/**
 * Memory of a large export: 100,000 messages on SQLite, exported as CSV by `mailroute export`
 * through the API (server and CLI in this one process, so one heap holds both ends). Heap and
 * RSS are sampled every 50 ms; the baseline is the process just before the export. Goal: the
 * export adds a few MB (one page of rows), not something proportional to the row count.
 * Without a heap cap V8 collects lazily and the peak says little; under
 * `--max-old-space-size=80` it shows what is actually held. Measured here (2 cores, loaded):
 * 100,000 rows (12.9 MB of CSV) under the 80 MB cap: peak heap 62 MB (+22 MB) at 1,000 rows per
 * page, 71 MB (+27 MB) at 5,000; 5,000-9,000 rows/s.
 * Run with the sources: `node --expose-gc --max-old-space-size=80 --conditions=source --import tsx bench/export-memory.ts`.
 */

/** `node ... export-memory.ts 20000` for a smaller run: the peak should not follow the row count. */
const ROWS = Number(process.argv[2] ?? 100_000);
const BATCH = 1_000;
const MB = 1024 * 1024;

await withDatabase('sqlite', async (database) => {
  const store = await createStore({ url: database.url });
  try {
    for (let start = 0; start < ROWS; start += BATCH) {
      await store.enqueueMany(Array.from({ length: BATCH }, (_, index) => bookingMail(start + index)));
    }
    const key = await store.createApiKey({ name: 'bench', scopes: ['read'] });
    const server = await startApiServer({ store, providerNames: () => ['sendgrid'] });
    const rows: Record<string, string | number>[] = [];
    try {
      for (const pageSize of [1_000, 5_000]) {
        const file = join(tmpdir(), `mailroute-export-bench-${process.pid}-${pageSize}.csv`);
        global.gc?.();
        const before = process.memoryUsage();
        let peakHeap = before.heapUsed;
        let peakRss = before.rss;
        const sampler = setInterval(() => {
          const now = process.memoryUsage();
          peakHeap = Math.max(peakHeap, now.heapUsed);
          peakRss = Math.max(peakRss, now.rss);
        }, 50);
        const started = performance.now();
        const code = await runCli(['export', '--output', file, '--page-size', String(pageSize)], {
          env: { MAILROUTE_URL: server.url, MAILROUTE_API_KEY: key.key },
          stdout: new Writable({ write: (_chunk, _encoding, done) => done() }),
          stderr: new Writable({ write: (_chunk, _encoding, done) => done() }),
        });
        const seconds = (performance.now() - started) / 1000;
        clearInterval(sampler);
        if (code !== 0) throw new Error(`export exited ${code}`);
        rows.push({
          'page size': pageSize,
          rows: ROWS,
          'file MB': fmt(statSync(file).size / MB, 1),
          seconds: fmt(seconds, 1),
          'rows/s': Math.round(ROWS / seconds),
          'heap before MB': fmt(before.heapUsed / MB, 1),
          'peak heap MB': fmt(peakHeap / MB, 1),
          'heap added MB': fmt((peakHeap - before.heapUsed) / MB, 1),
          'peak RSS MB': fmt(peakRss / MB, 1),
        });
      }
    } finally {
      await server.close();
    }
    printTable(`mailroute export of ${ROWS.toLocaleString()} messages (CSV, SQLite, server and CLI in one process)`, rows);
  } finally {
    await store.close();
  }
});
