import { join } from 'node:path';
import { createMailrouteClient, errorCodeOf, type MailrouteClient } from '@mailroute/client';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './support/mail.js';
import { adminKey, runMailroute, type ServerProcess, spawnMailroute, workDir, writeConfig } from './support/server-process.js';

/**
 * Two tenants on the real server process, as a tenant's key-holder would probe it: the
 * provider's words about one tenant's mail never reach the other tenant, a tenant's admin
 * cannot change a provider for everyone, and a tenant sends only from its own senders.
 */

const OPERATOR_KEY = adminKey();
const SECRET_GUEST = 'Secret.Guest@hotel-guests.example';

let dir: ReturnType<typeof workDir>;
let smtp: SmtpStandin;
let server: ServerProcess;
let url: string;
let config: string;
let operator: MailrouteClient;

async function createKey(name: string, tenant: string, scopes: string): Promise<string> {
  const result = await runMailroute(['keys', 'create', '--name', name, '--tenant', tenant, '--scopes', scopes, '--config', config], {
    cwd: dir.path,
  });
  expect(result.code, result.stderr).toBe(0);
  const key = /\n {2}(mr_\S+)/.exec(result.stdout)?.[1];
  if (!key) throw new Error(`no key in: ${result.stdout}`);
  return key;
}

beforeAll(async () => {
  dir = workDir('scopes');
  smtp = await startSmtpStandin();
  config = writeConfig(join(dir.path, 'mailroute.json'), {
    database: { url: `file:${join(dir.path, 'mailroute.db')}` },
    providers: [{ type: 'smtp', name: 'relay', host: '127.0.0.1', port: smtp.port }],
    server: { port: 0 },
  });
  server = spawnMailroute({ args: ['serve', '--config', config], cwd: dir.path, env: { MAILROUTE_ADMIN_KEY: OPERATOR_KEY } });
  url = await server.url;
  operator = createMailrouteClient({ url, apiKey: OPERATOR_KEY });
}, 40_000);

afterAll(async () => {
  await server?.kill('SIGTERM');
  await smtp?.close();
  dir?.remove();
});

describe('tenants on the running server', () => {
  it('a provider error quoting tenant A’s recipient and message reaches A and the operator, never tenant B', async () => {
    const hotel = createMailrouteClient({ url, apiKey: await createKey('hotel app', 'hotel', 'send,read') });
    const spaKeys = { read: await createKey('spa dashboard', 'spa', 'read'), admin: await createKey('spa admin', 'spa', 'admin') };
    await operator.senders.set.mutate({ tenantId: 'hotel', senders: ['hotel.example'] });

    smtp.faults.refuse.rcpt = { code: 451, message: `4.3.0 <${SECRET_GUEST}>: mailbox busy, try again later` };
    const { id } = await hotel.mail.send.mutate({ from: 'desk@hotel.example', to: [SECRET_GUEST], subject: 'Suite 12', text: 'x' });
    await until(
      async () => (await operator.providers.health.query()).providers[0]?.lastError?.errorCode !== undefined,
      20_000,
      'the failed attempt to be recorded',
    );
    smtp.faults.refuse.rcpt = undefined;

    const full = JSON.stringify(await operator.providers.health.query());
    expect(full).toContain(SECRET_GUEST);
    expect(full).toContain(id);
    expect(JSON.stringify(await hotel.providers.health.query())).toContain(SECRET_GUEST);

    for (const key of Object.values(spaKeys)) {
      const spa = createMailrouteClient({ url, apiKey: key });
      const answers = JSON.stringify([
        await spa.providers.health.query(),
        await spa.providers.health.query({ windowMs: 3_600_000 }),
        await spa.providers.list.query(),
        await spa.stats.overview.query(),
      ]).toLowerCase();
      expect(answers).not.toContain(SECRET_GUEST.toLowerCase());
      expect(answers).not.toContain('hotel-guests');
      expect(answers).not.toContain(id);
      expect(answers).toContain('"withheld":true');
    }
  });

  it('a tenant’s admin key cannot drain a provider, through the API or the CLI; the operator can', async () => {
    const spaAdmin = await createKey('spa admin 2', 'spa', 'admin');
    const refused = await createMailrouteClient({ url, apiKey: spaAdmin })
      .providers.setState.mutate({ provider: 'relay', state: 'drained' })
      .catch((error: unknown) => error);
    expect(errorCodeOf(refused)).toBe('FORBIDDEN');
    expect(String(refused)).toContain('lacks the operator scope');
    const cli = await runMailroute(['providers', 'drain', 'relay', '--url', url, '--api-key', spaAdmin], { cwd: dir.path });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('operator scope');
    expect((await operator.providers.list.query())[0]?.state).toBe('enabled');

    const drained = await runMailroute(['providers', 'drain', 'relay', '--url', url, '--api-key', OPERATOR_KEY], { cwd: dir.path });
    expect(drained.code, drained.stderr).toBe(0);
    expect((await operator.providers.list.query())[0]?.state).toBe('drained');
    await operator.providers.setState.mutate({ provider: 'relay', state: 'enabled' });
  });

  it('a tenant sends only from its senders (403 SENDER_NOT_ALLOWED over HTTP); the default tenant from any', async () => {
    const spaSend = await createKey('spa app', 'spa', 'send');
    const set = await runMailroute(['senders', 'set', 'spa', 'spa.example', '--config', config], { cwd: dir.path });
    expect(set.code, set.stderr).toBe(0);
    const post = (from: string) =>
      fetch(`${url}/trpc/mail.send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${spaSend}`, 'content-type': 'application/json' },
        body: JSON.stringify({ from, to: ['guest@example.org'], subject: 'Spa day', text: 'x' }),
      });
    // The CLI wrote to the database; the server trusts its cached list for at most 5 s.
    await until(async () => (await post('desk@spa.example')).status === 200, 10_000, 'the new sender list to apply');
    const refused = await post('desk@hotel.example');
    expect(refused.status).toBe(403);
    expect(JSON.stringify(await refused.json())).toContain('SENDER_NOT_ALLOWED');
    expect((await operator.mail.send.mutate({ from: 'ops@anywhere.example', to: ['x@example.org'], subject: 's', text: 'x' })).status).toBe(
      'queued',
    );
  });
});
