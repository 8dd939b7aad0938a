import type { MessageContent } from '@mailroute/core';
import { expect, test } from 'vitest';
import { StoreError } from './errors.js';
import { forEachDatabase } from './test/databases.js';
import { content, manualClock } from './test/fixtures.js';

const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

forEachDatabase('enqueue', (database) => {
  const count = async (sql: string, params: unknown[] = []) => {
    const [row] = await database.query<{ n: number | string }>(sql, params);
    return Number(row?.n);
  };

  test('stores every field of the message and gives it a time-ordered id', async () => {
    const store = await database.open();
    const full = content({
      from: { email: 'desk@hotel.example', name: 'Hotel "Desk"' },
      to: ['Guest <Guest@Example.ORG>'],
      cc: ['cc@example.org'],
      bcc: ['audit@hotel.example'],
      replyTo: ['reply@hotel.example'],
      html: '<p>See you soon.</p>',
      attachments: [{ filename: 'booking.pdf', content: 'JVBERi0=', contentType: 'application/pdf' }],
      headers: { 'X-Booking': '42' },
      tags: ['booking', 'confirmation'],
      metadata: { booking: '42' },
      idempotencyKey: 'booking-42',
    });
    const first = await store.enqueue(full, { tenantId: 'hotel' });
    const second = await store.enqueue(content());
    expect(first).toEqual({ id: expect.stringMatching(UUIDV7), status: 'queued', duplicate: false });
    expect(second.id > first.id).toBe(true);
    const detail = await store.getMessage(first.id);
    expect(detail?.message).toEqual({ ...full, id: first.id });
    expect(detail).toMatchObject({ tenantId: 'hotel', status: 'queued', rounds: 0, tags: ['booking', 'confirmation'] });
    expect(detail?.transitions).toEqual([{ to: 'queued', at: detail?.createdAt, reason: 'accepted' }]);
    const recipients = await database.query<{ kind: string; address: string }>(
      'SELECT kind, address FROM message_recipient WHERE message_id = $1 ORDER BY kind'.replace(
        '$1',
        database.dialect === 'sqlite' ? '?' : '$1',
      ),
      [first.id],
    );
    expect(recipients).toEqual([
      { kind: 'bcc', address: 'audit@hotel.example' },
      { kind: 'cc', address: 'cc@example.org' },
      { kind: 'to', address: 'guest@example.org' },
    ]);
  });

  test('a future sendAt is scheduled and only claimable once due; a past one is queued', async () => {
    const clock = manualClock();
    // Longer than the wait below, so the claim path's lease recovery does not hand the first message back.
    const LEASE = 120_000;
    const store = await database.open({ now: clock.now });
    const later = await store.enqueue(content({ sendAt: new Date(clock.now() + 60_000) }));
    const past = await store.enqueue(content({ sendAt: new Date(clock.now() - 60_000) }));
    expect(later.status).toBe('scheduled');
    expect(past.status).toBe('queued');
    expect((await store.claim('w1', 10, LEASE)).map((claimed) => claimed.message.id)).toEqual([past.id]);
    expect(await store.nextDueAt()).toBe(clock.now() + 60_000);
    clock.advance(59_999);
    expect(await store.claim('w1', 10, LEASE)).toEqual([]);
    clock.advance(1);
    expect((await store.claim('w1', 10, LEASE)).map((claimed) => claimed.message.id)).toEqual([later.id]);
  });

  test('the same idempotency key with the same content returns the first message; another tenant may reuse it', async () => {
    const store = await database.open();
    const mail = content({ idempotencyKey: 'k1', metadata: { booking: '42', room: '7' } });
    const first = await store.enqueue(mail);
    // The same message built with its fields and metadata keys in another order.
    const reordered = {
      ...Object.fromEntries(Object.entries(mail).reverse()),
      metadata: { room: '7', booking: '42' },
    } as unknown as MessageContent;
    const again = await store.enqueue(reordered);
    const otherTenant = await store.enqueue(content({ idempotencyKey: 'k1' }), { tenantId: 'other' });
    expect(again).toEqual({ id: first.id, status: 'queued', duplicate: true });
    expect(otherTenant.duplicate).toBe(false);
    expect(otherTenant.id).not.toBe(first.id);
    expect(await count('SELECT COUNT(*) AS n FROM message')).toBe(2);
  });

  test('the same idempotency key with other content is a conflict naming the original, and stores nothing', async () => {
    const store = await database.open();
    const mail = content({ idempotencyKey: 'k1' });
    const first = await store.enqueue(mail);
    for (const changed of [
      { subject: 'different' },
      { to: [{ email: 'someone-else@example.org' }] },
      { text: `${mail.text} ` },
      { metadata: { booking: '43' } },
      { sendAt: new Date(Date.UTC(2031, 0, 1)) },
    ]) {
      expect(await store.enqueue({ ...mail, ...changed })).toEqual({ id: first.id, status: 'queued', duplicate: false, conflict: true });
    }
    const batch = await store.enqueueMany([
      { ...mail, subject: 'other' },
      content({ idempotencyKey: 'k2' }),
      content({ idempotencyKey: 'k2' }),
    ]);
    expect(batch.map((result) => [result.duplicate, result.conflict ?? false])).toEqual([
      [false, true],
      [false, false],
      [false, true],
    ]);
    expect(batch[0]?.id).toBe(first.id);
    expect(batch[2]?.id).toBe(batch[1]?.id);
    expect(await count('SELECT COUNT(*) AS n FROM message')).toBe(2);
  });

  test('a message stored before content hashes were kept matches any content under its key', async () => {
    const store = await database.open();
    const first = await store.enqueue(content({ idempotencyKey: 'old' }));
    await database.execute('UPDATE message SET idempotency_hash = NULL');
    expect(await store.enqueue(content({ idempotencyKey: 'old', subject: 'whatever' }))).toEqual({
      id: first.id,
      status: 'queued',
      duplicate: true,
    });
  });

  test('concurrent duplicates, in one group and across two stores, make one row; other content conflicts', async () => {
    const a = await database.open();
    const b = await database.open();
    const sameTurnMail = content({ idempotencyKey: 'same-turn' });
    const sameTurn = await Promise.all(Array.from({ length: 20 }, () => a.enqueue(sameTurnMail)));
    expect(new Set(sameTurn.map((result) => result.id)).size).toBe(1);
    expect(sameTurn.filter((result) => !result.duplicate)).toHaveLength(1);

    const twoStoresMail = content({ idempotencyKey: 'two-stores' });
    const racing = await Promise.all(Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? a : b).enqueue(twoStoresMail)));
    expect(new Set(racing.map((result) => result.id)).size).toBe(1);
    expect(racing.filter((result) => !result.duplicate)).toHaveLength(1);
    expect(racing.filter((result) => result.conflict)).toHaveLength(0);
    expect(await count('SELECT COUNT(*) AS n FROM message')).toBe(2);

    // Two stores racing with the same key and different content: one is stored, the other conflicts with it.
    const [left, right] = await Promise.all([
      a.enqueue(content({ idempotencyKey: 'contested' })),
      b.enqueue(content({ idempotencyKey: 'contested' })),
    ]);
    expect(left?.id).toBe(right?.id);
    expect([left?.conflict ?? false, right?.conflict ?? false].sort()).toEqual([false, true]);
    expect(await count('SELECT COUNT(*) AS n FROM message')).toBe(3);
  });

  test('group commit: concurrent enqueues share transactions, and every acknowledged one is on disk', async () => {
    const store = await database.open();
    const results = await Promise.all(Array.from({ length: 300 }, () => store.enqueue(content())));
    expect(new Set(results.map((result) => result.id)).size).toBe(300);
    const { transactions, messages } = store.stats().groupCommit;
    expect(messages).toBe(300);
    expect(transactions).toBeLessThanOrEqual(3);
    // Read through a brand-new connection, as another process (or the restarted one) would.
    expect(await count('SELECT COUNT(*) AS n FROM message')).toBe(300);
    expect(await count("SELECT COUNT(*) AS n FROM message_transition WHERE to_status = 'queued'")).toBe(300);
  });

  test('a bad message in a group fails alone', async () => {
    const store = await database.open();
    const bad = { ...content(), subject: null } as unknown as MessageContent;
    const settled = await Promise.allSettled([...Array.from({ length: 5 }, () => store.enqueue(content())), store.enqueue(bad)]);
    expect(settled.slice(0, 5).every((result) => result.status === 'fulfilled')).toBe(true);
    expect(settled[5]?.status).toBe('rejected');
    expect(await count('SELECT COUNT(*) AS n FROM message')).toBe(5);
    expect(await count('SELECT COUNT(*) AS n FROM message_recipient')).toBe(5);
  });

  test('enqueueMany is one transaction: all stored, duplicates resolved, or nothing at all', async () => {
    const store = await database.open();
    const keyed = content({ idempotencyKey: 'm' });
    const results = await store.enqueueMany([keyed, content(), keyed], {
      tenantId: 't1',
    });
    expect(store.stats().groupCommit.transactions).toBe(1);
    expect(results.map((result) => result.duplicate)).toEqual([false, false, true]);
    expect(results[2]?.id).toBe(results[0]?.id);
    const bad = { ...content(), subject: null } as unknown as MessageContent;
    await expect(store.enqueueMany([content(), bad])).rejects.toThrow();
    expect(await count('SELECT COUNT(*) AS n FROM message')).toBe(2);
  });

  test('concurrent enqueueMany calls share a commit, and a bad batch fails alone and whole', async () => {
    const store = await database.open();
    const batch = (size: number) => Array.from({ length: size }, () => content());
    const shared = await Promise.all([store.enqueueMany(batch(100)), store.enqueueMany(batch(100)), store.enqueue(content())]);
    expect(shared.flat()).toHaveLength(201);
    expect(store.stats().groupCommit).toEqual({ transactions: 1, messages: 201 });

    const bad = { ...content(), subject: null } as unknown as MessageContent;
    const settled = await Promise.allSettled([
      store.enqueueMany(batch(30)),
      store.enqueueMany([...batch(29), bad]),
      store.enqueueMany(batch(30)),
    ]);
    expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await count('SELECT COUNT(*) AS n FROM message')).toBe(261);
    expect(await count('SELECT COUNT(*) AS n FROM message_recipient')).toBe(261);
  });

  test('a batch larger than a group commits alone, in one transaction', async () => {
    const store = await database.open();
    const results = await Promise.all([store.enqueueMany(Array.from({ length: 700 }, () => content())), store.enqueue(content())]);
    expect(results[0]).toHaveLength(700);
    expect(store.stats().groupCommit).toEqual({ transactions: 2, messages: 701 });
    expect(await count('SELECT COUNT(*) AS n FROM message')).toBe(701);
  });

  test('a batch racing another store on the same idempotency keys gets the winners back', async () => {
    const a = await database.open();
    const b = await database.open();
    const keyed = Array.from({ length: 20 }, (_, index) => content({ idempotencyKey: `k-${index}` }));
    const [first, second] = await Promise.all([a.enqueueMany(keyed), b.enqueueMany(keyed)]);
    expect(second?.map((result) => result.id)).toEqual(first?.map((result) => result.id));
    expect([...(first ?? []), ...(second ?? [])].filter((result) => !result.duplicate)).toHaveLength(20);
    expect(await count('SELECT COUNT(*) AS n FROM message')).toBe(20);
  });

  test('onEnqueued fires after the commit, and stops after unsubscribe', async () => {
    const store = await database.open();
    let heard = 0;
    let stored = -1;
    const unsubscribe = store.onEnqueued(() => {
      heard += 1;
    });
    await store.enqueue(content());
    expect(heard).toBe(1);
    const off = store.onEnqueued(() => {
      void count('SELECT COUNT(*) AS n FROM message').then((n) => {
        stored = n;
      });
    });
    await store.enqueue(content());
    await expect.poll(() => stored).toBe(2);
    expect(heard).toBe(2);
    unsubscribe();
    off();
    await store.enqueue(content());
    expect(heard).toBe(2);
  });

  test.runIf(database.dialect === 'postgres')('onEnqueued wakes a store in another process (LISTEN/NOTIFY)', async () => {
    const worker = await database.open();
    const api = await database.open();
    let woken = 0;
    worker.onEnqueued(() => {
      woken += 1;
    });
    await api.enqueue(content());
    await expect.poll(() => woken, { timeout: 3_000 }).toBe(1);
  });

  test('a closed store refuses new mail with a clear error', async () => {
    const store = await database.open();
    await store.close();
    await expect(store.enqueue(content())).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(store.enqueue(content())).rejects.toBeInstanceOf(StoreError);
  });
});
