import { type AttemptRecord, type MessageContent, type MessageInput, mailError, parseMessage } from '@mailroute/core';

let counter = 0;

/** A validated message, as the api hands it to the store. */
export function content(overrides: Partial<MessageInput> = {}): MessageContent {
  counter += 1;
  const parsed = parseMessage({
    from: 'Hotel Desk <desk@hotel.example>',
    to: [`guest${counter}@example.org`],
    subject: `Booking ${counter} confirmed`,
    text: 'See you soon.',
    ...overrides,
  });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2030, 0, 1, 9, 0, 0)) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

export function acceptedAttempt(
  messageId: string,
  at: number,
  provider = 'sendgrid',
  providerMessageId = `pm-${messageId}`,
): AttemptRecord {
  return {
    messageId,
    provider,
    providerType: 'sendgrid',
    startedAt: at,
    finishedAt: at + 42,
    latencyMs: 42,
    outcome: 'accepted',
    providerMessageId,
    detail: { status: 202, headers: { 'x-message-id': providerMessageId } },
  };
}

export function failedAttempt(messageId: string, at: number, provider = 'sendgrid'): AttemptRecord {
  return {
    messageId,
    provider,
    providerType: 'sendgrid',
    startedAt: at,
    finishedAt: at + 10,
    latencyMs: 10,
    outcome: 'failed',
    error: mailError('PROVIDER_UNAVAILABLE', `${provider} answered 503`, {
      provider,
      detail: { status: 503, body: { errors: [{ message: 'try later' }] }, requestWritten: true },
    }),
  };
}
