import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMailrouteClient, type MailrouteClient } from '@mailroute/client';
import type { MailrouteConfigInput } from '@mailroute/server';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duplicates, type Load, type MailView, receivedMail, startLoad, until } from './support/mail.js';
import { adminKey, type ServerProcess, spawnMailroute, workDir, writeConfig } from './support/server-process.js';

/**
 * Providers are swapped by editing the file: under steady load the order is reversed and
 * SIGHUP sent; later the file alone is edited (the watch picks it up); an invalid file in
 * between is refused with its exact error and changes nothing. No message is lost or sent
 * twice across the swaps.
 */

const ADMIN_KEY = adminKey();
const CALLERS = 6;

let dir: ReturnType<typeof workDir>;
let configPath: string;
let sendgrid: SendGridStandIn;
let smtp: SmtpStandin;
let server: ServerProcess;
let client: MailrouteClient;

function config(order: readonly ('sendgrid' | 'smtp')[]): MailrouteConfigInput {
  const providers = {
    sendgrid: { type: 'sendgrid', name: 'sendgrid', apiKey: sendgrid.apiKey, baseUrl: sendgrid.url },
    smtp: { type: 'smtp', name: 'smtp', host: '127.0.0.1', port: smtp.port },
  } as const;
  return {
    database: { url: `file:${join(dir.path, 'mailroute.db')}` },
    providers: order.map((name) => providers[name]),
    worker: { concurrency: 8, idlePollMs: 100 },
    server: { port: 0, rateLimit: { enabled: false } },
  };
}

beforeAll(async () => {
  dir = workDir('reload');
  [sendgrid, smtp] = await Promise.all([startSendGridStandIn({ latencyMs: 5 }), startSmtpStandin()]);
  configPath = writeConfig(join(dir.path, 'mailroute.json'), config(['sendgrid', 'smtp']));
  server = spawnMailroute({ args: ['serve', '--config', configPath], cwd: dir.path, env: { MAILROUTE_ADMIN_KEY: ADMIN_KEY } });
  client = createMailrouteClient({ url: await server.url, apiKey: ADMIN_KEY });
}, 40_000);

afterAll(async () => {
  await server?.kill('SIGTERM');
  await Promise.all([sendgrid?.close(), smtp?.close()]);
  dir?.remove();
});

/** Waits for `count` more acknowledgements. */
const more = (load: Load, count: number) => {
  const target = load.acked.length + count;
  return until(() => load.acked.length >= target, 20_000, `${count} more acknowledged sends`);
};

/**
 * Marks the end of a phase: everything acknowledged so far has arrived, so it was claimed
 * under the configuration of this phase. Mail acknowledged between the mark and the next
 * change belongs to neither phase and is only checked for loss and duplicates.
 */
async function settle(load: Load): Promise<number> {
  const mark = load.acked.length;
  const ids = load.acked.slice(0, mark).map((mail) => mail.id);
  await until(
    async () => {
      const arrived = new Set((await receivedMail({ sendgrid, smtp })).map((mail) => mail.id));
      return ids.every((id) => arrived.has(id));
    },
    20_000,
    'the queue to drain',
  );
  return mark;
}

describe('configuration reload under load', () => {
  it('reorders providers on SIGHUP and on a file change, refuses an invalid file, and loses or repeats nothing', async () => {
    const load = startLoad(client, 'reload', CALLERS, 40);
    await more(load, 80);
    const before = await settle(load);

    writeConfig(configPath, config(['smtp', 'sendgrid']));
    server.child.kill('SIGHUP');
    await server.waitForLog((line) => line.msg === 'configuration reloaded' && String(line.providers) === 'smtp,sendgrid');
    // Calls in flight at the change may have been stored just before it.
    const swapped = load.acked.length + CALLERS;
    await more(load, 80 + CALLERS);
    const swappedEnd = await settle(load);

    writeFileSync(configPath, JSON.stringify({ ...config(['sendgrid', 'smtp']), providers: [{ type: 'pigeon', name: 'coo' }] }));
    server.child.kill('SIGHUP');
    const rejected = await server.waitForLog((line) => line.msg.startsWith('configuration rejected'));
    const refused = load.acked.length + CALLERS;
    await more(load, 80 + CALLERS);
    const refusedEnd = await settle(load);

    writeConfig(configPath, config(['sendgrid', 'smtp']));
    await server.waitForLog((line) => line.msg === 'configuration reloaded' && String(line.providers) === 'sendgrid,smtp');
    const restored = load.acked.length + CALLERS;
    await more(load, 80 + CALLERS);
    const all = await load.stop();
    await settle(load);

    const received = await receivedMail({ sendgrid, smtp });
    const providerOf = new Map(received.map((mail) => [mail.id, mail.provider]));
    const via = (mails: readonly MailView[]) => new Set(mails.map((mail) => providerOf.get(mail.id)));
    expect(via(all.slice(0, before))).toEqual(new Set(['sendgrid']));
    expect(via(all.slice(swapped, swappedEnd))).toEqual(new Set(['smtp']));
    expect(via(all.slice(refused, refusedEnd))).toEqual(new Set(['smtp']));
    expect(via(all.slice(restored))).toEqual(new Set(['sendgrid']));

    expect(rejected.error).toMatch(/invalid configuration:[\s\S]*providers\.0\.type/);
    expect(rejected.msg).toBe('configuration rejected; the previous configuration stays in force');

    expect(duplicates(received)).toEqual([]);
    expect(received).toHaveLength(all.length);
    const acknowledged = new Set(all.map((mail) => mail.id));
    expect(received.every((mail) => acknowledged.has(mail.id))).toBe(true);
    console.log(`reload under load: ${all.length} acknowledged, ${load.unacknowledged()} calls without answer`);
  }, 50_000);
});
