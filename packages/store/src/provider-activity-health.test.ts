import { type AttemptRecord, mailError } from '@mailroute/core';
import { expect, test } from 'vitest';
import { openDatabase } from './database.js';
import { uuidv7 } from './ids.js';
import { LATENCY_SAMPLE_LIMIT } from './provider-activity.js';
import { percentile } from './provider-activity-percentile.js';
import { forEachDatabase } from './test/databases.js';
import { content, manualClock } from './test/fixtures.js';

const MINUTE = 60_000;
const WINDOWS = [MINUTE, 15 * MINUTE, 60 * MINUTE];

test('percentile interpolates like percentile_cont', () => {
  expect(percentile([7], 0.99)).toBe(7);
  expect(percentile([10, 20, 30, 40, 50], 0.5)).toBe(30);
  expect(percentile([10, 20, 30, 40, 50], 0.95)).toBeCloseTo(48, 10);
  expect(percentile([1, 2], 0.5)).toBe(1.5);
  expect(() => percentile([], 0.5)).toThrow(RangeError);
});

forEachDatabase('provider health over windows', (database) => {
  function attempt(
    messageId: string,
    provider: string,
    at: number,
    latencyMs: number,
    error?: ReturnType<typeof mailError>,
  ): AttemptRecord {
    return {
      messageId,
      provider,
      providerType: provider,
      startedAt: at,
      finishedAt: at + latencyMs,
      latencyMs,
      ...(error
        ? { outcome: 'failed' as const, error, detail: error.detail ?? {} }
        : { outcome: 'accepted' as const, providerMessageId: `pm-${messageId}-${provider}` }),
    };
  }

  test('windows, percentiles, error breakdown, last success and last provider fault per provider', async () => {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    const now = clock.now();
    const ids = (await store.enqueueMany(Array.from({ length: 10 }, () => content()))).map((result) => result.id);
    const id = (index: number) => ids[index] ?? '';
    await store.claim('worker', 100, 60_000);
    const unavailable = mailError('PROVIDER_UNAVAILABLE', 'sendgrid answered 503', {
      provider: 'sendgrid',
      detail: { status: 503, body: { errors: [{ message: 'Service temporarily unavailable' }] }, requestWritten: true },
    });
    const throttled = mailError('RATE_LIMITED', 'sendgrid answered 429', { provider: 'sendgrid', detail: { status: 429 } });
    const badRecipient = mailError('INVALID_RECIPIENT', 'ses: address rejected', { provider: 'ses', detail: { status: 400 } });
    const smtpDown = mailError('PROVIDER_UNAVAILABLE', 'smtp: 421 4.3.2 Service not available', {
      provider: 'smtp',
      detail: { status: 421, body: '421 4.3.2 Service not available, closing transmission channel' },
    });
    const sent = (index: number, provider: string, attempts: AttemptRecord[]) => ({
      kind: 'sent' as const,
      id: id(index),
      provider,
      providerMessageId: `pm-${id(index)}-${provider}`,
      attempts,
    });
    await store.complete('worker', [
      // Last minute: five accepted by sendgrid, 10..50 ms.
      ...[0, 1, 2, 3, 4].map((index) => sent(index, 'sendgrid', [attempt(id(index), 'sendgrid', now - 30_000 + index, (index + 1) * 10)])),
      // Ten minutes ago: sendgrid 503 (500 ms), then ses took it.
      sent(5, 'ses', [
        attempt(id(5), 'sendgrid', now - 10 * MINUTE, 500, unavailable),
        attempt(id(5), 'ses', now - 10 * MINUTE + 600, 100),
      ]),
      // Forty minutes ago: sendgrid throttled, then a bad address at ses (a message fault).
      {
        kind: 'failed',
        id: id(6),
        error: badRecipient,
        attempts: [
          attempt(id(6), 'sendgrid', now - 40 * MINUTE, 200, throttled),
          attempt(id(6), 'ses', now - 40 * MINUTE + 300, 7, badRecipient),
        ],
      },
      // Outside every window.
      sent(7, 'sendgrid', [attempt(id(7), 'sendgrid', now - 120 * MINUTE, 1_000)]),
      sent(8, 'smtp', [attempt(id(8), 'smtp', now - 120 * MINUTE, 30)]),
      { kind: 'failed', id: id(9), error: smtpDown, attempts: [attempt(id(9), 'smtp', now - 5 * MINUTE, 3_000, smtpDown)] },
    ]);

    const health = await store.providerHealth({ providers: ['sendgrid', 'ses', 'smtp', 'mailgun'], windowsMs: WINDOWS });
    expect(health.map((entry) => entry.provider)).toEqual(['sendgrid', 'ses', 'smtp', 'mailgun']);
    const [sendgrid, ses, smtp, mailgun] = health;

    expect(sendgrid?.windows).toEqual([
      {
        windowMs: MINUTE,
        attempts: 5,
        accepted: 5,
        failed: 0,
        failedByCategory: {},
        latencyAvgMs: 30,
        latencyP50Ms: 30,
        latencyP95Ms: 48,
        latencyP99Ms: 49.6,
      },
      {
        windowMs: 15 * MINUTE,
        attempts: 6,
        accepted: 5,
        failed: 1,
        failedByCategory: { provider: 1 },
        latencyAvgMs: Math.round(650 / 6),
        latencyP50Ms: 35,
        latencyP95Ms: 387.5,
        latencyP99Ms: 477.5,
      },
      {
        windowMs: 60 * MINUTE,
        attempts: 7,
        accepted: 5,
        failed: 2,
        failedByCategory: { provider: 1, rate_limited: 1 },
        latencyAvgMs: Math.round(850 / 7),
        latencyP50Ms: 40,
        latencyP95Ms: 410,
        latencyP99Ms: 482,
      },
    ]);
    expect(sendgrid).toMatchObject({
      lastAttemptAt: now - 30_000 + 4,
      lastSuccessAt: now - 30_000 + 4,
      lastError: { at: now - 10 * MINUTE, messageId: id(5), errorCode: 'PROVIDER_UNAVAILABLE', errorCategory: 'provider', statusCode: 503 },
    });
    expect(sendgrid?.lastError?.error?.detail?.body).toEqual({ errors: [{ message: 'Service temporarily unavailable' }] });

    expect(ses?.windows.map((window) => [window.attempts, window.failedByCategory, window.latencyP50Ms])).toEqual([
      [0, {}, undefined],
      [1, {}, 100],
      [2, { message: 1 }, 53.5],
    ]);
    // A bad address says nothing about ses.
    expect(ses?.lastError).toBeUndefined();
    expect(ses?.lastSuccessAt).toBe(now - 10 * MINUTE + 600);

    // Down for two hours: the last success is older than every window and still shown.
    expect(smtp).toMatchObject({ lastSuccessAt: now - 120 * MINUTE, lastAttemptAt: now - 5 * MINUTE });
    expect(smtp?.windows[1]).toMatchObject({ attempts: 1, accepted: 0, failedByCategory: { provider: 1 }, latencyP99Ms: 3_000 });
    expect(smtp?.lastError?.error?.detail?.body).toBe('421 4.3.2 Service not available, closing transmission channel');

    expect(mailgun).toEqual({
      provider: 'mailgun',
      windows: WINDOWS.map((windowMs) => ({ windowMs, attempts: 0, accepted: 0, failed: 0, failedByCategory: {} })),
    });

    // Counts alone (what stats.overview needs): one query, only the providers asked for.
    expect(await store.providerCounts(now - 15 * MINUTE, ['sendgrid', 'mailgun'])).toEqual([
      {
        provider: 'sendgrid',
        attempts: 6,
        accepted: 5,
        failed: 1,
        failedByCategory: { provider: 1 },
        latencyAvgMs: Math.round(650 / 6),
        lastAttemptAt: now - 30_000 + 4,
      },
    ]);
    expect(await store.providerCounts(now - 15 * MINUTE, [])).toEqual([]);

    // The windows end at the store's clock: half an hour later the throttled attempt left the hour.
    clock.advance(30 * MINUTE);
    const later = await store.providerHealth({ providers: ['sendgrid'], windowsMs: WINDOWS });
    expect(later[0]?.windows.map((window) => [window.attempts, window.failedByCategory])).toEqual([
      [0, {}],
      [0, {}],
      [6, { provider: 1 }],
    ]);
    expect(later[0]?.lastError?.messageId).toBe(id(5));
    clock.advance(30 * MINUTE);
    expect((await store.providerHealth({ providers: ['sendgrid'], windowsMs: WINDOWS }))[0]?.lastError).toBeUndefined();
  });

  test('past the SQLite latency bound, counts stay exact and the percentiles say they are sampled', async () => {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    const now = clock.now();
    const [{ id } = { id: '' }] = await store.enqueueMany([content()]);
    await store.claim('worker', 1, 60_000);
    const count = LATENCY_SAMPLE_LIMIT + 50;
    // The oldest 50 are slow: only they would be left out of a sample of the latest.
    const attempts = Array.from({ length: count }, (_, index) =>
      attempt(id, 'smtp', now - 50 * MINUTE + index, index < 50 ? 5_000 : 10 + (index % 10)),
    );
    await store.complete('worker', [{ kind: 'sent', id, provider: 'smtp', providerMessageId: 'pm', attempts }]);
    const [smtp] = await store.providerHealth({ providers: ['smtp'], windowsMs: [60 * MINUTE] });
    const [hour] = smtp?.windows ?? [];
    expect(hour?.attempts).toBe(count);
    if (database.dialect === 'sqlite') {
      expect(hour).toMatchObject({ latencySampled: true, latencyP99Ms: 19 });
    } else {
      expect(hour?.latencySampled).toBeUndefined();
      expect(hour?.latencyP99Ms).toBe(19);
      expect(hour?.latencyP50Ms).toBe(15);
    }
  }, 60_000);

  test('delivery lag: sent to delivered per message, from delivered events received within the window', async () => {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    const now = clock.now();
    const ids = (await store.enqueueMany(Array.from({ length: 7 }, () => content({ to: ['a@example.org', 'b@example.org'] })))).map(
      (result) => result.id,
    );
    await store.claim('worker', 100, 60_000);
    await store.complete(
      'worker',
      ids.map((id, index) => {
        const provider = index < 6 ? 'sendgrid' : 'ses';
        return { kind: 'sent' as const, id, provider, providerMessageId: `pm-${id}`, attempts: [attempt(id, provider, now - 120_000, 40)] };
      }),
    );
    const lags = [1_000, 2_000, 3_000, 4_000, 60_000];
    const { db, close } = await openDatabase({ url: database.url });
    try {
      const deliver = async (id: string, lagMs: number, receivedAt: number, recipients: string[]) => {
        const sentAt = now - 90_000;
        await db.message.update({ where: { id }, data: { sentAt: new Date(sentAt), deliveredAt: new Date(sentAt + lagMs) } });
        for (const recipient of recipients) {
          await db.event.create({
            data: {
              id: uuidv7(),
              provider: 'sendgrid',
              providerEventId: `${id}-${recipient}`,
              type: 'delivered',
              providerType: 'delivered',
              occurredAt: new Date(sentAt + lagMs),
              receivedAt: new Date(receivedAt),
              recipient,
              effect: 'applied',
              messageId: id,
              payload: {},
            },
          });
        }
      };
      // Two recipients of one message: one delivery of that message, counted once.
      for (const [index, lag] of lags.entries()) {
        await deliver(ids[index] ?? '', lag, now - 20_000, index === 0 ? ['a@example.org', 'b@example.org'] : ['a@example.org']);
      }
      // Received two hours ago: outside the widest window.
      await deliver(ids[5] ?? '', 900_000, now - 120 * MINUTE, ['a@example.org']);
      await deliver(ids[6] ?? '', 500, now - 1_000, ['a@example.org']);
    } finally {
      await close();
    }

    const [sendgrid, ses, smtp] = await store.providerHealth({ providers: ['sendgrid', 'ses', 'smtp'], windowsMs: WINDOWS });
    expect(sendgrid?.deliveryLag).toEqual({ delivered: 5, p50Ms: 3_000, p95Ms: 48_800 });
    expect(ses?.deliveryLag).toEqual({ delivered: 1, p50Ms: 500, p95Ms: 500 });
    expect(smtp?.deliveryLag).toBeUndefined();
  });
});
