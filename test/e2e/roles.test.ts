import { join } from 'node:path';
import { createMailrouteClient } from '@mailroute/client';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import { createPostgresDatabase, postgresAvailable } from '@mailroute/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duplicates, receivedMail, sendMany, settled, until } from './support/mail.js';
import { adminKey, runMailroute, type ServerProcess, spawnMailroute, workDir, writeConfig } from './support/server-process.js';

/**
 * Scaling out on PostgreSQL: an `api` process and a separate `worker` process share one
 * database. The API stays unready until `mailroute migrate` has run; the worker picks up what
 * the API stored (LISTEN/NOTIFY), and neither role runs the other's half.
 */

const ADMIN_KEY = adminKey();
let dir: ReturnType<typeof workDir>;
let database: { url: string; drop: () => Promise<void> } | undefined;
let smtp: SmtpStandin;
const processes: ServerProcess[] = [];

beforeAll(async () => {
  if (!postgresAvailable) return;
  dir = workDir('roles');
  database = await createPostgresDatabase();
  smtp = await startSmtpStandin();
}, 30_000);

afterAll(async () => {
  await Promise.all(processes.map((child) => child.kill('SIGTERM')));
  await smtp?.close();
  await database?.drop();
  dir?.remove();
}, 30_000);

describe.skipIf(!postgresAvailable)('api and worker roles on one PostgreSQL database', () => {
  it('the api waits for migrations (unready), then stores what a separate worker sends', async () => {
    if (!database) throw new Error('PostgreSQL database not created');
    const config = writeConfig(join(dir.path, 'mailroute.json'), {
      database: { url: database.url },
      providers: [{ type: 'smtp', name: 'smtp', host: '127.0.0.1', port: smtp.port }],
      worker: { concurrency: 8 },
      server: { port: 0 },
    });
    const api = spawnMailroute({
      args: ['serve', '--role', 'api', '--config', config],
      cwd: dir.path,
      env: { MAILROUTE_ADMIN_KEY: ADMIN_KEY },
    });
    processes.push(api);
    const url = await api.url;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const unready = await fetch(`${url}/readyz`);
    expect(unready.status).toBe(503);
    expect(await unready.json()).toMatchObject({
      status: 'not ready',
      reason: expect.stringMatching(/migrations not applied: .*mailroute migrate/),
    });

    const migrate = await runMailroute(['migrate', '--config', config], { cwd: dir.path });
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.stdout).toMatch(/^applied: /m);
    await api.waitForLog((line) => line.msg.startsWith('first admin key stored'));
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    const worker = spawnMailroute({ args: ['worker', '--config', config], cwd: dir.path });
    processes.push(worker);
    await worker.workerStarted;

    const client = createMailrouteClient({ url, apiKey: ADMIN_KEY });
    const sent = await sendMany(client, 60, 'roles');
    await until(async () => (await receivedMail({ smtp })).length >= sent.length, 20_000, 'the worker to send everything');
    const received = await receivedMail({ smtp });
    expect(duplicates(received)).toEqual([]);
    expect(new Set(received.map((mail) => mail.id))).toEqual(new Set(sent.map((mail) => mail.id)));

    await settled(client);
    const health = await client.providers.health.query();
    expect(health.providers.map((provider) => [provider.name, provider.breaker])).toEqual([['smtp', undefined]]);
    expect(health.providers[0]?.recent.accepted).toBe(60);

    expect(api.logs().some((line) => line.msg === 'worker started')).toBe(false);
    expect(worker.logs().some((line) => line.msg === 'api listening')).toBe(false);
    expect(worker.output.join('')).not.toContain('first admin key');
  }, 55_000);
});
