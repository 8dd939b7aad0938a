import { join } from 'node:path';
import { createMailrouteClient, type MailrouteClient } from '@mailroute/client';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import { createPostgresDatabase, postgresAvailable } from '@mailroute/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receivedMail, sendMany, settled, until } from './support/mail.js';
import { addUp, scrape, valuesBy } from './support/metrics.js';
import { adminKey, runMailroute, type ServerProcess, spawnMailroute, workDir, writeConfig } from './support/server-process.js';

/**
 * Provider health across processes on one PostgreSQL database: an `api` process and two
 * `worker` processes. `primary` refuses every sender (421), so each worker fails over to
 * `backup` and its breaker for `primary` opens. The api process has no router: what it shows
 * comes from the workers' heartbeats and the attempt log. Heartbeats are set to a minute, so
 * only the heartbeat written on the breaker change can show the open breaker in time.
 */

const ADMIN_KEY = adminKey();
const MESSAGES = 40;
let dir: ReturnType<typeof workDir>;
let database: { url: string; drop: () => Promise<void> } | undefined;
let primary: SmtpStandin;
let backup: SmtpStandin;
let api: ServerProcess;
const workers: ServerProcess[] = [];
const processes: ServerProcess[] = [];
let client: MailrouteClient;

function settings(url: string, metricsPort: boolean) {
  return {
    database: { url },
    providers: [
      { type: 'smtp' as const, name: 'primary', host: '127.0.0.1', port: primary.port },
      { type: 'smtp' as const, name: 'backup', host: '127.0.0.1', port: backup.port },
    ],
    routing: {
      breaker: { volumeThreshold: 3, errorThresholdPercentage: 50, rollingCountTimeoutMs: 20_000, resetTimeoutMs: 120_000 },
    },
    worker: { concurrency: 4, idlePollMs: 100 },
    server: { port: 0, rateLimit: { enabled: false } },
    health: { heartbeatIntervalMs: 60_000, staleAfterMs: 180_000 },
    ...(metricsPort ? { metrics: { port: 0 } } : {}),
  };
}

beforeAll(async () => {
  if (!postgresAvailable) return;
  dir = workDir('health');
  database = await createPostgresDatabase();
  [primary, backup] = await Promise.all([startSmtpStandin(), startSmtpStandin()]);
  primary.faults.refuse.mail = { code: 421, message: '4.3.2 Service not available, closing transmission channel' };
  const apiConfig = writeConfig(join(dir.path, 'api.json'), settings(database.url, false));
  const workerConfig = writeConfig(join(dir.path, 'worker.json'), settings(database.url, true));
  const migrate = await runMailroute(['migrate', '--config', apiConfig], { cwd: dir.path });
  if (migrate.code !== 0) throw new Error(migrate.stderr);
  api = spawnMailroute({ args: ['serve', '--role', 'api', '--config', apiConfig], cwd: dir.path, env: { MAILROUTE_ADMIN_KEY: ADMIN_KEY } });
  processes.push(api);
  // One at a time: three processes starting together on two busy cores pass the log timeouts.
  client = createMailrouteClient({ url: await api.url, apiKey: ADMIN_KEY });
  for (let index = 0; index < 2; index += 1) {
    const worker = spawnMailroute({ args: ['worker', '--config', workerConfig], cwd: dir.path });
    workers.push(worker);
    processes.push(worker);
    await worker.workerStarted;
  }
}, 150_000);

afterAll(async () => {
  await Promise.all(processes.map((child) => child.kill('SIGTERM')));
  await Promise.all([primary?.close(), backup?.close()]);
  await database?.drop();
  dir?.remove();
}, 30_000);

async function metricsUrl(worker: ServerProcess): Promise<string> {
  const line = await worker.waitForLog((entry) => entry.msg === 'metrics listening');
  return `${String(line.url)}/metrics`;
}

describe.skipIf(!postgresAvailable)('provider health and metrics across processes', () => {
  it('shows both workers, an open breaker within a second of opening, and metrics that add up to the database', async () => {
    // Each worker reports as soon as its router exists.
    await until(async () => (await client.providers.health.query()).processes.length === 2, 10_000, 'both workers to report');
    const before = await client.providers.health.query();
    expect(before.processes.map((process) => process.role)).toEqual(['worker', 'worker']);
    expect(before.providers.map((provider) => [provider.name, provider.type, provider.breakers.map((breaker) => breaker.state)])).toEqual([
      ['primary', 'smtp', ['closed', 'closed']],
      ['backup', 'smtp', ['closed', 'closed']],
    ]);

    const sent = await sendMany(client, MESSAGES, 'health');
    await until(async () => (await receivedMail({ smtp: backup })).length >= sent.length, 30_000, 'backup to take every message');
    await settled(client);
    await until(async () => (await client.providers.health.query()).providers[0]?.openIn !== 0, 5_000, 'an open breaker to show');

    const health = await client.providers.health.query();
    const [first, second] = health.providers;
    expect(first?.name).toBe('primary');
    const opened = first?.breakers.filter((breaker) => breaker.state === 'open') ?? [];
    expect(opened.length).toBeGreaterThanOrEqual(1);
    for (const breaker of opened) {
      // Written by the heartbeat the breaker change triggered, not by the one-minute beat.
      expect(breaker.seenAt - breaker.since).toBeLessThan(1_000);
      expect(breaker.seenAt - breaker.since).toBeGreaterThanOrEqual(0);
      expect(breaker.halfOpenAt).toBe(breaker.since + 120_000);
    }
    expect(new Set(first?.breakers.map((breaker) => breaker.process))).toEqual(new Set(health.processes.map((process) => process.id)));
    expect(first?.windows['1m']).toMatchObject({ accepted: 0, successRate: 0 });
    expect(first?.windows['1m'].failedByCategory.provider).toBeGreaterThanOrEqual(3);
    const lastError = first?.lastError;
    expect(lastError && 'errorMessage' in lastError ? lastError.errorMessage : undefined).toContain('421');
    expect(first?.lastSuccessAt).toBeUndefined();
    expect(second).toMatchObject({ name: 'backup', openIn: 0, windows: { '1m': { accepted: MESSAGES, successRate: 1 } } });
    expect(second?.windows['1m'].latencyP95Ms).toBeGreaterThan(0);
    const overview = await client.stats.overview.query();
    expect(overview.providers).toMatchObject({
      processes: 2,
      openBreakers: [{ provider: 'primary', openIn: opened.length }],
      worstProvider: { provider: 'primary', successRate: 0 },
    });

    // Each worker counts its own calls; together they are what the attempt log holds.
    const scrapes = await Promise.all(workers.map(async (worker) => scrape(await metricsUrl(worker))));
    const attempts = addUp(...scrapes.map((families) => valuesBy(families, 'mailroute_provider_attempts_total', ['provider', 'outcome'])));
    const windowTotals = Object.fromEntries(
      health.providers.flatMap((provider) => [
        [`${provider.name}/accepted`, provider.windows['1h'].accepted],
        [`${provider.name}/failed`, provider.windows['1h'].failed],
      ]),
    );
    expect(attempts).toEqual(Object.fromEntries(Object.entries(windowTotals).filter(([, count]) => count > 0)));
    const failovers = addUp(...scrapes.map((families) => valuesBy(families, 'mailroute_failovers_total', ['from'])));
    expect(failovers).toEqual({ primary: first?.windows['1h'].failed });
    const openStates = addUp(...scrapes.map((families) => valuesBy(families, 'mailroute_breaker_state', ['provider', 'state'])));
    expect(openStates['primary/open']).toBe(opened.length);

    // The api process has no router: its /metrics carries the database's view only.
    const apiScrape = await scrape(`${await api.url}/metrics`);
    expect(apiScrape.some((entry) => entry.name === 'mailroute_provider_attempts_total' && entry.metrics.length > 0)).toBe(false);
    expect(valuesBy(apiScrape, 'mailroute_messages', ['status']).sent).toBe(MESSAGES);
    expect(valuesBy(apiScrape, 'mailroute_processes', ['role'])).toEqual({ all: 0, worker: 2 });
    expect(valuesBy(apiScrape, 'mailroute_breakers_open', ['provider'])).toEqual({ primary: opened.length, backup: 0 });

    // A worker that stops cleanly leaves the view at once.
    await workers[1]?.kill('SIGTERM');
    const remaining = await client.providers.health.query();
    expect(remaining.processes).toHaveLength(1);
    expect(remaining.providers[0]?.breakers).toHaveLength(1);
  }, 90_000);
});
