import { createRouter } from '@mailroute/core';
import { createScriptedProvider } from '@mailroute/core/testing';
import { afterEach, expect, test } from 'vitest';
import { apiClient, failure } from './test/client.js';
import { mail, work } from './test/fixtures.js';
import { startTestApi, type TestApi } from './test/server.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function start(options: Parameters<typeof startTestApi>[0] = {}) {
  api = await startTestApi(options);
  const started = api;
  return { api: started, client: (who: keyof TestApi['keys']) => apiClient(started.url, started.keys[who].key) };
}

test('stats.overview counts the tenant’s mail by status, the queue depth and the age of the oldest unsent message', async () => {
  let now = Date.now();
  const { api, client } = await start({ now: () => now });
  const first = await client('hotelSend').mail.send.mutate(mail());
  const second = await client('hotelSend').mail.send.mutate(mail());
  await client('hotelSend').mail.send.mutate(mail({ sendAt: Date.now() + 3_600_000 }));
  await client('spaSend').mail.send.mutate(mail());
  await work(api.store, { [first.id]: 'sent', [second.id]: 'dead' });
  const third = await client('hotelSend').mail.send.mutate(mail());
  const acceptedAt = (await api.store.getMessage(third.id))?.createdAt ?? 0;
  now = acceptedAt + 90_000;
  const overview = await client('hotelRead').stats.overview.query();
  expect(overview).toMatchObject({ at: now, total: 4, queueDepth: 2, oldestUnsentAt: acceptedAt, oldestUnsentAgeMs: 90_000 });
  expect(overview.counts).toMatchObject({ sent: 1, dead: 1, queued: 1, scheduled: 1, failed: 0 });
  expect(Object.keys(overview.counts)).toContain('delivered');
  const spa = await client('spaSend').mail.send.mutate(mail());
  expect(spa.status).toBe('queued');
  expect(await apiClient(api.url, api.keys.spaAdmin.key).stats.overview.query()).toMatchObject({ total: 2, queueDepth: 2 });
});

test('an api-only process lists configured providers with their stored state; setState is stored and validated', async () => {
  const { client } = await start();
  const admin = client('operator');
  expect(await client('hotelRead').providers.list.query()).toEqual([
    { name: 'sendgrid', state: 'enabled' },
    { name: 'ses', state: 'enabled' },
    { name: 'smtp', state: 'enabled' },
  ]);
  const stored = await admin.providers.setState.mutate({ provider: 'sendgrid', state: 'disabled', note: 'incident 9' });
  expect(stored).toMatchObject({ provider: 'sendgrid', state: 'disabled', note: 'incident 9', updatedAt: expect.any(Number) });
  await admin.providers.setState.mutate({ provider: 'ses', state: 'drained' });
  const listed = await client('hotelRead').providers.list.query();
  expect(listed.map((provider) => [provider.name, provider.state, provider.note])).toEqual([
    ['sendgrid', 'disabled', 'incident 9'],
    ['ses', 'drained', undefined],
    ['smtp', 'enabled', undefined],
  ]);
  expect(await failure(admin.providers.setState.mutate({ provider: 'mailgun', state: 'disabled' }))).toEqual({
    code: 'INVALID_INPUT',
    httpStatus: 400,
    message: 'unknown provider mailgun',
    issues: [{ path: 'provider', message: 'not a configured provider; configured: sendgrid, ses, smtp' }],
  });
  expect(await failure(admin.providers.setState.mutate({ provider: 'ses', state: 'off' as 'enabled' }))).toMatchObject({
    code: 'INVALID_INPUT',
    issues: [{ path: 'state' }],
  });
});

test('providers.health joins the live breakers of this process with what the attempt log says', async () => {
  const router = createRouter({
    providers: [
      { provider: createScriptedProvider('sendgrid', { kind: 'accept' }, 'sendgrid') },
      { provider: createScriptedProvider('ses', { kind: 'accept' }, 'ses') },
    ],
  });
  try {
    router.setBreaker('sendgrid', 'open');
    const { api, client } = await start({ providerNames: () => router.providerNames(), liveProviders: () => router.health() });
    const sends = await Promise.all([1, 2, 3].map(() => client('hotelSend').mail.send.mutate(mail())));
    await work(api.store, { [sends[0]?.id ?? '']: 'sent', [sends[1]?.id ?? '']: 'sent', [sends[2]?.id ?? '']: 'failed' });
    const health = await client('hotelRead').providers.health.query({ windowMs: 60_000 });
    expect(health.windowMs).toBe(60_000);
    const [sendgrid, ses] = health.providers;
    expect(sendgrid).toMatchObject({ name: 'sendgrid', type: 'sendgrid', state: 'enabled', breaker: { state: 'open' } });
    // Three 503s from sendgrid: the provider's own words are there.
    expect(sendgrid?.recent).toMatchObject({
      attempts: 3,
      accepted: 0,
      failed: 3,
      successRate: 0,
      failedByCategory: { provider: 3 },
      latencyP95Ms: 12,
      lastError: { errorCode: 'PROVIDER_UNAVAILABLE', statusCode: 503, errorMessage: 'sendgrid answered 503' },
    });
    // The failed messages are the reader's own tenant's: nothing is withheld.
    expect(sendgrid?.recent.lastError).toMatchObject({
      error: { detail: { body: { errors: [{ message: 'Service temporarily unavailable' }] } } },
    });
    expect(sendgrid?.recent.lastError).not.toHaveProperty('withheld');
    expect(ses).toMatchObject({
      name: 'ses',
      type: 'ses',
      breaker: { state: 'closed' },
      recent: { attempts: 2, accepted: 2, successRate: 1, latencyAvgMs: 40 },
    });
    expect(ses?.recent.lastError).toBeUndefined();
    expect((await client('hotelRead').providers.health.query()).windowMs).toBe(15 * 60_000);
    expect(await failure(client('hotelRead').providers.health.query({ windowMs: 5 }))).toMatchObject({
      code: 'INVALID_INPUT',
      issues: [{ path: 'windowMs' }],
    });
  } finally {
    await router.close();
  }
});

test('suppressions.list names the provider event behind an entry a hard bounce added; a hand-added entry has none', async () => {
  const { api, client } = await start();
  const { id } = await client('hotelSend').mail.send.mutate(mail({ to: ['Gone@Example.org'] }));
  await work(api.store, { [id]: 'sent' });
  await client('hotelAdmin').suppressions.add.mutate({ address: 'manual@example.org', reason: 'asked by phone' });
  const report = await api.store.ingestEvents([
    {
      provider: 'ses',
      providerType: 'ses',
      providerEventId: `bounce-${id}`,
      type: 'bounced',
      bounce: 'hard',
      providerEventType: 'Bounce',
      occurredAt: Date.now(),
      recipient: 'gone@example.org',
      mailrouteId: id,
      reason: '550 5.1.1 user unknown',
      raw: { eventType: 'Bounce' },
    },
  ]);
  expect(report).toMatchObject({ stored: 1, applied: 1, suppressed: 1 });
  const [bounce] = (await client('hotelRead').mail.get.query({ id })).events;
  expect(bounce).toMatchObject({ type: 'bounced', providerEventId: `bounce-${id}` });
  const { items } = await client('hotelAdmin').suppressions.list.query();
  const byAddress = new Map(items.map((item) => [item.address, item]));
  expect(byAddress.get('gone@example.org')).toEqual({
    id: expect.any(String),
    tenantId: 'hotel',
    address: 'gone@example.org',
    reason: 'hard_bounce',
    source: 'webhook',
    eventId: bounce?.id,
    createdAt: expect.any(Number),
  });
  expect(byAddress.get('manual@example.org')).not.toHaveProperty('eventId');
});

test('suppressions: add, list with paging, remove; a bad address is refused at its field', async () => {
  const { client } = await start();
  const admin = client('hotelAdmin');
  const added = await admin.suppressions.add.mutate({ address: 'Bounce@Example.org', reason: 'hard bounce' });
  expect(added).toMatchObject({
    address: 'bounce@example.org',
    reason: 'hard bounce',
    tenantId: 'hotel',
    source: expect.stringContaining('API key mr_'),
  });
  for (const name of ['a', 'b', 'c']) await admin.suppressions.add.mutate({ address: `${name}@example.org`, reason: 'complaint' });
  const first = await admin.suppressions.list.query({ limit: 3 });
  expect(first.items).toHaveLength(3);
  const rest = await admin.suppressions.list.query({ limit: 3, ...(first.nextCursor ? { cursor: first.nextCursor } : {}) });
  expect([...first.items, ...rest.items].map((item) => item.address).sort()).toEqual([
    'a@example.org',
    'b@example.org',
    'bounce@example.org',
    'c@example.org',
  ]);
  expect((await admin.suppressions.list.query({ address: 'BOUNCE@example.org' })).items).toHaveLength(1);
  expect(await admin.suppressions.remove.mutate({ address: 'bounce@example.org' })).toEqual({ removed: true });
  expect(await admin.suppressions.remove.mutate({ address: 'bounce@example.org' })).toEqual({ removed: false });
  expect(await failure(admin.suppressions.add.mutate({ address: 'not-an-address', reason: 'x' }))).toMatchObject({
    code: 'INVALID_INPUT',
    httpStatus: 400,
    issues: [{ path: 'address', message: 'must be a valid e-mail address' }],
  });
});

test('keys: create shows the secret once and it works with its scopes; list and revoke', async () => {
  const { api, client } = await start();
  const admin = client('hotelAdmin');
  const created = await admin.keys.create.mutate({ name: 'booking app', scopes: ['send', 'read'] });
  expect(created).toMatchObject({ name: 'booking app', tenantId: 'hotel', scopes: ['send', 'read'], key: expect.stringMatching(/^mr_/) });
  const app = apiClient(api.url, created.key);
  const { id } = await app.mail.send.mutate(mail());
  expect((await app.mail.get.query({ id })).tenantId).toBe('hotel');
  expect(await failure(app.keys.list.query())).toMatchObject({ code: 'FORBIDDEN' });
  const listed = await admin.keys.list.query();
  expect(listed.find((key) => key.id === created.id)).toMatchObject({ name: 'booking app', prefix: created.prefix });
  expect(listed.find((key) => key.id === created.id)).not.toHaveProperty('key');
  expect(await admin.keys.revoke.mutate({ id: created.id })).toMatchObject({ id: created.id, revokedAt: expect.any(Number) });
  expect(await failure(app.mail.send.mutate(mail()))).toMatchObject({ code: 'UNAUTHENTICATED', httpStatus: 401 });
  expect(await failure(admin.keys.create.mutate({ name: 'x', scopes: [] }))).toMatchObject({
    code: 'INVALID_INPUT',
    issues: [{ path: 'scopes' }],
  });
  expect(await failure(admin.keys.create.mutate({ name: 'x', scopes: ['root' as 'admin'] }))).toMatchObject({
    code: 'INVALID_INPUT',
    issues: [{ path: 'scopes.0' }],
  });
  expect(await failure(admin.keys.revoke.mutate({ id: 'nope' }))).toMatchObject({ code: 'NOT_FOUND' });
});
