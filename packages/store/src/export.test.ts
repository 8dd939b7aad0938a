import { type DispatchOutcome, mailError } from '@mailroute/core';
import { expect, test } from 'vitest';
import { EXPORT_PAGE_MAX, type ExportRow } from './export.js';
import type { MailStore } from './store.js';
import { forEachDatabase } from './test/databases.js';
import { acceptedAttempt, content, failedAttempt, manualClock } from './test/fixtures.js';

forEachDatabase('export for customer support', (database) => {
  async function exportAll(store: MailStore, filter: Parameters<MailStore['exportMessages']>[0], limit: number) {
    const rows: ExportRow[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.exportMessages(filter, { limit, ...(cursor ? { cursor } : {}) });
      expect(page.rows.length).toBeLessThanOrEqual(limit);
      rows.push(...page.rows);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    return { rows, pages };
  }

  test('rows carry recipients, provider, attempts and the last error; pages follow the list filter without gaps', async () => {
    const start = Date.UTC(2030, 0, 1, 9, 0, 0);
    const clock = manualClock(start);
    const store = await database.open({ now: clock.now });
    const dead = await store.enqueue(
      content({ to: ['Guest@Example.org'], cc: ['desk@hotel.example'], subject: 'Booking 12, "sea view" confirmed' }),
      { tenantId: 'hotel' },
    );
    clock.advance(1_000);
    const sent = await store.enqueue(content({ to: ['other@example.org'] }), { tenantId: 'hotel' });
    clock.advance(1_000);
    await store.enqueue(content({ to: ['spa-guest@example.org'] }), { tenantId: 'spa' });
    const claimed = await store.claim('worker', 10, 30_000);
    await store.complete(
      'worker',
      claimed.flatMap(({ message }): DispatchOutcome[] => {
        if (message.id === dead.id) {
          return [
            {
              kind: 'dead' as const,
              id: message.id,
              reason: 'max_attempts' as const,
              error: mailError('NO_PROVIDER', 'no provider accepted the message; last: 554 5.7.1 rejected,\n  "policy"'),
              attempts: [failedAttempt(message.id, clock.now()), failedAttempt(message.id, clock.now(), 'ses')],
            },
          ];
        }
        if (message.id === sent.id) {
          return [
            {
              kind: 'sent' as const,
              id: message.id,
              provider: 'ses',
              providerMessageId: 'ses-77',
              attempts: [acceptedAttempt(message.id, clock.now(), 'ses', 'ses-77')],
            },
          ];
        }
        return [];
      }),
    );

    const { rows } = await exportAll(store, { tenantId: 'hotel' }, 1);
    expect(rows.map((row) => row.id)).toEqual([sent.id, dead.id]);
    expect(rows[1]).toEqual({
      id: dead.id,
      tenantId: 'hotel',
      status: 'dead',
      to: ['Guest@Example.org'],
      cc: ['desk@hotel.example'],
      bcc: [],
      subject: 'Booking 12, "sea view" confirmed',
      attempts: 2,
      possibleDuplicate: false,
      lastErrorCode: 'NO_PROVIDER',
      lastError: 'no provider accepted the message; last: 554 5.7.1 rejected,\n  "policy"',
      createdAt: start,
      finishedAt: clock.now(),
    });
    expect(rows[0]).toMatchObject({ status: 'sent', provider: 'ses', providerMessageId: 'ses-77', attempts: 1, sentAt: clock.now() });
    expect((await exportAll(store, { status: ['dead'] }, 10)).rows.map((row) => row.id)).toEqual([dead.id]);
    expect((await exportAll(store, { recipient: 'guest@example.org' }, 10)).rows.map((row) => row.id)).toEqual([dead.id]);
    await expect(store.exportMessages({}, { limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  test('a large export comes in bounded pages that add up to every matching row once', async () => {
    const store = await database.open();
    await store.enqueueMany(Array.from({ length: 2_500 }, (_, index) => content({ subject: `Booking ${index}` })));
    const { rows, pages } = await exportAll(store, { status: ['queued'] }, 1_000);
    expect(pages).toBe(3);
    expect(new Set(rows.map((row) => row.id)).size).toBe(2_500);
    // The largest page: its possible-duplicate lookup stays within both databases' parameter limits.
    expect((await store.exportMessages({ status: ['queued'] }, { limit: EXPORT_PAGE_MAX })).rows).toHaveLength(2_500);
  });
});
