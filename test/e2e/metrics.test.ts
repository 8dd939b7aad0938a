import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createMailrouteClient, type MailrouteClient } from '@mailroute/client';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import Database from 'better-sqlite3';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendMany, until } from './support/mail.js';
import { family, histogramCount, scrapeText, valuesBy } from './support/metrics.js';
import { adminKey, type ServerProcess, spawnMailroute, workDir, writeConfig } from './support/server-process.js';

/**
 * One `all` process on SQLite, scraped on its API port after a scripted run: `primary` refuses
 * its first five transactions (provider faults: failover to `backup`) and refuses two
 * addresses for good (message faults: failed, no failover). What /metrics counts must be what
 * the database holds.
 */

const ADMIN_KEY = adminKey();
const REFUSED = ['nobody.one@example.org', 'nobody.two@example.org'];
let dir: ReturnType<typeof workDir>;
let databaseFile: string;
let primary: SmtpStandin;
let backup: SmtpStandin;
let server: ServerProcess;
let client: MailrouteClient;

beforeAll(async () => {
  dir = workDir('metrics');
  databaseFile = join(dir.path, 'mailroute.db');
  [primary, backup] = await Promise.all([startSmtpStandin(), startSmtpStandin()]);
  primary.failNext(5, { kind: 'reply', stage: 'mail', code: 421, message: '4.3.2 Service not available' });
  primary.faults.rejectRecipients = REFUSED;
  const config = writeConfig(join(dir.path, 'mailroute.json'), {
    database: { url: `file:${databaseFile}` },
    providers: [
      { type: 'smtp', name: 'primary', host: '127.0.0.1', port: primary.port },
      { type: 'smtp', name: 'backup', host: '127.0.0.1', port: backup.port },
    ],
    // The breaker stays closed: every message tries primary first.
    routing: { breaker: { volumeThreshold: 1_000 } },
    worker: { concurrency: 2, idlePollMs: 100 },
    server: { port: 0, rateLimit: { enabled: false } },
  });
  server = spawnMailroute({ args: ['serve', '--config', config], cwd: dir.path, env: { MAILROUTE_ADMIN_KEY: ADMIN_KEY } });
  client = createMailrouteClient({ url: await server.url, apiKey: ADMIN_KEY });
}, 60_000);

afterAll(async () => {
  await server?.kill('SIGTERM');
  await Promise.all([primary?.close(), backup?.close()]);
  dir?.remove();
}, 30_000);

function query<T>(sql: string): T[] {
  const db = new Database(databaseFile, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

describe('/metrics after a scripted run', () => {
  it('counts attempts, failovers, messages and webhook events exactly as the database has them', async () => {
    await sendMany(client, 20, 'metrics');
    for (const address of REFUSED) {
      await client.mail.send.mutate({ from: 'desk@hotel.example', to: [address], subject: 'Booking', text: 'See you.' });
    }
    await until(
      async () => {
        const overview = await client.stats.overview.query();
        return overview.total === 22 && overview.queueDepth === 0;
      },
      30_000,
      'every message to settle',
    );
    // Event rows are only ever inserted; /metrics counts them without knowing who wrote them.
    const db = new Database(databaseFile);
    try {
      const insert = db.prepare(
        `INSERT INTO event (id, provider, provider_event_id, type, provider_type, occurred_at, received_at, effect, payload)
         VALUES (?, 'backup', ?, ?, ?, ?, ?, 'unmatched', '{}')`,
      );
      const at = new Date().toISOString();
      for (const type of ['delivered', 'delivered', 'bounced']) insert.run(randomUUID(), randomUUID(), type, type, at, at);
    } finally {
      db.close();
    }

    const text = await scrapeText(`${await server.url}/metrics`);
    const families = parsePrometheusTextFormat(text);
    const attemptRows = query<{ provider: string; outcome: string; n: number }>(
      'SELECT provider, outcome, COUNT(*) AS n FROM attempt GROUP BY provider, outcome',
    );
    const attemptsInDb = Object.fromEntries(attemptRows.map((row) => [`${row.provider}/${row.outcome}`, row.n]));
    expect(attemptsInDb).toEqual({ 'primary/accepted': 15, 'primary/failed': 7, 'backup/accepted': 5 });
    expect(valuesBy(families, 'mailroute_provider_attempts_total', ['provider', 'outcome'])).toEqual(attemptsInDb);
    expect(valuesBy(families, 'mailroute_provider_attempts_total', ['provider', 'outcome', 'category'])).toMatchObject({
      'primary/failed/provider': 5,
      'primary/failed/message': 2,
    });
    expect(valuesBy(families, 'mailroute_failovers_total', ['from'])).toEqual({ primary: 5 });
    expect(family(families, 'mailroute_provider_latency_seconds').type).toBe('HISTOGRAM');
    expect(histogramCount(text, 'mailroute_provider_latency_seconds')).toBe(27);

    const statusRows = query<{ status: string; n: number }>('SELECT status, COUNT(*) AS n FROM message GROUP BY status');
    const byStatus = valuesBy(families, 'mailroute_messages', ['status']);
    expect(Object.fromEntries(Object.entries(byStatus).filter(([, count]) => count > 0))).toEqual(
      Object.fromEntries(statusRows.map((row) => [row.status, row.n])),
    );
    expect(byStatus).toMatchObject({ sent: 20, failed: 2, queued: 0, dead: 0 });
    expect(valuesBy(families, 'mailroute_queue_depth', [])).toEqual({ '': 0 });
    expect(valuesBy(families, 'mailroute_oldest_undelivered_age_seconds', [])).toEqual({ '': 0 });
    expect(family(families, 'mailroute_webhook_events_total').type).toBe('COUNTER');
    expect(valuesBy(families, 'mailroute_webhook_events_total', ['type'])).toEqual({ delivered: 2, bounced: 1 });
    expect(valuesBy(families, 'mailroute_breaker_state', ['provider', 'state'])).toMatchObject({ 'primary/closed': 1, 'primary/open': 0 });
    expect(valuesBy(families, 'mailroute_processes', ['role'])).toEqual({ all: 1, worker: 0 });
    expect(valuesBy(families, 'mailroute_database_up', [])).toEqual({ '': 1 });
    expect(family(families, 'process_cpu_user_seconds_total').type).toBe('COUNTER');
    expect(family(families, 'nodejs_heap_size_used_bytes').type).toBe('GAUGE');
  }, 60_000);
});
