import { join } from 'node:path';
import { createMailrouteClient } from '@mailroute/client';
import type { MailrouteConfigInput } from '@mailroute/server';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { createStore } from '@mailroute/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duplicates, type MailView, receivedMail, startLoad, until } from './support/mail.js';
import { adminKey, type ServerProcess, spawnMailroute, workDir, writeConfig } from './support/server-process.js';

/**
 * Stopping the server under load. SIGTERM: requests in flight are answered, sends in flight
 * finish, nothing is left claimed, and after a restart everything acknowledged is sent once.
 * kill -9: everything acknowledged survives and is sent after a restart; only the sends in
 * flight at the kill may arrive twice.
 */

const ADMIN_KEY = adminKey();
const CONCURRENCY = 10;
let sendgrid: SendGridStandIn;
const dirs: ReturnType<typeof workDir>[] = [];
const servers: ServerProcess[] = [];

beforeAll(async () => {
  sendgrid = await startSendGridStandIn({ latencyMs: 30 });
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.kill('SIGKILL')));
  await sendgrid?.close();
  for (const dir of dirs) dir.remove();
});

function setUp(name: string): { config: string; databaseUrl: string; start: () => ServerProcess } {
  const dir = workDir(name);
  dirs.push(dir);
  const databaseUrl = `file:${join(dir.path, 'mailroute.db')}`;
  const config = writeConfig(join(dir.path, 'mailroute.json'), {
    database: { url: databaseUrl },
    providers: [{ type: 'sendgrid', name: 'sendgrid', apiKey: sendgrid.apiKey, baseUrl: sendgrid.url }],
    worker: { concurrency: CONCURRENCY, leaseMs: 2_000, idlePollMs: 100 },
    server: { port: 0, rateLimit: { enabled: false } },
  });
  return {
    config,
    databaseUrl,
    start: () => {
      const server = spawnMailroute({ args: ['serve', '--config', config], cwd: dir.path, env: { MAILROUTE_ADMIN_KEY: ADMIN_KEY } });
      servers.push(server);
      return server;
    },
  };
}

/** Runs load against a fresh server until `stop` is called on it; answers what was acknowledged. */
async function underLoad(server: ServerProcess, label: string, stop: () => Promise<unknown>): Promise<MailView[]> {
  const client = createMailrouteClient({ url: await server.url, apiKey: ADMIN_KEY, timeoutMs: 5_000 });
  const load = startLoad(client, label, 8);
  await until(() => load.acked.length >= 300, 20_000, '300 acknowledged sends');
  await stop();
  return load.stop();
}

async function statusesOf(databaseUrl: string, ids: readonly string[]) {
  const store = await createStore({ url: databaseUrl });
  try {
    return {
      counts: await store.countByStatus(),
      found: (await Promise.all(ids.map((id) => store.getMessage(id)))).filter(Boolean).length,
    };
  } finally {
    await store.close();
  }
}

const received = async (ids: ReadonlySet<string>) => (await receivedMail({ sendgrid })).filter((mail) => ids.has(mail.id));

describe('stopping the server under load', () => {
  it('SIGTERM: answers what is in flight, finishes sends, releases everything; nothing lost or repeated', async () => {
    const { databaseUrl, start } = setUp('sigterm');
    const first = start();
    let exitCode: number | null = null;
    const acked = await underLoad(first, 'sigterm', async () => {
      exitCode = await first.kill('SIGTERM');
    });
    expect(exitCode).toBe(0);
    expect(first.logs().map((line) => line.msg)).toContain('stopped');
    const ids = new Set(acked.map((mail) => mail.id));

    const afterStop = await statusesOf(databaseUrl, [...ids]);
    expect(afterStop.found).toBe(ids.size);
    expect(afterStop.counts.sending).toBe(0);

    const second = start();
    await second.workerStarted;
    await until(async () => (await received(ids)).length >= ids.size, 20_000, 'every acknowledged message to be sent');
    const arrived = await received(ids);
    expect(duplicates(arrived)).toEqual([]);
    expect(new Set(arrived.map((mail) => mail.id))).toEqual(ids);
    await second.kill('SIGTERM');
  }, 55_000);

  it('kill -9: everything acknowledged is sent after a restart', async () => {
    const { databaseUrl, start } = setUp('sigkill');
    const first = start();
    const acked = await underLoad(first, 'sigkill', () => first.kill('SIGKILL'));
    const ids = new Set(acked.map((mail) => mail.id));
    expect((await statusesOf(databaseUrl, [...ids])).found).toBe(ids.size);

    const second = start();
    await second.workerStarted;
    await until(async () => (await statusesOf(databaseUrl, [])).counts.sent >= ids.size, 30_000, 'every acknowledged message to be sent');
    const arrived = await received(ids);
    expect(new Set(arrived.map((mail) => mail.id))).toEqual(ids);
    // A send in flight at the kill reached SendGrid but was never recorded: it goes again.
    expect(duplicates(arrived).length).toBeLessThanOrEqual(CONCURRENCY);
    console.log(
      `kill -9: ${ids.size} acknowledged, all sent after restart; ${duplicates(arrived).length} sent twice (in flight at the kill)`,
    );
    await second.kill('SIGTERM');
  }, 55_000);
});

describe('stopping while the provider hangs', () => {
  function hangingSetUp(name: string, hanging: SendGridStandIn, settings: Pick<MailrouteConfigInput, 'routing' | 'worker'>) {
    const dir = workDir(name);
    dirs.push(dir);
    const databaseUrl = `file:${join(dir.path, 'mailroute.db')}`;
    const config = writeConfig(join(dir.path, 'mailroute.json'), {
      database: { url: databaseUrl },
      providers: [{ type: 'sendgrid', name: 'sendgrid', apiKey: hanging.apiKey, baseUrl: hanging.url }],
      server: { port: 0, rateLimit: { enabled: false } },
      ...settings,
    });
    const server = spawnMailroute({ args: ['serve', '--config', config], cwd: dir.path, env: { MAILROUTE_ADMIN_KEY: ADMIN_KEY } });
    servers.push(server);
    return { databaseUrl, server };
  }

  it('a grace shorter than the longest send is refused at start, naming both settings', async () => {
    const { server } = hangingSetUp('short-grace', sendgrid, {
      routing: { breaker: { timeoutMs: 5_000 } },
      worker: { shutdownGraceMs: 2_000 },
    });
    expect(await server.exited).not.toBe(0);
    expect(server.output.join('')).toMatch(
      /worker\.shutdownGraceMs 2000 is shorter than the longest send, 5000 ms \(routing\.breaker\.timeoutMs or routing\.providerBreakers\.<name>\.timeoutMs/,
    );
  });

  it('SIGTERM with every send hung: each one ends with a recorded ambiguous outcome, none stays sending', async () => {
    const hanging = await startSendGridStandIn();
    hanging.setFault({ kind: 'hang' });
    try {
      const { databaseUrl, server } = hangingSetUp('hung-sigterm', hanging, {
        routing: { breaker: { timeoutMs: 1_500, volumeThreshold: 1_000 } },
        worker: { concurrency: 5, idlePollMs: 100, shutdownGraceMs: 1_500 },
      });
      const client = createMailrouteClient({ url: await server.url, apiKey: ADMIN_KEY, timeoutMs: 5_000 });
      const load = startLoad(client, 'hung', 5);
      await hanging.waitForRequests(5, 10_000);
      const started = Date.now();
      expect(await server.kill('SIGTERM')).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      const acked = await load.stop();
      const store = await createStore({ url: databaseUrl });
      try {
        expect((await store.countByStatus()).sending).toBe(0);
        const hung = hanging.requests.map((request) =>
          String((request.body as { custom_args?: { mailroute_id?: string } }).custom_args?.mailroute_id),
        );
        expect(hung.length).toBeGreaterThanOrEqual(5);
        const ackedIds = new Set(acked.map((mail) => mail.id));
        expect(hung.every((id) => ackedIds.has(id))).toBe(true);
        for (const id of hung) {
          const detail = await store.getMessage(id);
          expect(detail?.status).toBe('retrying');
          // The provider may have it: the attempt says so, and the message waits for a retry.
          expect(detail?.attempts).toEqual([
            expect.objectContaining({ provider: 'sendgrid', errorCode: 'TIMEOUT', errorCategory: 'ambiguous' }),
          ]);
        }
      } finally {
        await store.close();
      }
    } finally {
      await hanging.close();
    }
  }, 45_000);
});
