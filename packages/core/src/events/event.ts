import type { MessageStatus } from '../model/status.js';

/**
 * What a provider reports after it took a message, in one vocabulary for every provider.
 * `processed`: the provider has the message (SendGrid processed, SES Send).
 * `unknown`: a type this version does not know; kept raw, never dropped.
 */
export const deliveryEventTypes = [
  'processed',
  'delivered',
  'deferred',
  'bounced',
  'dropped',
  'complained',
  'unsubscribed',
  'opened',
  'clicked',
  'unknown',
] as const;

export type DeliveryEventType = (typeof deliveryEventTypes)[number];

/** Hard: the address does not exist or refuses for good (suppress it). Soft: temporary or content-related. */
export type BounceClass = 'hard' | 'soft' | 'undetermined';

/** One provider event about one recipient of one message, parsed from a verified webhook. */
export interface DeliveryEvent {
  /** Provider instance name from configuration (e.g. `sendgrid-eu`). */
  readonly provider: string;
  /** Provider kind: `sendgrid`, `ses`. */
  readonly providerType: string;
  /** The provider's id for this event; ingestion dedupes on (provider, providerEventId). */
  readonly providerEventId: string;
  readonly type: DeliveryEventType;
  /** The provider's own name for the event (`bounce`, `Bounce`, `DeliveryDelay`, ...). */
  readonly providerEventType: string;
  /** Epoch milliseconds, from the provider's timestamp. */
  readonly occurredAt: number;
  readonly recipient?: string;
  /** Our message id as it travelled with the mail (custom args, message tag or header). */
  readonly mailrouteId?: string;
  /** The provider's message id: the fallback for correlation. */
  readonly providerMessageId?: string;
  readonly bounce?: BounceClass;
  /** The provider's words: bounce diagnostic, drop reason, deferral response (short). */
  readonly reason?: string;
  /** The link of a click. */
  readonly url?: string;
  /** The event exactly as the provider sent it. */
  readonly raw: unknown;
}

/** Events that say something about the message's fate; the rest are engagement or suppression facts. */
const statusOfEvent: Partial<Record<DeliveryEventType, MessageStatus>> = {
  processed: 'sent',
  deferred: 'deferred',
  delivered: 'delivered',
  bounced: 'bounced',
  dropped: 'dropped',
  complained: 'complained',
};

/**
 * How far along a message is. An event only ever moves a message forward, so duplicates and
 * events that arrive out of order change nothing. A bounce after delivered moves on: SES
 * documents asynchronous bounces that follow a delivery, and complaints follow deliveries.
 * No two ranks are equal: with a tie, a message with one recipient dropped and another bounced
 * would end in whichever status arrived first.
 */
const rankOfStatus: Partial<Record<MessageStatus, number>> = {
  sent: 0,
  deferred: 1,
  delivered: 2,
  dropped: 3,
  bounced: 4,
  complained: 5,
};
/** Statuses before a provider confirmed anything (queued again after a held window, dead, ...). */
const UNCONFIRMED_RANK = -1;

/**
 * The status a message takes after an event, or undefined when it stays. A message a worker
 * holds (`sending`) is left to that worker's result; the event is still recorded.
 */
export function statusAfterEvent(current: MessageStatus, type: DeliveryEventType): MessageStatus | undefined {
  const target = statusOfEvent[type];
  if (target === undefined || current === 'sending') return undefined;
  const from = rankOfStatus[current] ?? UNCONFIRMED_RANK;
  const to = rankOfStatus[target] ?? UNCONFIRMED_RANK;
  return to > from ? target : undefined;
}

/** Whether the event puts the recipient on the suppression list. */
export function suppressionReasonOf(
  event: Pick<DeliveryEvent, 'type' | 'bounce'>,
): 'hard_bounce' | 'complaint' | 'unsubscribe' | undefined {
  if (event.type === 'bounced' && event.bounce === 'hard') return 'hard_bounce';
  if (event.type === 'complained') return 'complaint';
  if (event.type === 'unsubscribed') return 'unsubscribe';
  return undefined;
}
