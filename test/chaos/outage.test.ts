import { configSchema, type MailrouteConfigInput, startWorker, type Worker } from '@mailroute/server';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import type { MailStore } from '@mailroute/store';
import { forEachDatabase } from '@mailroute/store/testing';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { bookings, duplicatesOf, sendGridReceivedIds, smtpReceivedIds } from '../support/mail.js';

/**
 * Every provider down at once, then back: the outage the design was written for. Mail must
 * wait (retrying, never dead while it is young enough), and once the providers answer again
 * every message must go out exactly once. When the outage outlasts the retry policy, the
 * dead letters must come back with one bulk requeue.
 */

const MESSAGES = 200;
const API_KEY = 'SG.outage-test-key.0123456789abcdef';
const SMTP_DOWN = { code: 421, message: '4.3.2 Service not available, closing transmission channel' };

let sendgrid: SendGridStandIn;
let smtp: SmtpStandin;

beforeAll(async () => {
  sendgrid = await startSendGridStandIn({ apiKey: API_KEY, latencyMs: 2 });
  smtp = await startSmtpStandin();
});

afterAll(async () => {
  await sendgrid?.close();
  await smtp?.close();
});

function config(maxAttempts: number, maxAgeMs = 10 * 60_000): MailrouteConfigInput {
  return {
    providers: [
      { type: 'sendgrid', name: 'sendgrid', apiKey: API_KEY, baseUrl: sendgrid.url },
      { type: 'smtp', name: 'smtp', url: smtp.url, maxConnections: 5 },
    ],
    routing: { breaker: { resetTimeoutMs: 300, volumeThreshold: 5, timeoutMs: 5_000 } },
    retry: { baseDelayMs: 50, maxDelayMs: 300, maxAttempts, maxAgeMs },
    worker: { concurrency: 50, leaseMs: 10_000, idlePollMs: 100 },
  };
}

function outage(): void {
  sendgrid.failWith(503);
  smtp.faults.refuse.connect = SMTP_DOWN;
}

function recovery(): void {
  sendgrid.normal();
  smtp.faults.refuse.connect = undefined;
}

/** Every message the providers received, across both; each must be one of ours, once. */
function received(): string[] {
  return [...sendGridReceivedIds(sendgrid), ...smtpReceivedIds(smtp)];
}

async function allMessages(store: MailStore) {
  const page = await store.listMessages({}, { limit: 500 });
  expect(page.nextCursor).toBeUndefined();
  return page.items;
}

async function expectEachSentOnce(store: MailStore, ids: readonly string[]): Promise<void> {
  const counts = await store.countByStatus();
  expect(counts).toMatchObject({ sent: MESSAGES, dead: 0, failed: 0 });
  const got = received();
  expect(duplicatesOf(got)).toEqual([]);
  expect(new Set(got)).toEqual(new Set(ids));
  // The store names the provider that took each message; that provider must really have it.
  const byProvider = { sendgrid: new Set(sendGridReceivedIds(sendgrid)), smtp: new Set(smtpReceivedIds(smtp)) };
  for (const item of await allMessages(store)) {
    expect(item.provider === 'sendgrid' || item.provider === 'smtp').toBe(true);
    expect(byProvider[item.provider as 'sendgrid' | 'smtp'].has(item.id), `${item.id} recorded as sent by ${item.provider}`).toBe(true);
  }
}

forEachDatabase('all providers down, then back', (database) => {
  let worker: Worker | undefined;

  afterEach(async () => {
    await worker?.stop({ graceMs: 2_000 });
    worker = undefined;
    recovery();
    sendgrid.reset();
    smtp.reset();
  });

  async function start(store: MailStore, maxAttempts: number, maxAgeMs?: number): Promise<void> {
    worker = await startWorker({ store, config: configSchema.parse(config(maxAttempts, maxAgeMs)) });
  }

  /** Rounds a message went through: claims, whether they called a provider or found every breaker open. */
  const claims = async (store: MailStore, id: string) =>
    (await store.getMessage(id))?.transitions.filter((step) => step.to === 'sending').length ?? 0;

  /** A round that called providers ends NO_PROVIDER; one that found every breaker open, BREAKER_OPEN. */
  const OUTAGE_CODES = ['NO_PROVIDER', 'BREAKER_OPEN'];

  test('mail waits out the outage without dying and goes out exactly once when the providers return', async () => {
    const store = await database.open();
    outage();
    const ids = (await store.enqueueMany(bookings(MESSAGES))).map((result) => result.id);
    await start(store, 1_000);

    // Several rounds each: the worker keeps trying through the outage, backing off; rounds that
    // found every breaker open call nobody and do not count toward maxAttempts.
    const sample = [ids[0] ?? '', ids.at(-1) ?? ''];
    await expect
      .poll(async () => Math.min(...(await Promise.all(sample.map((id) => claims(store, id))))), { timeout: 20_000, interval: 200 })
      .toBeGreaterThanOrEqual(3);
    await expect
      .poll(async () => (await allMessages(store)).every((item) => item.lastErrorCode !== undefined), { timeout: 20_000, interval: 200 })
      .toBe(true);
    const during = await store.countByStatus();
    expect(during.sent + during.dead + during.failed).toBe(0);
    expect(received()).toEqual([]);
    for (const item of await allMessages(store)) {
      expect(['retrying', 'sending']).toContain(item.status);
      expect(OUTAGE_CODES).toContain(item.lastErrorCode);
    }

    // The providers' own words are in the attempt log, whichever messages carried them.
    const attempts = (await Promise.all(ids.map((id) => store.getMessage(id)))).flatMap((detail) => detail?.attempts ?? []);
    const sendgridFailures = attempts.filter((attempt) => attempt.provider === 'sendgrid');
    const smtpFailures = attempts.filter((attempt) => attempt.provider === 'smtp');
    expect(sendgridFailures.length).toBeGreaterThan(0);
    expect(smtpFailures.length).toBeGreaterThan(0);
    expect(attempts.every((attempt) => attempt.outcome === 'failed')).toBe(true);
    for (const attempt of sendgridFailures) {
      expect(attempt).toMatchObject({ statusCode: 503, errorCode: 'PROVIDER_UNAVAILABLE' });
      expect(attempt.errorMessage).toContain('Service Unavailable');
    }
    for (const attempt of smtpFailures) {
      expect(attempt.errorCode).toBe('PROVIDER_UNAVAILABLE');
      expect(attempt.errorMessage).toContain('421 4.3.2 Service not available');
    }

    recovery();
    await expect.poll(async () => (await store.countByStatus()).sent, { timeout: 30_000, interval: 100 }).toBe(MESSAGES);
    await expectEachSentOnce(store, ids);
    console.log(
      `[${database.dialect}] outage: ${attempts.length} failed calls (sendgrid ${sendgridFailures.length}, smtp ${smtpFailures.length}); ` +
        `after recovery sendgrid took ${sendGridReceivedIds(sendgrid).length}, smtp ${smtpReceivedIds(smtp).length}`,
    );
  });

  test('dead letters of a long outage come back with one bulk requeue and go out exactly once', async () => {
    const store = await database.open();
    outage();
    const ids = (await store.enqueueMany(bookings(MESSAGES))).map((result) => result.id);
    // Open breakers do not use up maxAttempts: an outage longer than retry.maxAgeMs is what kills mail.
    await start(store, 2, 3_000);

    await expect.poll(async () => (await store.countByStatus()).dead, { timeout: 20_000, interval: 100 }).toBe(MESSAGES);
    for (const item of await allMessages(store)) {
      expect(item.status).toBe('dead');
      expect(item.rounds).toBeLessThanOrEqual(1);
      expect(OUTAGE_CODES).toContain(item.lastErrorCode);
    }
    recovery();

    const dryRun = await store.requeue({ filter: { status: ['dead'] } }, { dryRun: true });
    expect(dryRun).toEqual({ count: MESSAGES, dryRun: true });
    // A dry run changes nothing: give the running worker time to pick up anything it might have.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await store.countByStatus()).toMatchObject({ dead: MESSAGES, sent: 0, queued: 0 });
    expect(received()).toEqual([]);

    const requeued = await store.requeue({ filter: { status: ['dead'] } }, { reason: 'outage over' });
    expect(requeued).toEqual({ count: MESSAGES, dryRun: false });
    await expect.poll(async () => (await store.countByStatus()).sent, { timeout: 30_000, interval: 100 }).toBe(MESSAGES);
    await expectEachSentOnce(store, ids);

    const sample = await store.getMessage(ids[0] ?? '');
    const path = sample?.transitions.map((step) => `${step.from ?? '-'}>${step.to}`);
    expect(path).toContain('dead>queued');
    expect(sample?.transitions.find((step) => step.from === 'dead')?.reason).toBe('requeued: outage over');
    expect(path?.at(-1)).toBe('sending>sent');
  });
});
