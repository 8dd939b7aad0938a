import { createMailrouteClient, errorCodeOf, type MailrouteClient } from '@mailroute/client';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../e2e/support/mail.js';
import { runMailroute } from '../e2e/support/server-process.js';
import { createKey, type SecurityServer, startBuiltServer } from './support/server.js';

/**
 * Two tenants on the built server, as a tenant's key-holder would probe it: the provider's
 * words about one tenant's mail never reach the other tenant, a tenant's admin cannot change a
 * provider for everyone, and a tenant sends only from its own senders.
 */

const SECRET_GUEST = 'Secret.Guest@hotel-guests.example';

let smtp: SmtpStandin;
let server: SecurityServer;
let url: string;
let operator: MailrouteClient;

const keyOf = (name: string, tenant: string, scopes: string) => createKey(server, name, scopes, ['--tenant', tenant]);
const cli = (args: readonly string[]) => runMailroute(args, { cwd: server.dir, built: true });

beforeAll(async () => {
  smtp = await startSmtpStandin();
  server = await startBuiltServer({
    name: 'scopes',
    config: { providers: [{ type: 'smtp', name: 'relay', host: '127.0.0.1', port: smtp.port }] },
  });
  url = server.url;
  operator = createMailrouteClient({ url, apiKey: server.adminKey });
}, 40_000);

afterAll(async () => {
  await server?.stop();
  await smtp?.close();
});

describe('tenants on the built server', () => {
  it('a provider error quoting tenant A’s recipient and message reaches A and the operator, never tenant B', async () => {
    const hotel = createMailrouteClient({ url, apiKey: await keyOf('hotel app', 'hotel', 'send,read') });
    const spaKeys = { read: await keyOf('spa dashboard', 'spa', 'read'), admin: await keyOf('spa admin', 'spa', 'admin') };
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
    const spaAdmin = await keyOf('spa admin 2', 'spa', 'admin');
    const refused = await createMailrouteClient({ url, apiKey: spaAdmin })
      .providers.setState.mutate({ provider: 'relay', state: 'drained' })
      .catch((error: unknown) => error);
    expect(errorCodeOf(refused)).toBe('FORBIDDEN');
    expect(String(refused)).toContain('lacks the operator scope');
    const fromCli = await cli(['providers', 'drain', 'relay', '--url', url, '--api-key', spaAdmin]);
    expect(fromCli.code).toBe(1);
    expect(fromCli.stderr).toContain('operator scope');
    expect((await operator.providers.list.query())[0]?.state).toBe('enabled');

    const drained = await cli(['providers', 'drain', 'relay', '--url', url, '--api-key', server.adminKey]);
    expect(drained.code, drained.stderr).toBe(0);
    expect((await operator.providers.list.query())[0]?.state).toBe('drained');
    await operator.providers.setState.mutate({ provider: 'relay', state: 'enabled' });
  });

  it('a tenant sends only from its senders (403 SENDER_NOT_ALLOWED over HTTP); the default tenant from any', async () => {
    const spaSend = await keyOf('spa app', 'spa', 'send');
    const set = await cli(['senders', 'set', 'spa', 'spa.example', '--config', server.configPath]);
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
