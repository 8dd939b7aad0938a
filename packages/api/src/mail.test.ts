import { afterEach, beforeEach, expect, test } from 'vitest';
import { apiClient, failure } from './test/client.js';
import { mail, messageCount, work } from './test/fixtures.js';
import { startTestApi, type TestApi } from './test/server.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(() => api.close());

const client = (who: keyof TestApi['keys']) => apiClient(api.url, api.keys[who].key);

test('send stores the message under the key tenant before answering; scheduled mail says so', async () => {
  const sent = await client('hotelSend').mail.send.mutate(mail({ tags: ['booking'] }));
  expect(sent).toEqual({ id: expect.any(String), status: 'queued', duplicate: false });
  // The answer came after the commit: the row is there for anyone who looks now.
  expect(await api.store.getMessage(sent.id)).toMatchObject({ tenantId: 'hotel', status: 'queued', tags: ['booking'] });
  const later = await client('hotelSend').mail.send.mutate(mail({ sendAt: new Date(Date.now() + 3_600_000).toISOString() }));
  expect(later.status).toBe('scheduled');
});

test('the idempotency key answers the first message again, per tenant', async () => {
  const booking = mail({ idempotencyKey: 'booking-42' });
  const first = await client('hotelSend').mail.send.mutate(booking);
  const again = await client('hotelSend').mail.send.mutate(booking);
  expect(again).toEqual({ id: first.id, status: 'queued', duplicate: true });
  const otherTenant = await client('spaSend').mail.send.mutate(mail({ idempotencyKey: 'booking-42' }));
  expect(otherTenant.duplicate).toBe(false);
  expect(otherTenant.id).not.toBe(first.id);
});

test('the same idempotency key with other content is refused with 409 IDEMPOTENCY_CONFLICT naming the original', async () => {
  const booking = mail({ idempotencyKey: 'booking-43' });
  const first = await client('hotelSend').mail.send.mutate(booking);
  const before = await messageCount(api.store);
  const message = `idempotency key "booking-43" was used for message ${first.id} with different content`;
  expect(await failure(client('hotelSend').mail.send.mutate({ ...booking, subject: 'Booking 43 changed' }))).toEqual({
    code: 'IDEMPOTENCY_CONFLICT',
    httpStatus: 409,
    message,
    issues: [{ path: 'idempotencyKey', message }],
  });
  const results = await client('hotelSend').mail.sendBatch.mutate({
    messages: [booking, { ...booking, text: 'Other text.' }, mail({ idempotencyKey: 'booking-44' })],
  });
  expect(results.map((result) => (result.ok ? (result.duplicate ? 'duplicate' : 'new') : result.error.code))).toEqual([
    'duplicate',
    'IDEMPOTENCY_CONFLICT',
    'new',
  ]);
  expect(results[1]).toMatchObject({ ok: false, error: { message } });
  expect(await messageCount(api.store)).toBe(before + 1);
});

test('send refuses suppressed recipients, naming each, and stores nothing; the list is per tenant', async () => {
  await client('hotelAdmin').suppressions.add.mutate({ address: 'Gone@Example.org', reason: 'hard bounce' });
  const before = await messageCount(api.store);
  const refused = await failure(client('hotelSend').mail.send.mutate(mail({ cc: ['someone@example.org', 'gone@example.ORG'] })));
  expect(refused).toEqual({
    code: 'RECIPIENT_SUPPRESSED',
    httpStatus: 400,
    message: 'recipients on the suppression list: gone@example.ORG',
    issues: [{ path: 'cc.1.email', message: 'gone@example.ORG is on the suppression list' }],
  });
  expect(await messageCount(api.store)).toBe(before);
  expect((await client('spaSend').mail.send.mutate(mail({ to: ['gone@example.org'] }))).status).toBe('queued');
});

test('sendBatch answers one result per message in order and stores the valid ones in one transaction', async () => {
  await client('hotelAdmin').suppressions.add.mutate({ address: 'blocked@example.org', reason: 'complaint' });
  const before = { count: await messageCount(api.store), transactions: api.store.stats().groupCommit.transactions };
  const batchDuplicate = mail({ idempotencyKey: 'batch-dup' });
  const results = await client('hotelSend').mail.sendBatch.mutate({
    messages: [
      mail(),
      mail({ from: 'not an address' }),
      batchDuplicate,
      mail({ to: ['blocked@example.org'] }),
      mail({ subject: 'Hello\r\nBcc: victim@example.org' }),
      batchDuplicate,
      mail({ colour: 'red' }),
      mail({ text: 'nul \u0000 byte' }),
    ],
  });
  expect(results).toHaveLength(8);
  expect(results.map((result) => (result.ok ? 'ok' : result.error.code))).toEqual([
    'ok',
    'INVALID_MESSAGE',
    'ok',
    'RECIPIENT_SUPPRESSED',
    'INVALID_MESSAGE',
    'ok',
    'INVALID_MESSAGE',
    'INVALID_INPUT',
  ]);
  expect(results[7]).toMatchObject({ ok: false, error: { issues: [{ path: 'text', message: 'must not contain NUL characters' }] } });
  expect(results[1]).toEqual({
    ok: false,
    error: {
      code: 'INVALID_MESSAGE',
      message: 'from.email: must be a valid e-mail address',
      issues: [{ path: 'from.email', message: 'must be a valid e-mail address' }],
    },
  });
  expect(results[3]).toMatchObject({ ok: false, error: { issues: [{ path: 'to.0.email' }] } });
  expect(results[4]).toMatchObject({
    ok: false,
    error: { issues: [{ path: 'subject', message: expect.stringContaining('line breaks') }] },
  });
  expect(results[6]).toMatchObject({ ok: false, error: { issues: [{ path: 'colour', message: 'unknown field' }] } });
  const [first, , dup1, , , dup2] = results;
  expect(first).toMatchObject({ ok: true, status: 'queued', duplicate: false });
  expect(dup2).toEqual({ ...dup1, duplicate: true });
  expect(await messageCount(api.store)).toBe(before.count + 2);
  expect(api.store.stats().groupCommit.transactions).toBe(before.transactions + 1);
});

test('sendBatch takes 1,000 messages and refuses 1,001 whole', async () => {
  const before = await messageCount(api.store);
  const thousand = Array.from({ length: 1000 }, () => mail());
  const results = await client('hotelSend').mail.sendBatch.mutate({ messages: thousand });
  expect(results.filter((result) => result.ok)).toHaveLength(1000);
  const tooMany = await failure(client('hotelSend').mail.sendBatch.mutate({ messages: [...thousand, mail()] }));
  expect(tooMany).toMatchObject({ code: 'INVALID_INPUT', httpStatus: 400, issues: [{ path: 'messages' }] });
  expect(await messageCount(api.store)).toBe(before + 1000);
});

test('get answers the message with its attempts, status changes and a timeline merging both', async () => {
  const { id } = await client('hotelSend').mail.send.mutate(mail());
  await work(api.store, { [id]: 'sent' });
  const detail = await client('hotelRead').mail.get.query({ id });
  expect(detail).toMatchObject({
    id,
    status: 'sent',
    provider: 'ses',
    providerMessageId: `ses-${id}`,
    message: { subject: expect.any(String) },
  });
  expect(detail.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.statusCode])).toEqual([
    ['sendgrid', 'failed', 503],
    ['ses', 'accepted', undefined],
  ]);
  // The provider's own words are kept for the operator.
  expect(detail.attempts[0]?.error?.detail?.body).toEqual({ errors: [{ message: 'Service temporarily unavailable' }] });
  expect(detail.timeline.map((entry) => (entry.kind === 'status' ? `status ${entry.to}` : `attempt ${entry.provider}`))).toEqual([
    'status queued',
    'status sending',
    'attempt sendgrid',
    'attempt ses',
    'status sent',
  ]);
  expect(detail.timeline[2]).toMatchObject({ summary: 'PROVIDER_UNAVAILABLE (503) in 12 ms: sendgrid answered 503' });
  expect(detail.timeline[3]).toMatchObject({ summary: `accepted as ses-${id} in 40 ms` });
  expect(await failure(client('hotelRead').mail.get.query({ id: '01900000-0000-7000-8000-000000000000' }))).toMatchObject({
    code: 'NOT_FOUND',
    httpStatus: 404,
  });
});

test("get's timeline places the provider's events in time order, with recipient, reason and the attempt that produced them", async () => {
  const { id } = await client('hotelSend').mail.send.mutate(mail({ to: ['Guest@Example.org'] }));
  await work(api.store, { [id]: 'sent' });
  const sent = await api.store.getMessage(id);
  const accepted = sent?.attempts.find((attempt) => attempt.outcome === 'accepted');
  const sentAt = sent?.sentAt ?? 0;
  const sesEvent = (type: 'deferred' | 'delivered' | 'opened', offsetMs: number, extra: { reason?: string } = {}) => ({
    provider: 'ses',
    providerType: 'ses',
    providerEventId: `ses-${type}-${id}`,
    type,
    providerEventType: type === 'deferred' ? 'DeliveryDelay' : type === 'delivered' ? 'Delivery' : 'Open',
    occurredAt: sentAt + offsetMs,
    recipient: 'guest@example.org',
    mailrouteId: id,
    providerMessageId: `ses-${id}`,
    raw: { eventType: type },
    ...extra,
  });
  // They happened after the send and before they were posted (out of order): the timeline follows when they happened.
  await new Promise((resolve) => setTimeout(resolve, 60));
  await api.store.ingestEvents([
    sesEvent('opened', 30),
    sesEvent('deferred', 10, { reason: '421 4.4.2 try later' }),
    sesEvent('delivered', 20),
  ]);

  const detail = await client('hotelRead').mail.get.query({ id });
  const label = (entry: (typeof detail.timeline)[number]) =>
    entry.kind === 'status' ? `status ${entry.to}` : entry.kind === 'attempt' ? `attempt ${entry.provider}` : `event ${entry.type}`;
  expect(detail.timeline.map(label)).toEqual([
    'status queued',
    'status sending',
    'attempt sendgrid',
    'attempt ses',
    'status sent',
    'event deferred',
    'event delivered',
    'event opened',
    // The status changes the events made, when they arrived.
    'status deferred',
    'status delivered',
  ]);
  const events = detail.timeline.filter((entry) => entry.kind === 'event');
  expect(events).toEqual([
    {
      at: sentAt + 10,
      kind: 'event',
      type: 'deferred',
      provider: 'ses',
      recipient: 'guest@example.org',
      reason: '421 4.4.2 try later',
      attemptId: accepted?.id,
      effect: 'applied',
    },
    {
      at: sentAt + 20,
      kind: 'event',
      type: 'delivered',
      provider: 'ses',
      recipient: 'guest@example.org',
      attemptId: accepted?.id,
      effect: 'applied',
    },
    {
      at: sentAt + 30,
      kind: 'event',
      type: 'opened',
      provider: 'ses',
      recipient: 'guest@example.org',
      attemptId: accepted?.id,
      effect: 'engagement',
    },
  ]);
  expect(detail.status).toBe('delivered');
});

test('list filters by status, provider, recipient, tag and time, pages with a cursor, and shows only the tenant', async () => {
  const started = Date.now();
  const send = (overrides: Record<string, unknown>) => client('hotelSend').mail.send.mutate(mail(overrides));
  const sent = await send({ tags: ['booking'], to: ['Alice@Example.org'] });
  const failed = await send({ tags: ['booking'] });
  const spa = await client('spaSend').mail.send.mutate(mail({ tags: ['booking'] }));
  await work(api.store, { [sent.id]: 'sent', [failed.id]: 'failed', [spa.id]: 'sent' });
  const queued = [await send({ tags: ['booking'] }), await send({ tags: ['booking'] }), await send({ tags: ['news'] })];
  const read = client('hotelRead');
  const ids = async (input: Parameters<typeof read.mail.list.query>[0]) =>
    (await read.mail.list.query(input)).items.map((item) => item.id).sort();
  const all = [sent.id, failed.id, ...queued.map((item) => item.id)].sort();
  expect(await ids({})).toEqual(all);
  expect(await ids(undefined)).toEqual(all);
  expect(await ids({ status: 'sent' })).toEqual([sent.id]);
  expect(await ids({ status: ['failed', 'sent'] })).toEqual([sent.id, failed.id].sort());
  expect(await ids({ provider: 'ses' })).toEqual([sent.id]);
  expect(await ids({ provider: 'sendgrid' })).toEqual([sent.id, failed.id].sort());
  expect(await ids({ recipient: 'alice@example.org' })).toEqual([sent.id]);
  expect(await ids({ tag: 'news' })).toEqual([queued[2]?.id]);
  expect(await ids({ tag: 'booking', status: ['queued'] })).toEqual([queued[0]?.id, queued[1]?.id].sort());
  expect(await ids({ createdFrom: started - 1, createdTo: new Date(Date.now() + 60_000).toISOString() })).toEqual(all);
  expect(await ids({ createdFrom: Date.now() + 60_000 })).toEqual([]);
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await read.mail.list.query({ limit: 2, ...(cursor ? { cursor } : {}) });
    expect(page.items.length).toBeLessThanOrEqual(2);
    seen.push(...page.items.map((item) => item.id));
    cursor = page.nextCursor;
  } while (cursor);
  expect(seen).toEqual([...all].sort().reverse());
});

test('retry: a dry run counts; the real run requeues failed mail except to addresses suppressed since, and wakes the worker', async () => {
  const tag = 'retry';
  const sends = await Promise.all(
    ['a@example.org', 'b@example.org', 'bounced@example.org'].map((to) =>
      client('hotelSend').mail.send.mutate(mail({ to: [to], tags: [tag] })),
    ),
  );
  await work(api.store, Object.fromEntries(sends.map((sent) => [sent.id, 'failed' as const])));
  await client('hotelAdmin').suppressions.add.mutate({ address: 'bounced@example.org', reason: 'hard bounce' });
  const admin = client('hotelAdmin');
  const wakes = api.wakes();
  const dry = await admin.mail.retry.mutate({ filter: { tag }, dryRun: true });
  expect(dry).toEqual({
    dryRun: true,
    matched: 3,
    requeued: 2,
    requeuedIds: [sends[0]?.id, sends[1]?.id].sort(),
    keptBackCount: { suppressed: 1, sender_not_allowed: 0, provider_has_it: 0, not_retryable: 0 },
    keptBack: [{ id: sends[2]?.id, reason: 'suppressed', addresses: ['bounced@example.org'] }],
  });
  expect(await api.store.countByStatus({ tenantId: 'hotel' })).toMatchObject({ queued: 0 });
  expect(api.wakes()).toBe(wakes);
  const done = await admin.mail.retry.mutate({ ids: sends.map((sent) => sent.id), reason: 'incident 12' });
  expect(done).toMatchObject({ dryRun: false, matched: 3, requeued: 2, keptBackCount: { suppressed: 1 } });
  expect(api.wakes()).toBe(wakes + 1);
  const requeued = await admin.mail.get.query({ id: sends[0]?.id ?? '' });
  expect(requeued.status).toBe('queued');
  expect(requeued.transitions.at(-1)?.reason).toBe(`requeued: incident 12 (by API key ${api.keys.hotelAdmin.prefix})`);
  expect((await admin.mail.get.query({ id: sends[2]?.id ?? '' })).status).toBe('failed');
  // Asking again finds nothing to do: the message was requeued by the first call.
  expect(await admin.mail.retry.mutate({ ids: [sends[0]?.id ?? ''] })).toMatchObject({
    requeued: 0,
    keptBack: [{ id: sends[0]?.id, reason: 'not_retryable', status: 'queued' }],
  });
  expect(api.wakes()).toBe(wakes + 1);
  expect(await failure(admin.mail.retry.mutate({ ids: [sends[0]?.id ?? ''], filter: {} }))).toMatchObject({
    code: 'INVALID_INPUT',
    issues: [{ path: 'ids', message: expect.stringContaining('either ids or filter') }],
  });
  expect(await failure(admin.mail.retry.mutate({ filter: { status: ['sent'] } }))).toMatchObject({
    code: 'INVALID_INPUT',
    issues: [{ path: 'filter.status' }],
  });
});

test('cancel stops queued mail; a second cancel is INVALID_STATE, an unknown id NOT_FOUND', async () => {
  const { id } = await client('hotelSend').mail.send.mutate(mail({ sendAt: Date.now() + 3_600_000 }));
  expect(await client('hotelSend').mail.cancel.mutate({ id, reason: 'guest cancelled' })).toEqual({
    id,
    previous: 'scheduled',
    status: 'cancelled',
  });
  expect((await api.store.getMessage(id))?.transitions.at(-1)?.reason).toBe(
    `cancelled: guest cancelled (by API key ${api.keys.hotelSend.prefix})`,
  );
  expect(await failure(client('hotelSend').mail.cancel.mutate({ id }))).toMatchObject({
    code: 'INVALID_STATE',
    httpStatus: 409,
    message: expect.stringContaining('is cancelled'),
  });
  expect(await failure(client('hotelSend').mail.cancel.mutate({ id: 'no-such-id' }))).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });
});
