import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createMailrouteClient, type MailrouteClient } from '@mailroute/client';
import { runCli } from '@mailroute/server';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import { createStore, type MailStore } from '@mailroute/store';
import { createPostgresDatabase, postgresAvailable } from '@mailroute/store/testing';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { booking, until } from './support/mail.js';
import { adminKey, runMailroute, type ServerProcess, spawnMailroute, workDir, writeConfig } from './support/server-process.js';

/**
 * Draining a provider across processes on one PostgreSQL database: an `api` process and two
 * `worker` processes, SendGrid first and SMTP as the backup. The drain is given while a slow
 * SendGrid send is in flight: that send finishes on SendGrid, new mail goes to SMTP from both
 * workers, a restarted worker still obeys it, and undoing it brings traffic back.
 */

const ADMIN_KEY = adminKey();
/** Long enough that the drain (a CLI call on a loaded machine) lands while the send is in flight. */
const SLOW_MS = 15_000;
const REFRESH_MS = 200;
/** Long enough for every process to have re-read the overrides a few times. */
const SETTLE_MS = REFRESH_MS * 5;
const STARTUP_MS = 60_000;

let dir: ReturnType<typeof workDir>;
let database: { url: string; drop: () => Promise<void> } | undefined;
let sendgrid: SendGridStandIn;
let smtp: SmtpStandin;
let store: MailStore | undefined;
let config = '';
const processes: ServerProcess[] = [];

beforeAll(async () => {
  if (!postgresAvailable) return;
  dir = workDir('drain');
  database = await createPostgresDatabase();
  [sendgrid, smtp] = await Promise.all([startSendGridStandIn(), startSmtpStandin()]);
  config = writeConfig(join(dir.path, 'mailroute.json'), {
    database: { url: database.url },
    providers: [
      { type: 'sendgrid', name: 'sendgrid', apiKey: sendgrid.apiKey, baseUrl: sendgrid.url },
      { type: 'smtp', name: 'smtp', host: '127.0.0.1', port: smtp.port },
    ],
    routing: { breaker: { timeoutMs: SLOW_MS * 2 } },
    // The grace must cover the longest send: each provider's timeout in turn.
    worker: { concurrency: 2, idlePollMs: 100, overridesRefreshMs: REFRESH_MS, shutdownGraceMs: SLOW_MS * 4 },
    server: { port: 0, rateLimit: { enabled: false } },
  });
  const migrate = await runMailroute(['migrate', '--config', config], { cwd: dir.path });
  if (migrate.code !== 0) throw new Error(`migrate failed: ${migrate.stderr}`);
  store = await createStore({ url: database.url });
}, 60_000);

afterAll(async () => {
  await Promise.all(processes.map((child) => child.kill('SIGTERM')));
  await store?.close();
  await Promise.all([sendgrid?.close(), smtp?.close()]);
  await database?.drop();
  dir?.remove();
}, 30_000);

function start(role: 'api' | 'worker'): ServerProcess {
  const child = spawnMailroute({
    args: ['serve', '--role', role, '--config', config],
    cwd: dir.path,
    env: { MAILROUTE_ADMIN_KEY: ADMIN_KEY },
  });
  processes.push(child);
  return child;
}

async function startWorker(): Promise<ServerProcess> {
  const child = start('worker');
  await child.waitForLog((line) => line.msg === 'worker started', STARTUP_MS);
  return child;
}

/** `mailroute providers ...` in this process, against the api process. */
async function providers(url: string, ...args: string[]): Promise<string> {
  return (await mailroute(url, 'providers', ...args)).stdout;
}

/** A `mailroute` command in this process, against the api process; it must succeed. */
async function mailroute(url: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await runCli(args, {
    env: { MAILROUTE_URL: url, MAILROUTE_API_KEY: ADMIN_KEY },
    stdout: sink((text) => {
      stdout += text;
    }),
    stderr: sink((text) => {
      stderr += text;
    }),
  });
  expect(code, stderr).toBe(0);
  return { stdout, stderr };
}

async function sendBatch(client: MailrouteClient, count: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) ids.push((await client.mail.send.mutate(booking(index, label))).id);
  return ids;
}

/** Waits until every message is sent; answers, per message, the provider and the process (pid) that sent it. */
async function outcomes(ids: readonly string[]): Promise<{ provider: string; pid: string; attempts: number }[]> {
  if (!store) throw new Error('no store');
  const opened = store;
  await until(
    async () => (await Promise.all(ids.map((id) => opened.getMessage(id)))).every((message) => message?.status === 'sent'),
    20_000,
    `${ids.length} messages to be sent`,
  );
  const details = await Promise.all(ids.map((id) => opened.getMessage(id)));
  return details.map((detail) => ({
    provider: detail?.provider ?? '',
    // The worker's lease owner is host:pid:random.
    pid: detail?.attempts.at(-1)?.worker?.split(':')[1] ?? '',
    attempts: detail?.attempts.length ?? 0,
  }));
}

describe.skipIf(!postgresAvailable)('drain and force-open a provider across processes', () => {
  it('drain: in-flight finishes on it, new mail avoids it in every worker, a restart keeps it, undo brings traffic back; force-open: every worker holds its breaker open', async () => {
    // One at a time: three processes compiling TypeScript at once on two cores take long to start.
    const api = start('api');
    const url = String((await api.waitForLog((line) => line.msg === 'api listening', STARTUP_MS)).url);
    const first = await startWorker();
    const second = await startWorker();
    const client = createMailrouteClient({ url, apiKey: ADMIN_KEY });

    expect(await providers(url)).toMatch(/^sendgrid\s+\S+\s+enabled\s/m);
    // One slow SendGrid send in flight when the drain is given.
    sendgrid.setLatency(SLOW_MS);
    const [slow] = await sendBatch(client, 1, 'slow');
    await until(async () => (await store?.getMessage(slow ?? ''))?.status === 'sending', 10_000, 'the slow send to start');
    expect(await providers(url, 'drain', 'sendgrid', '--note', 'planned maintenance')).toMatch(
      /^sendgrid is now drained \(planned maintenance\)/,
    );
    const drainedAt = (await store?.listProviderStates())?.find((record) => record.provider === 'sendgrid')?.updatedAt ?? 0;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

    const drained = await sendBatch(client, 40, 'drained');
    const [slowOutcome] = await outcomes([slow ?? '']);
    // The send in flight was not cut: it finished on SendGrid, in one attempt, after the drain.
    expect(slowOutcome).toMatchObject({ provider: 'sendgrid', attempts: 1 });
    const slowAttempt = (await store?.getMessage(slow ?? ''))?.attempts[0];
    expect(slowAttempt?.startedAt).toBeLessThan(drainedAt);
    expect(slowAttempt?.finishedAt).toBeGreaterThan(drainedAt + SETTLE_MS);
    const afterDrain = await outcomes(drained);
    expect(afterDrain.every((outcome) => outcome.provider === 'smtp' && outcome.attempts === 1)).toBe(true);
    expect(new Set(afterDrain.map((outcome) => outcome.pid))).toEqual(new Set([String(first.child.pid), String(second.child.pid)]));
    expect(sendgrid.counters.requests).toBe(1);

    const table = await providers(url);
    expect(table).toMatch(/^sendgrid\s+\S+\s+drained\s.*planned maintenance$/m);

    // A restarted worker reads the drain at start; the other worker is gone, so it sends everything.
    expect(await second.kill('SIGTERM')).toBe(0);
    const restarted = await startWorker();
    expect(await first.kill('SIGTERM')).toBe(0);
    const afterRestart = await outcomes(await sendBatch(client, 10, 'restarted'));
    expect(afterRestart.every((outcome) => outcome.provider === 'smtp' && outcome.pid === String(restarted.child.pid))).toBe(true);
    expect(sendgrid.counters.requests).toBe(1);

    // Undo: SendGrid takes the traffic again.
    sendgrid.setLatency(0);
    expect(await providers(url, 'enable', 'sendgrid')).toMatch(/^sendgrid is now enabled/);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const undoneIds = await sendBatch(client, 10, 'undone');
    const afterUndo = await outcomes(undoneIds);
    expect(afterUndo.every((outcome) => outcome.provider === 'sendgrid')).toBe(true);
    expect(sendgrid.counters.accepted).toBe(11);

    // Force-open, with two workers again: every live worker holds its breaker open (health says
    // so, with the note as the reason), no mail reaches SendGrid; enable closes them again.
    const another = await startWorker();
    const live = [restarted, another].map((child) => `:${child.child.pid}:`);
    const sendgridBreakers = async () => {
      const health = await client.providers.health.query();
      const view = health.providers.find((provider) => provider.name === 'sendgrid');
      const mine = (view?.breakers ?? []).filter((breaker) => live.some((pid) => breaker.process.includes(pid)));
      return { state: view?.state, note: view?.note, breakers: mine.map((breaker) => breaker.state) };
    };
    expect(await providers(url, 'force-open', 'sendgrid', '--note', 'SendGrid status page: degraded')).toMatch(/is now forced_open/);
    await until(async () => (await sendgridBreakers()).breakers.join() === 'open,open', 10_000, 'both workers to report an open breaker');
    expect(await sendgridBreakers()).toEqual({ state: 'forced_open', note: 'SendGrid status page: degraded', breakers: ['open', 'open'] });
    const forcedOpen = await outcomes(await sendBatch(client, 10, 'forced'));
    expect(forcedOpen.every((outcome) => outcome.provider === 'smtp')).toBe(true);
    expect(sendgrid.counters.accepted).toBe(11);
    expect(await providers(url, 'enable', 'sendgrid')).toMatch(/is now enabled/);
    await until(async () => (await sendgridBreakers()).breakers.join() === 'closed,closed', 10_000, 'both breakers to close');
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const reopenedIds = await sendBatch(client, 5, 'reopened');
    const reopened = await outcomes(reopenedIds);
    expect(reopened.every((outcome) => outcome.provider === 'sendgrid')).toBe(true);

    // What support gets: every one of them, with the provider each went through, as CSV and JSON.
    const file = join(dir.path, 'sent.csv');
    const csv = await mailroute(url, 'export', '--status', 'sent', '--format', 'csv', '--output', file, '--page-size', '25');
    expect(csv.stderr).toMatch(/exported 25 message\(s\) so far\n/);
    expect(csv.stderr.endsWith(`exported 76 message(s) to ${file}\n`)).toBe(true);
    const records: Record<string, string>[] = parse(readFileSync(file), { columns: true });
    expect(records).toHaveLength(76);
    expect(
      records
        .filter((record) => record.provider === 'sendgrid')
        .map((record) => record.id)
        .sort(),
    ).toEqual([slow ?? '', ...undoneIds, ...reopenedIds].sort());
    expect(records.find((record) => record.id === slow)).toMatchObject({ status: 'sent', attempts: '1', to: 'guest0@example.org' });
    const json = await mailroute(url, 'export', '--status', 'sent', '--provider', 'smtp', '--format', 'json');
    const rows = JSON.parse(json.stdout) as { id: string; provider: string; subject: string }[];
    expect(rows).toHaveLength(60);
    expect(rows.every((row) => row.provider === 'smtp')).toBe(true);
  }, 240_000);
});
