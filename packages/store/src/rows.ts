import {
  type Address,
  type AttemptRecord,
  type DeliveryEventType,
  type DispatchOutcome,
  type MailError,
  type Message,
  type MessageContent,
  type MessageStatus,
  redact,
} from '@mailroute/core';
import { cleanOptional, cleanText, jsonText } from './clean-text.js';
import type { Prisma } from './database.js';
import type { EventEffect } from './events.js';
import type {
  Attempt as AttemptRow,
  Event as EventRow,
  Message as MessageRow,
  MessageTransition as TransitionRow,
} from './generated/postgres/client.js';
import { uuidv7 } from './ids.js';

/** Dispatch state and bookkeeping of a message, as operators see it (times in epoch ms). */
export interface MessageSummary {
  readonly id: string;
  readonly tenantId: string;
  readonly status: MessageStatus;
  readonly from: Address;
  readonly to: readonly Address[];
  readonly subject: string;
  readonly tags: readonly string[];
  readonly rounds: number;
  readonly nextAttemptAt?: number;
  /** Only while `sending`. */
  readonly leaseOwner?: string;
  readonly leaseExpiresAt?: number;
  /** The provider that accepted the message. */
  readonly provider?: string;
  readonly providerMessageId?: string;
  readonly lastErrorCode?: string;
  readonly lastError?: MailError;
  readonly heldProvider?: string;
  readonly heldUntil?: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly sentAt?: number;
  /** When mailroute stopped dispatching it: sent, failed, dead or cancelled. */
  readonly finishedAt?: number;
  /** The earliest delivery, open and click the providers reported (engagement never changes the status). */
  readonly deliveredAt?: number;
  readonly openedAt?: number;
  readonly clickedAt?: number;
}

export interface AttemptView {
  readonly id: string;
  readonly messageId: string;
  readonly worker?: string;
  /** Absent only on an `unknown` outcome when nobody knows which provider the worker was calling. */
  readonly provider?: string;
  readonly providerType?: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly latencyMs: number;
  /**
   * `unknown`: the worker died (its lease was recovered) while it held the message; the provider
   * may have accepted it, so the recipient may get it twice once it is sent again.
   */
  readonly outcome: 'accepted' | 'failed' | 'unknown';
  readonly errorCategory?: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly statusCode?: number;
  readonly providerMessageId?: string;
  readonly requestSummary?: unknown;
  readonly detail?: unknown;
  readonly error?: MailError;
}

export interface TransitionView {
  readonly from?: MessageStatus;
  readonly to: MessageStatus;
  readonly at: number;
  readonly reason: string;
}

/** One provider event about the message, as ingestion stored it (the raw payload stays in the database). */
export interface EventView {
  readonly id: string;
  readonly type: DeliveryEventType;
  /** The provider's own name for it (`bounce`, `DeliveryDelay`, ...). */
  readonly providerEventType: string;
  readonly provider: string;
  readonly providerEventId: string;
  readonly recipient?: string;
  readonly providerMessageId?: string;
  readonly reason?: string;
  readonly effect: EventEffect;
  /** The attempt that produced it (also one abandoned after failover). */
  readonly attemptId?: string;
  readonly occurredAt: number;
  readonly receivedAt: number;
}

/** One message with its whole history: what was sent, every provider call, every status change, every provider event. */
export interface MessageDetail extends MessageSummary {
  readonly message: Message;
  readonly attempts: readonly AttemptView[];
  readonly transitions: readonly TransitionView[];
  /** Oldest first by when the provider saw it. */
  readonly events: readonly EventView[];
  /** Recipients left out when the mail was last claimed for sending: on the suppression list then. */
  readonly suppressedRecipients: readonly SuppressedRecipientView[];
}

export interface SuppressedRecipientView {
  readonly address: string;
  readonly kind: 'to' | 'cc' | 'bcc';
  /** The suppression list's reason (hard_bounce, complaint, unsubscribe, or an operator's words). */
  readonly reason: string;
  readonly at: number;
}

/**
 * A provider may describe the request it made (recipients count, endpoint, ...); core's
 * attempt record does not carry that field yet, so it is read when present.
 */
export type AttemptInput = AttemptRecord;

/** Statuses are written by the store only; the column is text so new statuses need no migration. */
export function asStatus(value: string): MessageStatus {
  return value as MessageStatus;
}

/** The message table's columns an enqueue writes, and one message's values for them. */
export const MESSAGE_INSERT_COLUMNS = [
  'id',
  'tenant_id',
  'status',
  'from_address',
  'to_addresses',
  'cc_addresses',
  'bcc_addresses',
  'reply_to_addresses',
  'subject',
  'text',
  'html',
  'attachments',
  'headers',
  'tags',
  'metadata',
  'send_at',
  'idempotency_key',
  'idempotency_hash',
  'next_attempt_at',
  'created_at',
  'updated_at',
] as const;

export function messageValues(
  content: MessageContent,
  init: { id: string; tenantId: string; status: MessageStatus; now: Date; nextAttemptAt: Date; idempotencyHash: string | null },
): unknown[] {
  return [
    init.id,
    init.tenantId,
    init.status,
    JSON.stringify(content.from),
    JSON.stringify(content.to),
    JSON.stringify(content.cc),
    JSON.stringify(content.bcc),
    JSON.stringify(content.replyTo),
    content.subject,
    content.text ?? null,
    content.html ?? null,
    JSON.stringify(content.attachments),
    JSON.stringify(content.headers),
    JSON.stringify(content.tags),
    JSON.stringify(content.metadata),
    content.sendAt ?? null,
    content.idempotencyKey ?? null,
    init.idempotencyHash,
    init.nextAttemptAt,
    init.now,
    init.now,
  ];
}

export const RECIPIENT_INSERT_COLUMNS = ['message_id', 'kind', 'address'] as const;

/** Envelope recipients, lower-cased, one row each. */
export function recipientValues(messageId: string, content: MessageContent): unknown[][] {
  const kinds = [
    ['to', content.to],
    ['cc', content.cc],
    ['bcc', content.bcc],
  ] as const;
  return kinds.flatMap(([kind, list]) => list.map((address) => [messageId, kind, address.email.toLowerCase()]));
}

export const TAG_INSERT_COLUMNS = ['message_id', 'tag'] as const;

export function tagValues(messageId: string, content: MessageContent): unknown[][] {
  return [...new Set(content.tags)].map((tag) => [messageId, tag]);
}

export const TRANSITION_INSERT_COLUMNS = ['message_id', 'from_status', 'to_status', 'at', 'reason'] as const;

export function transitionRow(
  messageId: string,
  fromStatus: string | null,
  toStatus: MessageStatus,
  at: Date,
  reason: string,
): Prisma.MessageTransitionCreateManyInput {
  return { messageId, fromStatus, toStatus, at, reason };
}

export const ATTEMPT_INSERT_COLUMNS = [
  'id',
  'message_id',
  'worker',
  'provider',
  'provider_type',
  'started_at',
  'finished_at',
  'latency_ms',
  'outcome',
  'error_category',
  'error_code',
  'error_message',
  'status_code',
  'provider_message_id',
  'request_summary',
  'detail',
  'error',
] as const;

/**
 * Providers redact what they report; the store redacts again before anything reaches disk,
 * so a provider that forgot cannot leak a key into the attempt log. Their words are cleaned
 * (clean-text.ts): an answer PostgreSQL cannot store must not hold up the outcome it belongs to.
 */
export function attemptValues(attempt: AttemptInput, worker: string): unknown[] {
  const error = attempt.error === undefined ? undefined : redact(attempt.error);
  return [
    uuidv7(attempt.startedAt),
    attempt.messageId,
    worker,
    attempt.provider,
    attempt.providerType,
    new Date(attempt.startedAt),
    new Date(attempt.finishedAt),
    Math.round(attempt.latencyMs),
    attempt.outcome,
    error?.category ?? null,
    error?.code ?? null,
    cleanOptional(error?.message),
    attempt.detail?.status ?? error?.detail?.status ?? null,
    cleanOptional(attempt.providerMessageId),
    jsonOrNull(attempt.requestSummary === undefined ? undefined : redact(attempt.requestSummary)),
    jsonOrNull(attempt.detail === undefined ? undefined : redact(attempt.detail)),
    jsonOrNull(error),
  ];
}

function jsonOrNull(value: unknown): string | null {
  return value === undefined ? null : (jsonText(value) ?? null);
}

export function outcomeStatus(outcome: DispatchOutcome): MessageStatus {
  switch (outcome.kind) {
    case 'sent':
      return 'sent';
    case 'failed':
      return 'failed';
    case 'retry':
      return 'retrying';
    case 'dead':
      return 'dead';
    case 'held':
      return 'held';
  }
}

/** What one dispatch round changes on the message row, by column (a retry also counts the round). */
export function outcomeColumns(outcome: DispatchOutcome, now: Date): Record<string, unknown> {
  const base = { status: outcomeStatus(outcome), lease_owner: null, lease_expires_at: null, updated_at: now };
  if (outcome.kind === 'sent') {
    return {
      ...base,
      provider: outcome.provider,
      provider_message_id: cleanText(outcome.providerMessageId),
      sent_at: now,
      finished_at: now,
      next_attempt_at: null,
      held_provider: null,
      held_until: null,
    };
  }
  const error = redact(outcome.error);
  const failure = { ...base, last_error_code: error.code, last_error: jsonText(error) };
  switch (outcome.kind) {
    case 'failed':
    case 'dead':
      return { ...failure, finished_at: now, next_attempt_at: null };
    case 'retry':
      return { ...failure, next_attempt_at: new Date(outcome.at) };
    case 'held':
      return { ...failure, held_provider: outcome.provider, held_until: new Date(outcome.until), next_attempt_at: new Date(outcome.until) };
  }
}

export function outcomeReason(outcome: DispatchOutcome): string {
  return cleanText(reasonOf(outcome));
}

function reasonOf(outcome: DispatchOutcome): string {
  switch (outcome.kind) {
    case 'sent':
      return `accepted by ${outcome.provider} as ${outcome.providerMessageId}`;
    case 'failed':
      return `${outcome.error.code}: ${outcome.error.message}`;
    case 'retry':
      return `retry at ${new Date(outcome.at).toISOString()} after ${outcome.error.code}: ${outcome.error.message}`;
    case 'dead':
      return `${outcome.reason} reached; last error ${outcome.error.code}: ${outcome.error.message}`;
    case 'held':
      return `ambiguous answer from ${outcome.provider} (${outcome.error.code}); waiting for its events until ${new Date(outcome.until).toISOString()}`;
  }
}

/**
 * A message row read with plain SQL: both adapters give timestamps as ISO text and JSON as
 * its text, whichever database.
 */
export function claimedFromRaw(row: Record<string, unknown>): {
  message: Message;
  rounds: number;
  createdAt: number;
  heldProvider: string | undefined;
} {
  const json = (column: string): unknown => {
    const value = row[column];
    return typeof value === 'string' ? JSON.parse(value) : value;
  };
  const text = (column: string): string | undefined =>
    row[column] === null || row[column] === undefined ? undefined : String(row[column]);
  const time = (column: string): Date | undefined => {
    const value = text(column);
    return value === undefined ? undefined : new Date(value);
  };
  const body = text('text');
  const html = text('html');
  const sendAt = time('send_at');
  const idempotencyKey = text('idempotency_key');
  return {
    message: {
      id: String(row.id),
      from: json('from_address') as Address,
      to: json('to_addresses') as Address[],
      cc: json('cc_addresses') as Address[],
      bcc: json('bcc_addresses') as Address[],
      replyTo: json('reply_to_addresses') as Address[],
      subject: String(row.subject),
      ...(body === undefined ? {} : { text: body }),
      ...(html === undefined ? {} : { html }),
      attachments: json('attachments') as Message['attachments'],
      headers: json('headers') as Message['headers'],
      tags: json('tags') as string[],
      metadata: json('metadata') as Message['metadata'],
      ...(sendAt === undefined ? {} : { sendAt }),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    },
    rounds: Number(row.rounds),
    createdAt: time('created_at')?.getTime() ?? 0,
    heldProvider: text('held_provider'),
  };
}

export function messageFromRow(row: MessageRow): Message {
  return {
    id: row.id,
    from: row.from as unknown as Address,
    to: row.to as unknown as Address[],
    cc: row.cc as unknown as Address[],
    bcc: row.bcc as unknown as Address[],
    replyTo: row.replyTo as unknown as Address[],
    subject: row.subject,
    ...(row.text === null ? {} : { text: row.text }),
    ...(row.html === null ? {} : { html: row.html }),
    attachments: row.attachments as unknown as Message['attachments'],
    headers: row.headers as unknown as Message['headers'],
    tags: row.tags as unknown as string[],
    metadata: row.metadata as unknown as Message['metadata'],
    ...(row.sendAt === null ? {} : { sendAt: row.sendAt }),
    ...(row.idempotencyKey === null ? {} : { idempotencyKey: row.idempotencyKey }),
  };
}

type SummaryRow = Pick<
  MessageRow,
  | 'id'
  | 'tenantId'
  | 'status'
  | 'from'
  | 'to'
  | 'subject'
  | 'tags'
  | 'rounds'
  | 'nextAttemptAt'
  | 'leaseOwner'
  | 'leaseExpiresAt'
  | 'provider'
  | 'providerMessageId'
  | 'lastErrorCode'
  | 'lastError'
  | 'heldProvider'
  | 'heldUntil'
  | 'createdAt'
  | 'updatedAt'
  | 'sentAt'
  | 'finishedAt'
  | 'deliveredAt'
  | 'openedAt'
  | 'clickedAt'
>;

export const summarySelect = {
  id: true,
  tenantId: true,
  status: true,
  from: true,
  to: true,
  subject: true,
  tags: true,
  rounds: true,
  nextAttemptAt: true,
  leaseOwner: true,
  leaseExpiresAt: true,
  provider: true,
  providerMessageId: true,
  lastErrorCode: true,
  lastError: true,
  heldProvider: true,
  heldUntil: true,
  createdAt: true,
  updatedAt: true,
  sentAt: true,
  finishedAt: true,
  deliveredAt: true,
  openedAt: true,
  clickedAt: true,
} as const satisfies Record<keyof SummaryRow, true>;

export function summaryFromRow(row: SummaryRow): MessageSummary {
  const status = asStatus(row.status);
  const sending = status === 'sending';
  return {
    id: row.id,
    tenantId: row.tenantId,
    status,
    from: row.from as unknown as Address,
    to: row.to as unknown as Address[],
    subject: row.subject,
    tags: row.tags as unknown as string[],
    rounds: row.rounds,
    ...optionalTime('nextAttemptAt', row.nextAttemptAt),
    ...(sending && row.leaseOwner !== null ? { leaseOwner: row.leaseOwner } : {}),
    ...(sending ? optionalTime('leaseExpiresAt', row.leaseExpiresAt) : {}),
    ...(row.provider === null ? {} : { provider: row.provider }),
    ...(row.providerMessageId === null ? {} : { providerMessageId: row.providerMessageId }),
    ...(row.lastErrorCode === null ? {} : { lastErrorCode: row.lastErrorCode }),
    ...(row.lastError === null ? {} : { lastError: row.lastError as unknown as MailError }),
    ...(row.heldProvider === null ? {} : { heldProvider: row.heldProvider }),
    ...optionalTime('heldUntil', row.heldUntil),
    createdAt: row.createdAt.getTime(),
    updatedAt: row.updatedAt.getTime(),
    ...optionalTime('sentAt', row.sentAt),
    ...optionalTime('finishedAt', row.finishedAt),
    ...optionalTime('deliveredAt', row.deliveredAt),
    ...optionalTime('openedAt', row.openedAt),
    ...optionalTime('clickedAt', row.clickedAt),
  };
}

export function attemptFromRow(row: AttemptRow): AttemptView {
  return {
    id: row.id,
    messageId: row.messageId,
    ...(row.worker === null ? {} : { worker: row.worker }),
    ...(row.provider === null ? {} : { provider: row.provider }),
    ...(row.providerType === null ? {} : { providerType: row.providerType }),
    startedAt: row.startedAt.getTime(),
    finishedAt: row.finishedAt.getTime(),
    latencyMs: row.latencyMs,
    outcome: row.outcome === 'accepted' || row.outcome === 'unknown' ? row.outcome : 'failed',
    ...(row.errorCategory === null ? {} : { errorCategory: row.errorCategory }),
    ...(row.errorCode === null ? {} : { errorCode: row.errorCode }),
    ...(row.errorMessage === null ? {} : { errorMessage: row.errorMessage }),
    ...(row.statusCode === null ? {} : { statusCode: row.statusCode }),
    ...(row.providerMessageId === null ? {} : { providerMessageId: row.providerMessageId }),
    ...(row.requestSummary === null ? {} : { requestSummary: row.requestSummary }),
    ...(row.detail === null ? {} : { detail: row.detail }),
    ...(row.error === null ? {} : { error: row.error as unknown as MailError }),
  };
}

export function transitionFromRow(row: TransitionRow): TransitionView {
  return {
    ...(row.fromStatus === null ? {} : { from: asStatus(row.fromStatus) }),
    to: asStatus(row.toStatus),
    at: row.at.getTime(),
    reason: row.reason,
  };
}

/** The event columns the detail shows: everything but the payload. */
export const eventViewSelect = {
  id: true,
  type: true,
  providerType: true,
  provider: true,
  providerEventId: true,
  recipient: true,
  providerMessageId: true,
  reason: true,
  effect: true,
  attemptId: true,
  occurredAt: true,
  receivedAt: true,
} as const satisfies Partial<Record<keyof EventRow, true>>;

export function eventFromRow(row: Pick<EventRow, keyof typeof eventViewSelect>): EventView {
  return {
    id: row.id,
    type: row.type as DeliveryEventType,
    providerEventType: row.providerType,
    provider: row.provider,
    providerEventId: row.providerEventId,
    ...(row.recipient === null ? {} : { recipient: row.recipient }),
    ...(row.providerMessageId === null ? {} : { providerMessageId: row.providerMessageId }),
    ...(row.reason === null ? {} : { reason: row.reason }),
    effect: row.effect as EventEffect,
    ...(row.attemptId === null ? {} : { attemptId: row.attemptId }),
    occurredAt: row.occurredAt.getTime(),
    receivedAt: row.receivedAt.getTime(),
  };
}

function optionalTime<K extends string>(key: K, value: Date | null): { [P in K]?: number } {
  return (value === null ? {} : { [key]: value.getTime() }) as { [P in K]?: number };
}

/** What a requeue resets: the message starts over as new mail, due now. */
export function requeuedFields(now: Date) {
  return {
    status: 'queued',
    rounds: 0,
    nextAttemptAt: now,
    leaseOwner: null,
    leaseExpiresAt: null,
    heldProvider: null,
    heldUntil: null,
    finishedAt: null,
    updatedAt: now,
  } as const;
}
