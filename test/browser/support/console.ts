import { join } from 'node:path';
import { createMailrouteClient, type MailrouteClient } from '@mailroute/client';
import type { MailrouteConfigInput } from '@mailroute/server';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { type SesEmulator, startSesEmulator } from '@mailroute/standins/ses';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import { adminKey, type ServerProcess, spawnMailroute, workDir, writeConfig } from '../../e2e/support/server-process.js';

const SENDGRID_KEY = 'SG.browser-console.0123456789abcdef';
const SES_SECRET = 'ses-secret-browser-9f8e7d6c5b4a';

/** The built server (what `npm start` runs) with SendGrid, SES and SMTP stand-ins, in routing order. */
export interface ConsoleServer {
  readonly url: string;
  readonly adminKey: string;
  readonly client: MailrouteClient;
  readonly server: ServerProcess;
  readonly sendgrid: SendGridStandIn;
  readonly ses: SesEmulator;
  readonly smtp: SmtpStandin;
  clientFor(key: string): MailrouteClient;
  close(): Promise<void>;
}

export async function startConsoleServer(
  name: string,
  overrides: Partial<Pick<MailrouteConfigInput, 'retry' | 'routing' | 'alerts'>> = {},
): Promise<ConsoleServer> {
  const dir = workDir(`browser-${name}`);
  const [sendgrid, ses, smtp] = await Promise.all([startSendGridStandIn({ apiKey: SENDGRID_KEY }), startSesEmulator(), startSmtpStandin()]);
  const key = adminKey();
  const config = writeConfig(join(dir.path, 'mailroute.json'), {
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
      breaker: { volumeThreshold: 4, errorThresholdPercentage: 50, rollingCountTimeoutMs: 2_000, resetTimeoutMs: 2_000 },
    },
    retry: { baseDelayMs: 200, maxDelayMs: 1_000 },
    worker: { concurrency: 8, idlePollMs: 100, overridesRefreshMs: 500 },
    server: { port: 0, rateLimit: { enabled: false } },
    ...overrides,
  });
  const server = spawnMailroute({
    args: ['serve', '--config', config],
    cwd: dir.path,
    built: true,
    env: { MAILROUTE_ADMIN_KEY: key, SENDGRID_API_KEY: SENDGRID_KEY, SES_SECRET },
  });
  const url = await server.url;
  await server.workerStarted;
  const clientFor = (apiKey: string) => createMailrouteClient({ url, apiKey });
  return {
    url,
    adminKey: key,
    client: clientFor(key),
    server,
    sendgrid,
    ses,
    smtp,
    clientFor,
    async close() {
      await server.kill('SIGTERM');
      await Promise.all([sendgrid.close(), ses.close(), smtp.close()]);
      dir.remove();
    },
  };
}
