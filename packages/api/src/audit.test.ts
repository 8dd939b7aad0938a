import { afterEach, expect, test } from 'vitest';
import { apiClient, failure } from './test/client.js';
import { startTestApi, type TestApi } from './test/server.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

test('providers.setState is audited with the key that asked; providers.audit lists it newest first, by provider', async () => {
  api = await startTestApi();
  const admin = apiClient(api.url, api.keys.operator.key);
  await admin.providers.setState.mutate({ provider: 'sendgrid', state: 'drained', note: 'provider maintenance 02:00-03:00' });
  await admin.providers.setState.mutate({ provider: 'sendgrid', state: 'enabled', note: 'maintenance over' });
  await admin.providers.setState.mutate({ provider: 'ses', state: 'forced_open', note: 'status page says degraded' });

  const all = await admin.providers.audit.query();
  expect(all.map((entry) => `${entry.provider} ${entry.before.state}->${entry.after.state}`)).toEqual([
    'ses enabled->forced_open',
    'sendgrid drained->enabled',
    'sendgrid enabled->drained',
  ]);
  expect(all[1]).toMatchObject({
    actor: { keyId: api.keys.operator.id, keyName: 'operator' },
    note: 'maintenance over',
    before: { state: 'drained', note: 'provider maintenance 02:00-03:00' },
  });
  expect(await admin.providers.audit.query({ provider: 'sendgrid', limit: 1 })).toMatchObject([{ after: { state: 'enabled' } }]);
});

test('a refused change leaves no audit entry; the audit needs the operator scope', async () => {
  api = await startTestApi();
  const admin = apiClient(api.url, api.keys.operator.key);
  expect(await failure(admin.providers.setState.mutate({ provider: 'nope', state: 'drained', note: 'x' }))).toMatchObject({
    code: 'INVALID_INPUT',
  });
  expect(
    await failure(apiClient(api.url, api.keys.hotelRead.key).providers.setState.mutate({ provider: 'ses', state: 'drained' })),
  ).toMatchObject({
    code: 'FORBIDDEN',
  });
  expect(await admin.providers.audit.query()).toEqual([]);
  expect(await failure(apiClient(api.url, api.keys.hotelRead.key).providers.audit.query())).toMatchObject({ code: 'FORBIDDEN' });
});
