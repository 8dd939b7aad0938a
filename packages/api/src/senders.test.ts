import { postgresAvailable } from '@mailroute/store/testing';
import { afterEach, describe, expect, test } from 'vitest';
import { apiClient, failure } from './test/client.js';
import { mail, messageCount, work } from './test/fixtures.js';
import { startTestApi, type TestApi } from './test/server.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

type Dialect = 'sqlite' | 'postgres';
const dialects: Dialect[] = postgresAvailable ? ['sqlite', 'postgres'] : ['sqlite'];

describe.each(dialects)('on %s', (dialect) => {
  async function start() {
    api = await startTestApi({ dialect });
    const started = api;
    await started.store.setSenders('spa', ['spa.example', 'bookings@partner.example']);
    return { api: started, client: (who: keyof TestApi['keys']) => apiClient(started.url, started.keys[who].key) };
  }

  test('mail.send from outside the tenant’s senders is 403 SENDER_NOT_ALLOWED at from.email, and nothing is stored', async () => {
    const { api, client } = await start();
    const spa = client('spaSend');
    const refusals = [];
    for (const from of ['desk@hotel.example', 'desk@news.spa.example', 'other@partner.example', 'spa.example@evil.example']) {
      refusals.push(await failure(spa.mail.send.mutate(mail({ from }))));
    }
    for (const refused of refusals) {
      expect(refused).toMatchObject({ code: 'SENDER_NOT_ALLOWED', httpStatus: 403, issues: [{ path: 'from.email' }] });
      expect(refused.message).toContain('not among the senders allowed for tenant spa');
    }
    expect(await messageCount(api.store)).toBe(0);
    // A listed domain (any case, display name or not) and a listed address are accepted.
    for (const from of ['Spa Desk <Desk@SPA.example>', 'spa@spa.example', 'Bookings@Partner.example']) {
      expect((await spa.mail.send.mutate(mail({ from }))).status).toBe('queued');
    }
    expect(await messageCount(api.store)).toBe(3);
  });

  test('mail.sendBatch refuses each message from outside the senders on its own; the others are stored', async () => {
    const { api, client } = await start();
    const results = await client('spaSend').mail.sendBatch.mutate({
      messages: [mail({ from: 'desk@spa.example' }), mail({ from: 'desk@hotel.example' }), mail({ from: 'bookings@partner.example' })],
    });
    expect(results.map((result) => (result.ok ? 'ok' : result.error.code))).toEqual(['ok', 'SENDER_NOT_ALLOWED', 'ok']);
    expect(results[1]).toMatchObject({ ok: false, error: { issues: [{ path: 'from.email' }] } });
    expect(await messageCount(api.store)).toBe(2);
  });

  test('without a list the default tenant sends from any address and another tenant from none', async () => {
    const { api, client } = await start();
    expect((await client('operator').mail.send.mutate(mail({ from: 'anyone@anywhere.example' }))).status).toBe('queued');
    const fresh = await api.store.createApiKey({ name: 'new tenant app', scopes: ['send', 'read'], tenantId: 'gym' });
    const gym = apiClient(api.url, fresh.key);
    const refused = await failure(gym.mail.send.mutate(mail({ from: 'desk@gym.example' })));
    expect(refused).toMatchObject({ code: 'SENDER_NOT_ALLOWED', httpStatus: 403 });
    expect(refused.message).toContain('tenant gym has no allowed senders yet');
    expect(await gym.senders.list.query()).toEqual({ tenantId: 'gym', senders: [], policy: 'none' });
    expect(await client('operator').senders.list.query()).toEqual({ tenantId: 'default', senders: [], policy: 'any' });
    expect(await messageCount(api.store)).toBe(1);
  });

  test('senders.set is for operators and applies at once; a tenant reads only its own list', async () => {
    const { api, client } = await start();
    const spaAdmin = client('spaAdmin');
    const operator = client('operator');
    const refused = await failure(spaAdmin.senders.set.mutate({ tenantId: 'spa', senders: ['hotel.example'] }));
    expect(refused).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 });
    expect(refused.message).toContain('lacks the operator scope');
    expect(await failure(spaAdmin.senders.list.query({ tenantId: 'hotel' }))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await spaAdmin.senders.list.query()).toEqual({
      tenantId: 'spa',
      senders: ['bookings@partner.example', 'spa.example'],
      policy: 'listed',
    });

    // The spa's send key has its list cached now; the operator's change reaches it at once.
    expect(await failure(client('spaSend').mail.send.mutate(mail({ from: 'desk@spa-resort.example' })))).toMatchObject({
      code: 'SENDER_NOT_ALLOWED',
    });
    expect(await operator.senders.set.mutate({ tenantId: 'spa', senders: ['Spa-Resort.example'] })).toEqual({
      tenantId: 'spa',
      senders: ['spa-resort.example'],
      policy: 'listed',
    });
    expect((await client('spaSend').mail.send.mutate(mail({ from: 'desk@spa-resort.example' }))).status).toBe('queued');
    expect(await failure(client('spaSend').mail.send.mutate(mail({ from: 'desk@spa.example' })))).toMatchObject({
      code: 'SENDER_NOT_ALLOWED',
    });

    // The default tenant can be closed too.
    await operator.senders.set.mutate({ tenantId: 'default', senders: ['ops.example'] });
    expect(await failure(operator.mail.send.mutate(mail({ from: 'anyone@anywhere.example' })))).toMatchObject({
      code: 'SENDER_NOT_ALLOWED',
    });
    expect(await operator.senders.list.query({ tenantId: 'hotel' })).toMatchObject({ senders: ['hotel.example'] });

    const bad = await failure(operator.senders.set.mutate({ tenantId: 'spa', senders: ['spa.example', 'not a domain', '@x.example'] }));
    expect(bad).toMatchObject({ code: 'INVALID_INPUT', httpStatus: 400 });
    expect(bad.issues.map((issue) => issue.path)).toEqual(['senders.1', 'senders.2']);
    expect(await api.store.listSenders('spa')).toEqual(['spa-resort.example']);
  });

  test('mail.retry keeps back mail whose sender the tenant may no longer use, naming the sender', async () => {
    const { api, client } = await start();
    const kept = await client('spaSend').mail.send.mutate(mail({ from: 'desk@spa.example' }));
    const still = await client('spaSend').mail.send.mutate(mail({ from: 'bookings@partner.example' }));
    await work(api.store, { [kept.id]: 'failed', [still.id]: 'failed' });
    await client('operator').senders.set.mutate({ tenantId: 'spa', senders: ['bookings@partner.example'] });
    const report = await client('spaAdmin').mail.retry.mutate({ ids: [kept.id, still.id] });
    expect(report).toMatchObject({
      requeued: 1,
      requeuedIds: [still.id],
      keptBackCount: { sender_not_allowed: 1 },
      keptBack: [{ id: kept.id, reason: 'sender_not_allowed', sender: 'desk@spa.example' }],
    });
    expect((await api.store.getMessage(kept.id))?.status).toBe('failed');
  });
});
