import { expect, test } from 'vitest';
import { isStoreError } from './errors.js';
import { forEachDatabase } from './test/databases.js';

forEachDatabase('suppressions and API keys', (database) => {
  test('suppressions are per tenant, case-insensitive, idempotent and removable', async () => {
    const store = await database.open();
    const first = await store.addSuppression({ address: 'Guest@Example.org', reason: 'hard bounce', source: 'sendgrid:evt-1' });
    const again = await store.addSuppression({ address: 'guest@example.org', reason: 'complaint', source: 'ses:evt-2' });
    expect(again.id).toBe(first.id);
    expect(again.reason).toBe('hard bounce');
    await store.addSuppression({ address: 'other@example.org', reason: 'manual', source: 'operator', tenantId: 'acme' });

    expect(await store.suppressedAmong(['GUEST@example.org', 'clean@example.org', 'other@example.org'])).toEqual(
      new Set(['guest@example.org']),
    );
    expect(await store.suppressedAmong(['other@example.org'], { tenantId: 'acme' })).toEqual(new Set(['other@example.org']));
    expect((await store.listSuppressions()).items.map((item) => item.address)).toEqual(['guest@example.org']);

    expect(await store.removeSuppression('GUEST@example.org')).toBe(true);
    expect(await store.removeSuppression('guest@example.org')).toBe(false);
    expect(await store.suppressedAmong(['guest@example.org'])).toEqual(new Set());
  });

  test('one suppression check answers for up to 10,000 addresses, quotes and all', async () => {
    const store = await database.open();
    await store.addSuppression({ address: "o'brien@example.org", reason: 'complaint', source: 'operator' });
    await store.addSuppression({ address: 'guest9999@example.org', reason: 'hard bounce', source: 'operator' });
    const addresses = Array.from({ length: 9_998 }, (_, i) => `guest${i + 2}@example.org`);
    expect(await store.suppressedAmong([...addresses, "O'Brien@example.org", 'x"y@example.org'])).toEqual(
      new Set(["o'brien@example.org", 'guest9999@example.org']),
    );
    await expect(store.suppressedAmong([...addresses, 'a@example.org', 'b@example.org', 'c@example.org'])).rejects.toThrow(/10000/);
  });

  test('a bad suppression entry is refused with the field named and nothing stored', async () => {
    const store = await database.open();
    await expect(store.addSuppression({ address: 'not-an-address', reason: 'x', source: 'y' })).rejects.toThrow(/address/);
    expect((await store.listSuppressions()).items).toHaveLength(0);
  });

  test('API keys are shown once, stored hashed, authenticate until revoked', async () => {
    const store = await database.open();
    const created = await store.createApiKey({ name: 'booking app', scopes: ['send', 'read', 'send'] });
    expect(created.key).toMatch(/^mr_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created.scopes).toEqual(['send', 'read']);

    const stored = await database.query<{ hash: string }>('SELECT hash FROM api_key');
    expect(stored[0]?.hash).not.toContain(created.key.slice(12));
    expect(JSON.stringify(await store.listApiKeys())).not.toContain(created.key);

    expect((await store.authenticateApiKey(created.key))?.id).toBe(created.id);
    expect(await store.authenticateApiKey(`${created.key}x`)).toBeUndefined();
    expect(await store.authenticateApiKey('garbage')).toBeUndefined();
    expect((await store.listApiKeys())[0]?.lastUsedAt).toBeDefined();

    const revoked = await store.revokeApiKey(created.id);
    expect(revoked.revokedAt).toBeDefined();
    expect(await store.authenticateApiKey(created.key)).toBeUndefined();
    expect(await store.countApiKeys()).toBe(0);
  });

  test('senders per tenant: replaced whole, lower-cased, sorted, deduplicated; an empty list removes them', async () => {
    const store = await database.open();
    expect(await store.setSenders('hotel', ['Hotel.Example', 'desk@Spa.Example', 'hotel.example'])).toEqual([
      'desk@spa.example',
      'hotel.example',
    ]);
    await store.setSenders('spa', ['spa.example']);
    expect(await store.listSenders('hotel')).toEqual(['desk@spa.example', 'hotel.example']);
    expect(await store.setSenders('hotel', ['news.hotel.example'])).toEqual(['news.hotel.example']);
    expect(await store.listAllSenders()).toEqual([
      { tenantId: 'hotel', senders: ['news.hotel.example'] },
      { tenantId: 'spa', senders: ['spa.example'] },
    ]);
    expect(await store.setSenders('hotel', [])).toEqual([]);
    expect(await store.listSenders('hotel')).toEqual([]);
  });

  test('a bad sender refuses the whole list with its index named and changes nothing', async () => {
    const store = await database.open();
    await store.setSenders('hotel', ['hotel.example']);
    const error = await store.setSenders('hotel', ['spa.example', 'not a domain', '@hotel.example']).catch((caught: unknown) => caught);
    expect(isStoreError(error) && error.code).toBe('INVALID_INPUT');
    expect(isStoreError(error) && error.details?.issues).toEqual([
      { path: 'senders.1', message: expect.stringContaining('domain') },
      { path: 'senders.2', message: expect.stringContaining('domain') },
    ]);
    expect(await store.listSenders('hotel')).toEqual(['hotel.example']);
  });

  test('API key input is validated and unknown ids are reported', async () => {
    const store = await database.open();
    await expect(store.createApiKey({ name: '', scopes: [] })).rejects.toThrow(/name|scopes/);
    const error = await store.revokeApiKey('nope').catch((caught: unknown) => caught);
    expect(isStoreError(error) && error.code).toBe('NOT_FOUND');
    expect(await store.listApiKeys()).toHaveLength(0);
  });
});
