import { afterEach, expect, test } from 'vitest';
import { apiClient, failure } from './test/client.js';
import { mail, work } from './test/fixtures.js';
import { startTestApi, type TestApi } from './test/server.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

test('mail.search answers the query language within the tenant, newest first, in keyset pages without bodies', async () => {
  api = await startTestApi();
  const hotel = apiClient(api.url, api.keys.hotelAdmin.key);
  const dead = await hotel.mail.send.mutate(mail({ to: ['guest@example.org'], subject: 'Booking 1', tags: ['booking'] }));
  const sent = await hotel.mail.send.mutate(mail({ to: ['guest@example.org'], subject: 'Booking 2', tags: ['booking'] }));
  const failed = await hotel.mail.send.mutate(mail({ subject: 'Invoice' }));
  await apiClient(api.url, api.keys.spaAdmin.key).mail.send.mutate(mail({ to: ['guest@example.org'], subject: 'Booking spa' }));
  await work(api.store, { [dead.id]: 'dead', [sent.id]: 'sent', [failed.id]: 'failed' });

  const reader = apiClient(api.url, api.keys.hotelRead.key);
  const ids = async (q: string) => (await reader.mail.search.query({ q })).items.map((item) => item.id);
  expect(await ids('to:guest@example.org')).toEqual([sent.id, dead.id]);
  expect(await ids('status:dead')).toEqual([dead.id]);
  expect(await ids('provider:sendgrid -status:sent')).toEqual([failed.id]);
  expect(await ids('provider:ses')).toEqual([sent.id]);
  expect(await ids('booking -tag:nothing')).toEqual([sent.id, dead.id]);
  expect(await ids('')).toEqual([failed.id, sent.id, dead.id]);

  const first = await reader.mail.search.query({ q: 'tag:booking', limit: 1 });
  expect(first.items.map((item) => item.id)).toEqual([sent.id]);
  expect(first.items[0]).not.toHaveProperty('text');
  const second = await reader.mail.search.query({ q: 'tag:booking', limit: 1, cursor: first.nextCursor ?? '' });
  expect(second.items.map((item) => item.id)).toEqual([dead.id]);
  expect(second.nextCursor).toBeUndefined();
});

test('a query that cannot be read is INVALID_INPUT at q and names the valid prefixes', async () => {
  api = await startTestApi();
  const reader = apiClient(api.url, api.keys.hotelRead.key);
  const refused = await failure(reader.mail.search.query({ q: 'recipient:guest@example.org' }));
  expect(refused).toMatchObject({ code: 'INVALID_INPUT', httpStatus: 400 });
  expect(refused.message).toContain('valid prefixes: to: from: subject: status: provider: tag: key: id: before: after:');
  expect(refused.issues).toEqual([{ path: 'q', message: expect.stringContaining('unknown search prefix "recipient:"') }]);
  expect(await failure(reader.mail.search.query({ q: 'status:lost' }))).toMatchObject({ code: 'INVALID_INPUT' });
  expect(await failure(apiClient(api.url, api.keys.hotelSend.key).mail.search.query({ q: '' }))).toMatchObject({ code: 'FORBIDDEN' });
});

test('mail.export takes the same query with q, and refuses q together with filter fields', async () => {
  api = await startTestApi();
  const hotel = apiClient(api.url, api.keys.hotelAdmin.key);
  const a = await hotel.mail.send.mutate(mail({ subject: 'Welcome', tags: ['welcome'] }));
  await hotel.mail.send.mutate(mail({ subject: 'Other' }));
  const page = await hotel.mail.export.query({ q: 'tag:welcome', format: 'json' });
  expect(page).toMatchObject({ format: 'json', count: 1, rows: [{ id: a.id, subject: 'Welcome' }] });
  expect(await failure(hotel.mail.export.query({ q: 'tag:welcome', status: 'queued' }))).toMatchObject({ code: 'INVALID_INPUT' });
});
