import { type DispatchOutcome, type MailError, mailError } from '@mailroute/core';
import type { MailStore } from '@mailroute/store';

let counter = 0;

/** A valid message as an app sends it; every call a new recipient. */
export function mail(overrides: Record<string, unknown> = {}) {
  counter += 1;
  return {
    from: 'Hotel Desk <desk@hotel.example>',
    to: [`guest${counter}@example.org`],
    subject: `Booking ${counter} confirmed`,
    text: 'See you soon.',
    ...overrides,
  };
}

/** Every message in the store, all tenants. */
export async function messageCount(store: MailStore): Promise<number> {
  return Object.values(await store.countByStatus()).reduce((sum, count) => sum + count, 0);
}

const unavailable = (provider: string): MailError =>
  mailError('PROVIDER_UNAVAILABLE', `${provider} answered 503`, {
    provider,
    detail: { status: 503, body: { errors: [{ message: 'Service temporarily unavailable' }] }, requestWritten: true },
  });

/**
 * Plays the worker: claims what is due and ends each message as asked, with the attempts a
 * router would have recorded (sendgrid answering 503 first).
 */
export async function work(store: MailStore, plan: Record<string, 'sent' | 'failed' | 'dead'>): Promise<void> {
  await store.claim('test-worker', 1000, 60_000);
  // The calls happen between the claim and the write-up of the round, as with a real worker.
  const now = Date.now() + 1;
  await new Promise((resolve) => setTimeout(resolve, 80));
  const failedOn = (id: string, provider: string, at: number, latencyMs: number) => ({
    messageId: id,
    provider,
    providerType: provider,
    startedAt: at,
    finishedAt: at + latencyMs,
    latencyMs,
    outcome: 'failed' as const,
    error: unavailable(provider),
  });
  await store.complete(
    'test-worker',
    Object.entries(plan).map(([id, kind]): DispatchOutcome => {
      switch (kind) {
        case 'sent':
          return {
            kind,
            id,
            provider: 'ses',
            providerMessageId: `ses-${id}`,
            attempts: [
              failedOn(id, 'sendgrid', now, 12),
              {
                messageId: id,
                provider: 'ses',
                providerType: 'ses',
                startedAt: now + 20,
                finishedAt: now + 60,
                latencyMs: 40,
                outcome: 'accepted' as const,
                providerMessageId: `ses-${id}`,
              },
            ],
          };
        case 'failed':
          return {
            kind,
            id,
            error: mailError('INVALID_RECIPIENT', 'mailbox does not exist'),
            attempts: [failedOn(id, 'sendgrid', now, 12)],
          };
        default:
          return { kind, id, reason: 'max_age' as const, error: mailError('NO_PROVIDER', 'every provider failed'), attempts: [] };
      }
    }),
  );
}
