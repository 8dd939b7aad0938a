import { mailError } from '@mailroute/core';
import { providerStates } from '@mailroute/store';
import { postgresAvailable } from '@mailroute/store/testing';
import { afterEach, describe, expect, test } from 'vitest';
import { apiClient, failure } from './test/client.js';
import { mail } from './test/fixtures.js';
import { startTestApi, type TestApi } from './test/server.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

type Dialect = 'sqlite' | 'postgres';
const dialects: Dialect[] = postgresAvailable ? ['sqlite', 'postgres'] : ['sqlite'];

describe.each(dialects)('on %s', (dialect) => {
  /**
   * Hotel's message fails at sendgrid with the provider quoting the recipient, our message id and
   * its own message id in its words, as real providers do (a 550 naming the mailbox, a body
   * echoing the request). Spa's message fails at ses with words of its own.
   */
  async function failWithQuotes(started: TestApi) {
    const hotel = await apiClient(started.url, started.keys.hotelSend.key).mail.send.mutate(
      mail({ to: ['Secret.Guest@hotel-guests.example'] }),
    );
    const spa = await apiClient(started.url, started.keys.spaSend.key).mail.send.mutate(mail({ to: ['spa-guest@example.org'] }));
    await started.store.claim('test-worker', 10, 60_000);
    const now = Date.now();
    const failed = (id: string, provider: string, words: string, providerId: string) => ({
      kind: 'failed' as const,
      id,
      error: mailError('NO_PROVIDER', 'every provider failed'),
      attempts: [
        {
          messageId: id,
          provider,
          providerType: provider,
          startedAt: now,
          finishedAt: now + 5,
          latencyMs: 5,
          outcome: 'failed' as const,
          error: mailError('PROVIDER_UNAVAILABLE', words, {
            provider,
            detail: { status: 503, body: { errors: [{ message: words, field: 'personalizations.0.to', id: providerId }] } },
          }),
        },
      ],
    });
    await started.store.complete('test-worker', [
      failed(
        hotel.id,
        'sendgrid',
        `503 cannot deliver message ${hotel.id} (sg-hotel-4711) to <Secret.Guest@hotel-guests.example>`,
        'sg-hotel-4711',
      ),
      failed(spa.id, 'ses', `503 throttled while sending ${spa.id} to spa-guest@example.org`, 'ses-spa-0815'),
    ]);
    return { hotel, spa };
  }

  test("a tenant's key reads provider health and stats without another tenant's message ids or addresses; operators get every word", async () => {
    api = await startTestApi({ providerNames: () => ['sendgrid', 'ses'], dialect });
    const { hotel, spa } = await failWithQuotes(api);
    const hotelSecrets = [hotel.id, 'secret.guest', 'hotel-guests.example', 'sg-hotel-4711'];

    for (const who of ['spaRead', 'spaAdmin'] as const) {
      const spaKey = apiClient(api.url, api.keys[who].key);
      const answers = {
        health: await spaKey.providers.health.query(),
        healthHour: await spaKey.providers.health.query({ windowMs: 3_600_000 }),
        list: await spaKey.providers.list.query(),
        overview: await spaKey.stats.overview.query(),
      };
      const text = JSON.stringify(answers).toLowerCase();
      for (const secret of hotelSecrets) expect({ who, leaked: text.includes(secret.toLowerCase()) ? secret : undefined }).toEqual({ who });
      // What is left still judges the provider.
      const sendgrid = answers.health.providers.find((provider) => provider.name === 'sendgrid');
      expect(sendgrid?.lastError).toEqual({
        at: expect.any(Number),
        errorCode: 'PROVIDER_UNAVAILABLE',
        errorCategory: 'provider',
        statusCode: 503,
        withheld: true,
      });
      expect(sendgrid?.recent.lastError).toMatchObject({ errorCode: 'PROVIDER_UNAVAILABLE', statusCode: 503, withheld: true });
      // Its own failure it sees whole.
      const ses = answers.health.providers.find((provider) => provider.name === 'ses');
      expect(ses?.lastError).toMatchObject({ messageId: spa.id, errorMessage: expect.stringContaining('spa-guest@example.org') });
      expect(ses?.lastError).not.toHaveProperty('withheld');
    }

    // Hotel's own reader sees hotel's failure whole, and not spa's.
    const hotelView = await apiClient(api.url, api.keys.hotelRead.key).providers.health.query();
    expect(hotelView.providers.find((provider) => provider.name === 'sendgrid')?.lastError).toMatchObject({
      messageId: hotel.id,
      errorMessage: expect.stringContaining('Secret.Guest@hotel-guests.example'),
    });
    expect(JSON.stringify(hotelView)).not.toContain(spa.id);

    const operatorView = await apiClient(api.url, api.keys.operator.key).providers.health.query();
    expect(operatorView.view).toBe('operator');
    const operatorText = JSON.stringify(operatorView);
    for (const secret of [hotel.id, spa.id, 'Secret.Guest@hotel-guests.example', 'sg-hotel-4711']) expect(operatorText).toContain(secret);
  });

  test("a tenant's admin key cannot change a provider's state: FORBIDDEN naming operator, and nothing is stored", async () => {
    api = await startTestApi({ dialect });
    for (const who of ['hotelAdmin', 'spaAdmin'] as const) {
      for (const state of providerStates) {
        const refused = await failure(apiClient(api.url, api.keys[who].key).providers.setState.mutate({ provider: 'sendgrid', state }));
        expect({ who, state, code: refused.code, httpStatus: refused.httpStatus }).toEqual({
          who,
          state,
          code: 'FORBIDDEN',
          httpStatus: 403,
        });
        expect(refused.message).toContain('lacks the operator scope');
      }
    }
    expect(await api.store.listProviderStates()).toEqual([]);
    const operator = apiClient(api.url, api.keys.operator.key);
    expect(await operator.providers.setState.mutate({ provider: 'sendgrid', state: 'drained', note: 'maintenance' })).toMatchObject({
      provider: 'sendgrid',
      state: 'drained',
    });
    expect((await apiClient(api.url, api.keys.hotelRead.key).providers.list.query())[0]).toMatchObject({
      name: 'sendgrid',
      state: 'drained',
    });
  });

  test('only an operator key makes operator keys or keys of another tenant, lists every tenant’s keys and revokes an operator key', async () => {
    api = await startTestApi({ dialect });
    const hotelAdmin = apiClient(api.url, api.keys.hotelAdmin.key);
    const operator = apiClient(api.url, api.keys.operator.key);
    const before = (await api.store.listApiKeys()).length;

    const refusals = [
      await failure(hotelAdmin.keys.create.mutate({ name: 'root', scopes: ['operator'] })),
      await failure(hotelAdmin.keys.create.mutate({ name: 'spa app', scopes: ['send'], tenantId: 'spa' })),
      await failure(hotelAdmin.keys.list.query({ tenantId: 'spa' })),
      await failure(hotelAdmin.keys.list.query({ allTenants: true })),
      await failure(hotelAdmin.keys.revoke.mutate({ id: api.keys.spaSend.id })),
    ];
    expect(refusals.map((refused) => refused.code)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'NOT_FOUND']);
    for (const refused of refusals.slice(0, 4)) expect(refused.message).toContain('lacks the operator scope');
    expect((await api.store.listApiKeys()).length).toBe(before);

    // Its own tenant's ordinary keys a tenant admin still makes.
    expect(await hotelAdmin.keys.create.mutate({ name: 'hotel app 2', scopes: ['send'], tenantId: 'hotel' })).toMatchObject({
      tenantId: 'hotel',
    });

    const spaKey = await operator.keys.create.mutate({ name: 'spa app 2', scopes: ['send', 'read'], tenantId: 'spa' });
    expect(spaKey).toMatchObject({ tenantId: 'spa', scopes: ['send', 'read'] });
    expect((await apiClient(api.url, spaKey.key).mail.send.mutate(mail())).status).toBe('queued');
    const hotelOperator = await operator.keys.create.mutate({ name: 'hotel ops', scopes: ['operator'], tenantId: 'hotel' });
    expect((await operator.keys.list.query({ tenantId: 'spa' })).map((key) => key.name)).toContain('spa app 2');
    expect(new Set((await operator.keys.list.query({ allTenants: true })).map((key) => key.tenantId))).toEqual(
      new Set(['hotel', 'spa', 'default']),
    );

    const refusedRevoke = await failure(hotelAdmin.keys.revoke.mutate({ id: hotelOperator.id }));
    expect(refusedRevoke).toMatchObject({ code: 'FORBIDDEN' });
    expect(refusedRevoke.message).toContain('lacks the operator scope');
    expect(await operator.keys.revoke.mutate({ id: spaKey.id })).toMatchObject({ id: spaKey.id, revokedAt: expect.any(Number) });
    expect(await operator.keys.revoke.mutate({ id: hotelOperator.id })).toMatchObject({ revokedAt: expect.any(Number) });
    expect(await failure(apiClient(api.url, spaKey.key).mail.send.mutate(mail()))).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  test('an operator key alone does the quick start in its own tenant: send, read, create keys, see providers', async () => {
    api = await startTestApi({ dialect });
    const operator = apiClient(api.url, api.keys.operator.key);
    const { id } = await operator.mail.send.mutate(mail({ from: 'anyone@anywhere.example' }));
    expect(await operator.mail.get.query({ id })).toMatchObject({ tenantId: 'default', status: 'queued' });
    expect((await operator.keys.create.mutate({ name: 'app', scopes: ['send'] })).tenantId).toBe('default');
    expect((await operator.providers.health.query()).providers.map((provider) => provider.name)).toEqual(['sendgrid', 'ses', 'smtp']);
    expect(await operator.suppressions.list.query()).toMatchObject({ items: [] });
  });
});
