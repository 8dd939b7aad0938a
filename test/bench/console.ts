import { parseSearchQuery } from '@mailroute/core';
import { createStore, type MailStore } from '@mailroute/store';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type BenchDatabase, type BenchDialect, postgresUnavailable, withDatabase } from './databases.js';
import { fmt, percentile, printTable } from './measure.js';

/**
 * The operator console's reads on a large store: 1,000,000 messages over 30 days (95 % tenant
 * `hotel`, whose view is timed) with one recipient each, tags, idempotency keys, and 3,000,000
 * attempts (three per message). Rows are generated inside the database (generate_series /
 * a recursive CTE), then ANALYZEd. Timed, each RUNS times, p50 and p95:
 * - overview: what the overview page loads (stats.overview, providers.health 1m/15m/1h, the
 *   live snapshot's reads);
 * - each search filter kind, first page of 50 (store.searchMessages, as mail.search runs it);
 * - stats.series over 1 h and 24 h.
 * Run: `npx tsx test/bench/console.ts [sqlite|postgres]` after a build. Not part of the tests.
 */

const MESSAGES = Number(process.env.CONSOLE_BENCH_MESSAGES ?? 1_000_000);
const SPAN_S = 30 * 86_400;
const RUNS = 20;
const PROVIDERS = ['sendgrid', 'ses', 'smtp'];

/** One SQL text per dialect for the generated rows; `i` runs from 1 to MESSAGES. */
function seedStatements(dialect: BenchDialect, nowS: number): string[] {
  const n = MESSAGES;
  const step = SPAN_S / n;
  const sqlite = dialect === 'sqlite';
  const series = sqlite ? `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n})` : '';
  const from = sqlite ? 'FROM s' : `FROM generate_series(1, ${n}) AS s(i)`;
  const pad = (expr: string) => (sqlite ? `printf('%08d', ${expr})` : `lpad((${expr})::text, 8, '0')`);
  const time = (seconds: string) => (sqlite ? `strftime('%Y-%m-%dT%H:%M:%f+00:00', ${seconds}, 'unixepoch')` : `to_timestamp(${seconds})`);
  const json = (text: string) => (sqlite ? text : `(${text})::jsonb`);
  const cat = (...parts: string[]) => parts.join(' || ');
  const created = `${nowS} - (${n} - i) * ${step}`;
  const status = `CASE WHEN i % 100 = 0 THEN 'dead' WHEN i % 100 IN (1, 2) THEN 'failed' WHEN i % 100 = 3 THEN 'queued'
    WHEN i % 100 = 4 THEN 'retrying' WHEN i % 100 BETWEEN 5 AND 9 THEN 'delivered' ELSE 'sent' END`;
  const provider = `CASE WHEN i % 100 < 5 THEN NULL WHEN i % 4 = 0 THEN 'ses' ELSE 'sendgrid' END`;
  const tags = `CASE WHEN i % 1000 = 0 THEN '["welcome","vip"]' WHEN i % 10 = 0 THEN '["welcome"]' ELSE '[]' END`;
  const message = `${series} INSERT INTO message (id, tenant_id, status, from_address, to_addresses, cc_addresses, bcc_addresses,
      reply_to_addresses, subject, attachments, headers, tags, metadata, idempotency_key, provider, created_at, updated_at)
    SELECT ${cat("'m'", pad('i'))}, CASE WHEN i % 20 = 7 THEN 'spa' ELSE 'hotel' END, ${status},
      ${json(`CASE WHEN i % 50 = 0 THEN '{"email":"billing@hotel.example"}' ELSE '{"email":"desk@hotel.example"}' END`)},
      ${json(cat(`'[{"email":"guest'`, 'i', `'@example.org"}]'`))}, ${json("'[]'")}, ${json("'[]'")}, ${json("'[]'")},
      CASE WHEN i % 5000 = 0 THEN ${cat("'Late checkout request '", 'i')} ELSE ${cat("'Booking '", 'i', "' confirmed'")} END,
      ${json("'[]'")}, ${json("'{}'")}, ${json(tags)}, ${json("'{}'")}, ${cat("'order-'", 'i')}, ${provider},
      ${time(created)}, ${time(created)} ${from}`;
  const recipient = `${series} INSERT INTO message_recipient (message_id, kind, address)
    SELECT ${cat("'m'", pad('i'))}, 'to', ${cat("'guest'", 'i', "'@example.org'")} ${from}`;
  const tag = (name: string, every: number) => `${series} INSERT INTO message_tag (message_id, tag)
    SELECT ${cat("'m'", pad('i'))}, '${name}' ${from} WHERE i % ${every} = 0`;
  const attempts = PROVIDERS.map((name, k) => {
    const accepted = k === 0 ? 'i % 4 <> 0' : k === 1 ? 'i % 4 = 0' : 'i % 2 = 0';
    return `${series} INSERT INTO attempt (id, message_id, provider, provider_type, started_at, finished_at, latency_ms, outcome,
        error_category, error_code, error_message, status_code)
      SELECT ${cat("'a'", pad('i'), `'-${k}'`)}, ${cat("'m'", pad('i'))}, '${name}', '${name}', ${time(`${created} + ${k}`)},
        ${time(`${created} + ${k} + 0.04`)}, 40, CASE WHEN ${accepted} THEN 'accepted' ELSE 'failed' END,
        CASE WHEN ${accepted} THEN NULL ELSE 'provider' END, CASE WHEN ${accepted} THEN NULL ELSE 'PROVIDER_UNAVAILABLE' END,
        CASE WHEN ${accepted} THEN NULL ELSE 'answered 503' END, CASE WHEN ${accepted} THEN 202 ELSE 503 END ${from}`;
  });
  return [message, recipient, tag('welcome', 10), tag('vip', 1000), ...attempts, 'ANALYZE'];
}

async function seed(database: BenchDatabase, nowS: number): Promise<number> {
  const started = performance.now();
  if (database.dialect === 'sqlite') {
    const db = new Database(database.file ?? '');
    try {
      db.pragma('journal_mode = WAL');
      for (const statement of seedStatements('sqlite', nowS)) db.exec(statement);
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      for (const statement of seedStatements('postgres', nowS)) await client.query(statement);
    } finally {
      await client.end();
    }
  }
  return performance.now() - started;
}

async function time(runs: number, work: () => Promise<unknown>): Promise<{ p50: number; p95: number; rows: number }> {
  let rows = 0;
  const result = await work();
  rows = Array.isArray(result) ? result.length : ((result as { items?: unknown[] })?.items?.length ?? 0);
  const timings: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const started = performance.now();
    await work();
    timings.push(performance.now() - started);
  }
  timings.sort((a, b) => a - b);
  return { p50: fmt(percentile(timings, 50), 1), p95: fmt(percentile(timings, 95), 1), rows };
}

/** What the overview page reads: stats.overview, providers.health and the live snapshot's queries. */
function overview(store: MailStore, now: number) {
  const scope = { tenantId: 'hotel' };
  return Promise.all([
    store.countByStatus(scope),
    store.oldestUnsentAt(scope),
    store.providerCounts(now - 15 * 60_000, PROVIDERS),
    store.providerHealth({ providers: PROVIDERS, windowsMs: [60_000, 15 * 60_000, 3_600_000] }),
    store.providerActivity(now - 15 * 60_000),
    store.listHeartbeats({ since: now - 20_000 }),
    store.listProviderStates(),
    store.firingAlerts(),
  ]);
}

function searches(): Record<string, string> {
  return {
    'to: (one address)': 'to:guest999999@example.org',
    'to:@domain (scan)': 'to:@example.org',
    'from: (common)': 'from:desk@hotel.example',
    'from: (2 %)': 'from:billing@hotel.example',
    'subject: (common word)': 'subject:booking',
    'subject: (rare phrase)': 'subject:"late checkout"',
    'subject: rare + after:1d': 'subject:"late checkout" after:1d',
    'bare word (rare)': '"late checkout"',
    'status: (common)': 'status:sent',
    'status: (1 %)': 'status:dead',
    '-status: (exclusion)': '-status:sent,delivered',
    'provider: (25 %)': 'provider:ses',
    'status:dead provider:sendgrid': 'status:dead provider:sendgrid',
    'tag: (10 %)': 'tag:welcome',
    'tag: (0.1 %)': 'tag:vip',
    'key: (one)': 'key:order-500000',
    'id: (one)': 'id:m00500000',
    'after:1h': 'after:1h',
    'before:15d (deep page)': 'before:15d',
  };
}

async function runCase(dialect: BenchDialect): Promise<Record<string, string | number>[]> {
  return withDatabase(dialect, async (database) => {
    const now = Date.now();
    const seedMs = await seed(database, Math.floor(now / 1000));
    console.log(
      `${dialect}: ${MESSAGES.toLocaleString('en')} messages, ${(MESSAGES * 3).toLocaleString('en')} attempts seeded in ${fmt(seedMs / 1000, 1)} s`,
    );
    const store = await createStore({ url: database.url, listen: false });
    try {
      const rows: Record<string, string | number>[] = [];
      const add = (what: string, measured: { p50: number; p95: number; rows: number }) =>
        rows.push({
          database: dialect,
          what,
          rows: measured.rows,
          p50Ms: measured.p50,
          p95Ms: measured.p95,
          under300: measured.p95 < 300 ? 'yes' : 'NO',
        });
      add('overview data', await time(RUNS, () => overview(store, Date.now())));
      for (const [name, q] of Object.entries(searches())) {
        const parsed = parseSearchQuery(q, Date.now());
        if (!parsed.ok) throw new Error(parsed.message);
        add(`search ${name}`, await time(RUNS, () => store.searchMessages({ query: parsed.query, tenantId: 'hotel', limit: 50 })));
      }
      for (const [range, from, bucketMs] of [
        ['1h', now - 3_600_000, 60_000],
        ['24h', now - 86_400_000, 600_000],
      ] as const) {
        add(
          `series ${range}`,
          await time(RUNS, () =>
            Promise.all([
              store.attemptSeries({ from, bucketMs, providers: PROVIDERS }),
              store.listBreakerEvents({ since: from }),
              store.listProviderAudit({ since: from, limit: 1_000 }),
            ]).then(([buckets]) => buckets),
          ),
        );
      }
      return rows;
    } finally {
      await store.close();
    }
  });
}

export async function runConsole(dialects: readonly BenchDialect[] = ['sqlite', 'postgres']): Promise<void> {
  const rows: Record<string, string | number>[] = [];
  for (const dialect of dialects) {
    if (dialect === 'postgres') {
      const problem = await postgresUnavailable();
      if (problem) {
        console.warn(`PostgreSQL skipped: ${problem}`);
        continue;
      }
    }
    rows.push(...(await runCase(dialect)));
  }
  printTable(
    `console reads: ${MESSAGES.toLocaleString('en')} messages, ${(MESSAGES * 3).toLocaleString('en')} attempts; p95 of ${RUNS} runs (ms)`,
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const only = process.argv[2];
  await runConsole(only === 'sqlite' || only === 'postgres' ? [only] : undefined);
}
