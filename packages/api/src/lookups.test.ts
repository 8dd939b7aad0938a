import { parseMessage } from '@mailroute/core';
import { createStore, type MailStore } from '@mailroute/store';
import { createSqliteFile } from '@mailroute/store/testing';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { createKeyCache, KEY_CACHE_MS } from './auth.js';
import { createSuppressionChecker } from './suppression-check.js';
import { mail } from './test/fixtures.js';

let store: MailStore;
let drop: () => Promise<void>;
beforeAll(async () => {
  const file = createSqliteFile();
  drop = file.drop;
  store = await createStore({ url: file.url });
});
afterAll(async () => {
  await store.close();
  await drop();
});

test('a checked key is trusted for a few seconds; revoked elsewhere it stops after that, forgotten here at once', async () => {
  const lookups = vi.spyOn(store, 'authenticateApiKey');
  const keys = createKeyCache(store);
  const created = await store.createApiKey({ name: 'app', scopes: ['send'] });
  expect((await keys.authenticate(created.key))?.id).toBe(created.id);
  expect((await keys.authenticate(created.key))?.id).toBe(created.id);
  expect(lookups).toHaveBeenCalledTimes(1);
  // Another process revokes it: this one notices when the entry runs out.
  await store.revokeApiKey(created.id);
  expect((await keys.authenticate(created.key))?.id).toBe(created.id);
  const now = performance.now();
  const clock = vi.spyOn(performance, 'now').mockReturnValue(now + KEY_CACHE_MS + 1);
  expect(await keys.authenticate(created.key)).toBeUndefined();
  clock.mockRestore();
  const other = await store.createApiKey({ name: 'other', scopes: ['read'] });
  expect(await keys.authenticate(other.key)).toBeDefined();
  keys.forget(other.id);
  await store.revokeApiKey(other.id);
  expect(await keys.authenticate(other.key)).toBeUndefined();
  expect(await keys.authenticate('mr_00000000_unknown')).toBeUndefined();
  lookups.mockRestore();
});

test('suppression checks made in one turn share one query per tenant, each answered with its own addresses', async () => {
  await store.addSuppression({ address: 'gone@example.org', reason: 'bounce', source: 'test', tenantId: 'hotel' });
  await store.addSuppression({ address: 'also-gone@example.org', reason: 'bounce', source: 'test', tenantId: 'spa' });
  const queries = vi.spyOn(store, 'suppressedAmong');
  const checker = createSuppressionChecker(store);
  const content = (to: string[]) => {
    const parsed = parseMessage(mail({ to }));
    if (!parsed.ok) throw new Error(parsed.error.message);
    return parsed.value;
  };
  const answers = await Promise.all([
    checker.suppressedRecipients([content(['Gone@Example.org'])], 'hotel'),
    checker.suppressedRecipients([content(['fine@example.org'])], 'hotel'),
    checker.suppressedRecipients([content(['gone@example.org', 'also-gone@example.org'])], 'spa'),
  ]);
  expect(answers.map((found) => [...found])).toEqual([['gone@example.org'], [], ['also-gone@example.org']]);
  expect(queries).toHaveBeenCalledTimes(2);
  queries.mockRestore();
});
