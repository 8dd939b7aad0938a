import { join } from 'node:path';
import { createMailrouteClient, type MailrouteClient } from '@mailroute/client';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { type SesEmulator, startSesEmulator } from '@mailroute/standins/ses';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duplicates, type MailView, receivedMail, sendMany, until } from './support/mail.js';
import { adminKey, type ServerProcess, spawnMailroute, workDir, writeConfig } from './support/server-process.js';

/**
 * The whole path through the real server process: the typed client over HTTP, the queue,
 * the worker, the three providers' real protocols. SendGrid takes traffic, goes away, SES
 * takes over, goes away too, SMTP takes over; both come back and SendGrid takes traffic
 * again once its breaker closes. Every message arrives exactly once, unchanged.
 */

const SENDGRID_KEY = 'SG.e2e-failover.0123456789abcdef';
const SES_SECRET = 'ses-secret-e2e-9f8e7d6c5b4a';
const ADMIN_KEY = adminKey();
const PER_PHASE = 30;
const BREAKER_RESET_MS = 1_500;

let dir: ReturnType<typeof workDir>;
let sendgrid: SendGridStandIn;
let ses: SesEmulator;
let smtp: SmtpStandin;
let server: ServerProcess;
let client: MailrouteClient;

beforeAll(async () => {
  dir = workDir('failover');
  [sendgrid, ses, smtp] = await Promise.all([startSendGridStandIn({ apiKey: SENDGRID_KEY }), startSesEmulator(), startSmtpStandin()]);
  const config = writeConfig(join(dir.path, 'mailroute.yaml'), {
    database: { url: `file:${join(dir.path, 'mailroute.db')}` },
    providers: [
      { type: 'sendgrid', name: 'sendgrid', apiKey: `\${SENDGRID_API_KEY}`, baseUrl: sendgrid.url },
      {
        type: 'ses',
        name: 'ses',
        region: 'eu-west-1',
        endpoint: ses.url,
        credentials: { accessKeyId: 'AKIAEXAMPLEEXAMPLE12', secretAccessKey: `\${SES_SECRET}` },
      },
      { type: 'smtp', name: 'smtp', host: '127.0.0.1', port: smtp.port },
    ],
    routing: {
      breaker: { volumeThreshold: 4, errorThresholdPercentage: 50, rollingCountTimeoutMs: 1_000, resetTimeoutMs: BREAKER_RESET_MS },
    },
    retry: { baseDelayMs: 200, maxDelayMs: 1_000 },
    worker: { concurrency: 8, idlePollMs: 100 },
    server: { port: 0, rateLimit: { enabled: false } },
  });
  server = spawnMailroute({
    args: ['serve', '--config', config],
    cwd: dir.path,
    env: { MAILROUTE_ADMIN_KEY: ADMIN_KEY, SENDGRID_API_KEY: SENDGRID_KEY, SES_SECRET },
  });
  client = createMailrouteClient({ url: await server.url, apiKey: ADMIN_KEY });
}, 40_000);

afterAll(async () => {
  await server?.kill('SIGTERM');
  await Promise.all([sendgrid?.close(), ses?.close(), smtp?.close()]);
  dir?.remove();
});

async function arrived(phase: readonly MailView[]): Promise<void> {
  await until(
    async () => {
      const ids = new Set((await receivedMail({ sendgrid, ses, smtp })).map((mail) => mail.id));
      return phase.every((mail) => ids.has(mail.id));
    },
    20_000,
    'every message of the phase to arrive',
  );
}

const providerOf = async (phase: readonly MailView[]) => {
  const byId = new Map((await receivedMail({ sendgrid, ses, smtp })).map((mail) => [mail.id, mail.provider]));
  return phase.map((mail) => byId.get(mail.id));
};

describe('failover end to end', () => {
  it('SendGrid, then SES, then SMTP, then SendGrid again; every message once, unchanged', async () => {
    const first = await sendMany(client, PER_PHASE, 'sendgrid up');
    await arrived(first);

    await sendgrid.close();
    const second = await sendMany(client, PER_PHASE, 'sendgrid down');
    await arrived(second);

    await ses.stop();
    const third = await sendMany(client, PER_PHASE, 'ses down too');
    await arrived(third);

    await Promise.all([sendgrid.start(), ses.start()]);
    await new Promise((resolve) => setTimeout(resolve, BREAKER_RESET_MS + 300));
    const fourth = await sendMany(client, PER_PHASE, 'both back');
    await arrived(fourth);
    await server.waitForLog(
      (line) => line.msg === 'circuit breaker changed state' && line.provider === 'sendgrid' && line.state === 'closed',
    );

    expect(new Set(await providerOf(first))).toEqual(new Set(['sendgrid']));
    expect(new Set(await providerOf(second))).toEqual(new Set(['ses']));
    expect(new Set(await providerOf(third))).toEqual(new Set(['smtp']));
    // The half-open probe and the calls around it may still go to SES; once closed, SendGrid has it all.
    const backOnSendGrid = await providerOf(fourth.slice(-PER_PHASE / 2));
    expect(new Set(backOnSendGrid)).toEqual(new Set(['sendgrid']));

    const sent = [...first, ...second, ...third, ...fourth];
    const received = await receivedMail({ sendgrid, ses, smtp });
    expect(duplicates(received)).toEqual([]);
    expect(received).toHaveLength(sent.length);
    const byId = new Map(received.map((mail) => [mail.id, mail]));
    for (const mail of sent) {
      const { provider: _, ...view } = byId.get(mail.id) ?? { provider: undefined, id: mail.id };
      expect(view, `message ${mail.id}`).toEqual(mail);
    }

    const output = server.output.join('');
    expect(output).toContain('provider call failed');
    for (const secret of [SENDGRID_KEY, SES_SECRET, ADMIN_KEY]) expect(output).not.toContain(secret);
  }, 50_000);
});
