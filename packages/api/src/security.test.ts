import { afterAll, beforeAll, expect, test } from 'vitest';
import { apiClient, type Failure, failure } from './test/client.js';
import { mail, messageCount } from './test/fixtures.js';
import { startTestApi, type TestApi } from './test/server.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

type Client = ReturnType<typeof apiClient>;
const client = (who: keyof TestApi['keys']) => apiClient(api.url, api.keys[who].key);

/** One call of every procedure, with valid input. */
const calls: Record<string, (c: Client) => Promise<unknown>> = {
  'mail.send': (c) => c.mail.send.mutate(mail()),
  'mail.sendBatch': (c) => c.mail.sendBatch.mutate({ messages: [mail()] }),
  'mail.cancel': (c) => c.mail.cancel.mutate({ id: 'x' }),
  'mail.get': (c) => c.mail.get.query({ id: 'x' }),
  'mail.list': (c) => c.mail.list.query({}),
  'stats.overview': (c) => c.stats.overview.query(),
  'providers.list': (c) => c.providers.list.query(),
  'providers.health': (c) => c.providers.health.query(),
  'mail.retry': (c) => c.mail.retry.mutate({ filter: {}, dryRun: true }),
  'providers.setState': (c) => c.providers.setState.mutate({ provider: 'ses', state: 'enabled' }),
  'suppressions.list': (c) => c.suppressions.list.query(),
  'suppressions.add': (c) => c.suppressions.add.mutate({ address: 'x@example.org', reason: 'test' }),
  'suppressions.remove': (c) => c.suppressions.remove.mutate({ address: 'x@example.org' }),
  'keys.create': (c) => c.keys.create.mutate({ name: 'k', scopes: ['read'] }),
  'keys.list': (c) => c.keys.list.query(),
  'keys.revoke': (c) => c.keys.revoke.mutate({ id: 'x' }),
  'alerts.list': (c) => c.alerts.list.query(),
  'senders.list': (c) => c.senders.list.query(),
  'senders.set': (c) => c.senders.set.mutate({ tenantId: 'hotel', senders: ['hotel.example'] }),
};
const needs: Record<string, 'send' | 'read' | 'admin' | 'operator'> = {
  'providers.setState': 'operator',
  'alerts.list': 'operator',
  'senders.set': 'operator',
  'senders.list': 'read',
  'mail.send': 'send',
  'mail.sendBatch': 'send',
  'mail.cancel': 'send',
  'mail.get': 'read',
  'mail.list': 'read',
  'stats.overview': 'read',
  'providers.list': 'read',
  'providers.health': 'read',
};

async function rawStatus(authorization: string | undefined): Promise<number> {
  const response = await fetch(`${api.url}/stats.overview`, { headers: authorization === undefined ? {} : { authorization } });
  await response.arrayBuffer();
  return response.status;
}

test('a missing, malformed, unknown or revoked key is 401 UNAUTHENTICATED on every procedure, and nothing is stored', async () => {
  const revoked = await api.store.createApiKey({ name: 'old', scopes: ['admin'], tenantId: 'hotel' });
  expect((await apiClient(api.url, revoked.key).stats.overview.query()).total).toBe(0);
  await client('hotelAdmin').keys.revoke.mutate({ id: revoked.id });
  const before = await messageCount(api.store);
  const callers: Record<string, Client> = {
    missing: apiClient(api.url, undefined),
    unknown: apiClient(api.url, 'mr_00000000_notarealkeynotarealkeynotarealkeynotarealkey00'),
    garbage: apiClient(api.url, 'hunter2'),
    revoked: apiClient(api.url, revoked.key),
  };
  for (const [who, caller] of Object.entries(callers)) {
    for (const [name, call] of Object.entries(calls)) {
      const refused = await failure(call(caller));
      expect({ who, name, code: refused.code, httpStatus: refused.httpStatus }).toEqual({
        who,
        name,
        code: 'UNAUTHENTICATED',
        httpStatus: 401,
      });
    }
  }
  expect(await rawStatus(undefined)).toBe(401);
  expect(await rawStatus(`Basic ${Buffer.from('user:pass').toString('base64')}`)).toBe(401);
  expect(await rawStatus(`Bearer ${revoked.key}`)).toBe(401);
  expect(await rawStatus(`bearer ${api.keys.hotelRead.key}`)).toBe(200);
  expect(await messageCount(api.store)).toBe(before);
});

test('without a key, bad input is still 401: validation is not shown to strangers', async () => {
  const refused = await failure(apiClient(api.url, undefined).mail.send.mutate({ from: 'nope' } as never));
  expect(refused).toMatchObject({ code: 'UNAUTHENTICATED', issues: [] });
});

test('a key without the scope is 403 FORBIDDEN naming it; admin implies send and read, operator implies admin', async () => {
  const keys = { send: client('hotelSend'), read: client('hotelRead'), admin: client('hotelAdmin') };
  const grants: Record<keyof typeof keys, readonly string[]> = { send: ['send'], read: ['read'], admin: ['send', 'read', 'admin'] };
  for (const [name, call] of Object.entries(calls)) {
    const needed = needs[name] ?? 'admin';
    for (const [scope, caller] of Object.entries(keys)) {
      if (grants[scope as keyof typeof keys].includes(needed)) continue;
      const refused: Failure = await failure(call(caller));
      expect({ name, scope, code: refused.code, httpStatus: refused.httpStatus }).toEqual({
        name,
        scope,
        code: 'FORBIDDEN',
        httpStatus: 403,
      });
      expect(refused.message).toContain(`lacks the ${needed} scope`);
    }
  }
  for (const who of ['hotelAdmin', 'operator'] as const) {
    const admin = client(who);
    const { id } = await admin.mail.send.mutate(mail());
    expect((await admin.mail.get.query({ id })).status).toBe('queued');
    expect(await admin.stats.overview.query()).toMatchObject({ total: 1 });
    await admin.mail.cancel.mutate({ id });
  }
});

test('one tenant never sees, lists, cancels, retries or counts another tenant’s mail', async () => {
  const hotel = await client('hotelSend').mail.send.mutate(mail({ tags: ['private'], sendAt: Date.now() + 3_600_000 }));
  const spa = client('spaAdmin');
  const missing = await failure(spa.mail.get.query({ id: '01900000-0000-7000-8000-000000000000' }));
  const foreign = await failure(spa.mail.get.query({ id: hotel.id }));
  // Not FORBIDDEN: the answer must not tell that the id exists.
  expect(foreign).toEqual({ ...missing, message: missing.message.replace('01900000-0000-7000-8000-000000000000', hotel.id) });
  expect(foreign).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });
  expect((await spa.mail.list.query({ tag: 'private' })).items).toEqual([]);
  expect((await spa.mail.list.query({})).items.map((item) => item.id)).not.toContain(hotel.id);
  expect(await failure(spa.mail.cancel.mutate({ id: hotel.id }))).toMatchObject({ code: 'NOT_FOUND' });
  expect(await failure(spa.mail.retry.mutate({ ids: [hotel.id] }))).toMatchObject({ code: 'NOT_FOUND' });
  expect((await spa.stats.overview.query()).counts.scheduled).toBe(0);
  expect((await api.store.getMessage(hotel.id))?.status).toBe('scheduled');
  expect((await client('hotelRead').stats.overview.query()).counts.scheduled).toBeGreaterThanOrEqual(1);
});

test('a key manages only its own tenant’s keys and suppressions', async () => {
  const spa = client('spaAdmin');
  expect((await spa.keys.list.query()).map((key) => key.name).sort()).toEqual(['spa admin', 'spa app', 'spa dashboard']);
  const refused = await failure(spa.keys.revoke.mutate({ id: api.keys.hotelSend.id }));
  expect(refused).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });
  expect((await client('hotelSend').mail.send.mutate(mail())).status).toBe('queued');
  await client('hotelAdmin').suppressions.add.mutate({ address: 'hotel-only@example.org', reason: 'complaint' });
  expect((await spa.suppressions.list.query()).items).toEqual([]);
  expect(await spa.suppressions.remove.mutate({ address: 'hotel-only@example.org' })).toEqual({ removed: false });
  expect((await client('hotelAdmin').suppressions.list.query()).items.map((item) => item.address)).toEqual(['hotel-only@example.org']);
  // The key listing never carries a secret or its hash.
  expect(JSON.stringify(await client('hotelAdmin').keys.list.query())).not.toMatch(/"key"|hash|mr_[0-9a-f]{8}_/);
});
