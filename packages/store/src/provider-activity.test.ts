import { type AttemptRecord, mailError } from '@mailroute/core';
import { expect, test } from 'vitest';
import { forEachDatabase } from './test/databases.js';
import { content, manualClock } from './test/fixtures.js';

forEachDatabase('provider activity from the attempt log', (database) => {
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
        : { outcome: 'accepted' as const, providerMessageId: `pm-${messageId}` }),
    };
  }

  test('counts, latency and the last provider fault per provider, within the window', async () => {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    const start = clock.now();
    const results = await store.enqueueMany(Array.from({ length: 22 }, () => content()));
    const ids = results.map((result) => result.id);
    await store.claim('worker', 100, 60_000);
    const unavailable = mailError('PROVIDER_UNAVAILABLE', 'sendgrid answered 503', {
      provider: 'sendgrid',
      detail: { status: 503, body: { errors: [{ message: 'Service temporarily unavailable' }] }, requestWritten: true },
    });
    const badRecipient = mailError('INVALID_RECIPIENT', 'ses: address rejected', { provider: 'ses', detail: { status: 400 } });
    // An old attempt outside the window must not count.
    const outcomes = ids.slice(0, 20).map((id, index) => ({
      kind: 'sent' as const,
      id,
      provider: 'sendgrid',
      providerMessageId: `pm-${id}`,
      attempts: [attempt(id, 'sendgrid', start + 1_000 + index, (index + 1) * 10)],
    }));
    const [lateId = '', oldId = ''] = ids.slice(20);
    await store.complete('worker', [
      ...outcomes,
      {
        kind: 'failed',
        id: lateId,
        error: badRecipient,
        attempts: [attempt(lateId, 'sendgrid', start + 2_000, 5, unavailable), attempt(lateId, 'ses', start + 2_010, 7, badRecipient)],
      },
      { kind: 'failed', id: oldId, error: badRecipient, attempts: [attempt(oldId, 'ses', start - 60_000, 900, unavailable)] },
    ]);

    const activity = await store.providerActivity(start);
    expect(activity.map((entry) => entry.provider)).toEqual(['sendgrid', 'ses']);
    const [sendgrid, ses] = activity;
    expect(sendgrid).toMatchObject({
      attempts: 21,
      accepted: 20,
      failed: 1,
      failedByCategory: { provider: 1 },
      latencyAvgMs: Math.round(((10 * (20 * 21)) / 2 + 5) / 21),
      latencyP95Ms: 190,
      lastAttemptAt: start + 2_000,
      lastError: { at: start + 2_000, messageId: lateId, errorCode: 'PROVIDER_UNAVAILABLE', errorCategory: 'provider', statusCode: 503 },
    });
    expect(sendgrid?.lastError?.error?.detail?.body).toEqual({ errors: [{ message: 'Service temporarily unavailable' }] });
    // A message fault says nothing about the provider: counted, but not its last error.
    expect(ses).toMatchObject({ attempts: 1, accepted: 0, failed: 1, failedByCategory: { message: 1 }, latencyP95Ms: 7 });
    expect(ses?.lastError).toBeUndefined();
    expect((await store.providerActivity(start - 120_000)).find((entry) => entry.provider === 'ses')).toMatchObject({
      attempts: 2,
      lastError: { messageId: oldId, statusCode: 503 },
    });
    expect(await store.providerActivity(start + 10_000)).toEqual([]);
  });
});
