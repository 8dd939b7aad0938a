import { createRouter } from '@mailroute/core';
import { createScriptedProvider } from '@mailroute/core/testing';
import { afterEach, expect, test } from 'vitest';
import { apiClient } from './test/client.js';
import { startTestApi, type TestApi } from './test/server.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

test('forced_open is stored with its reason; a process whose breaker is forced says so in providers.list', async () => {
  const router = createRouter({
    providers: [
      { provider: createScriptedProvider('sendgrid', { kind: 'accept' }, 'sendgrid') },
      { provider: createScriptedProvider('ses', { kind: 'accept' }, 'ses') },
    ],
  });
  try {
    api = await startTestApi({ providerNames: () => router.providerNames(), liveProviders: () => router.health() });
    const admin = apiClient(api.url, api.keys.operator.key);
    const stored = await admin.providers.setState.mutate({ provider: 'sendgrid', state: 'forced_open', note: 'status page: outage' });
    expect(stored).toMatchObject({ provider: 'sendgrid', state: 'forced_open', note: 'status page: outage' });
    // The worker's override watcher does this in each process (apps/server); here the test plays it.
    router.setBreaker('sendgrid', 'open');
    const [sendgrid, ses] = await apiClient(api.url, api.keys.hotelRead.key).providers.list.query();
    expect(sendgrid).toMatchObject({
      name: 'sendgrid',
      state: 'forced_open',
      note: 'status page: outage',
      breaker: { state: 'open', forced: true },
    });
    expect(ses).toMatchObject({ name: 'ses', state: 'enabled', breaker: { state: 'closed' } });
    expect(ses?.breaker).not.toHaveProperty('forced');
  } finally {
    await router.close();
  }
});
