import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { fmt, printTable } from './measure.js';

/**
 * What the console costs a browser before it can draw: the JS and CSS that apps/dashboard's
 * built index.html loads at once (scripts, module preloads, stylesheets), gzipped at level 9
 * as a server would send them. Goal: at most 200 KB.
 */

const GOAL_KB = 200;
const dist = fileURLToPath(new URL('../../apps/dashboard/dist/', import.meta.url));
const ASSET = /(?:src|href)="\/dashboard\/(assets\/[^"]+\.(?:js|css))"/g;

export function initialAssets(html: string): string[] {
  return [...new Set([...html.matchAll(ASSET)].map((match) => match[1] ?? ''))].filter(Boolean);
}

export async function runDashboardBundle(): Promise<void> {
  const index = join(dist, 'index.html');
  if (!existsSync(index)) throw new Error('apps/dashboard/dist is missing: npm run build -w @mailroute/dashboard');
  const rows = initialAssets(readFileSync(index, 'utf8')).map((asset) => {
    const bytes = readFileSync(join(dist, asset));
    return {
      asset,
      kind: asset.endsWith('.css') ? 'css' : 'js',
      'raw KB': fmt(bytes.length / 1024, 1),
      'gzip KB': fmt(gzipSync(bytes, { level: 9 }).length / 1024, 1),
    };
  });
  const total = rows.reduce((sum, row) => sum + row['gzip KB'], 0);
  printTable('Dashboard initial JS + CSS', [
    ...rows,
    {
      asset: 'total',
      kind: 'js+css',
      'raw KB': fmt(
        rows.reduce((sum, row) => sum + row['raw KB'], 0),
        1,
      ),
      'gzip KB': fmt(total, 1),
    },
  ]);
  console.log(`initial JS + CSS gzipped: ${fmt(total, 1)} KB (goal <= ${GOAL_KB} KB): ${total <= GOAL_KB ? 'within' : 'OVER'}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runDashboardBundle();
