/**
 * Message statuses, in one place.
 *
 *   queued ──claim──▶ sending ──accepted──▶ sent ──webhooks──▶ delivered | bounced | dropped | complained | deferred
 *   scheduled (sendAt in the future) ──due──▶ claimable like queued
 *   sending ──every provider failed──▶ retrying ──due──▶ sending
 *   sending ──message fault──▶ failed
 *   sending | retrying ──max attempts / max age──▶ dead
 *   sending ──ambiguous, policy confirm──▶ held ──confirmed──▶ sent; ──window over──▶ queued (other providers)
 *   sending ──lease expired (worker died)──▶ claimable again (at-least-once), an attempt with outcome `unknown` recorded
 *   queued | scheduled | retrying | held ──claimed with no `to` recipient off the suppression list──▶ failed (RECIPIENT_SUPPRESSED)
 *   queued | scheduled | retrying ──cancel──▶ cancelled
 *   failed | dead | cancelled ──requeue (bulk retry)──▶ queued
 */
export const messageStatuses = [
  'queued',
  'scheduled',
  'sending',
  'held',
  'sent',
  'retrying',
  'failed',
  'dead',
  'cancelled',
  'delivered',
  'deferred',
  'bounced',
  'dropped',
  'complained',
] as const;

export type MessageStatus = (typeof messageStatuses)[number];

/** Statuses a worker may claim once the message is due. */
export const claimableStatuses = ['queued', 'scheduled', 'retrying'] as const satisfies readonly MessageStatus[];

/** Statuses an operator may requeue in bulk. */
export const requeueableStatuses = ['failed', 'dead', 'cancelled'] as const satisfies readonly MessageStatus[];

/** Statuses that can still be cancelled: nothing has been handed to a provider yet. */
export const cancellableStatuses = ['queued', 'scheduled', 'retrying'] as const satisfies readonly MessageStatus[];

/** Not yet handed to a provider for good: what "undelivered" alerts and queue depth count. */
export const unsentStatuses = ['queued', 'scheduled', 'sending', 'held', 'retrying'] as const satisfies readonly MessageStatus[];
