import {
  type Address,
  type AttemptRecord,
  type DispatchOutcome,
  type MailError,
  type Message,
  type MessageContent,
  type MessageStatus,
  redact,
} from '@mailroute/core';
import type { Prisma } from './database.js';
import type { Attempt as AttemptRow, Message as MessageRow, MessageTransition as TransitionRow } from './generated/postgres/client.js';
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
}

export interface AttemptView {
  readonly id: string;
  readonly messageId: string;
  readonly worker?: string;
  readonly provider: string;
  readonly providerType: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly latencyMs: number;
  readonly outcome: 'accepted' | 'failed';
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

/** One message with its whole history: what was sent, every provider call, every status change. */
export interface MessageDetail extends MessageSummary {
  readonly message: Message;
  readonly attempts: readonly AttemptView[];
  readonly transitions: readonly TransitionView[];
}

/**
 * A provider may describe the request it made (recipients count, endpoint, ...); core's
 * attempt record does not carry that field yet, so it is read when present.
 */
export type AttemptInput = AttemptRecord & { readonly requestSummary?: unknown };

const json = (value: unknown) => value as Prisma.InputJsonValue;

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
  'next_attempt_at',
  'created_at',
  'updated_at',
] as const;

export function messageValues(
  content: MessageContent,
  init: { id: string; tenantId: string; status: MessageStatus; now: Date; nextAttemptAt: Date },
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
    init.nextAttemptAt,
    init.now,
    init.now,
  ];
}

export const RECIPIENT_INSERT_COLUMNS = ['id', 'message_id', 'kind', 'address'] as const;

/** Envelope recipients, lower-cased, one row each. */
export function recipientValues(messageId: string, content: MessageContent, now: number): unknown[][] {
  const kinds = [
    ['to', content.to],
    ['cc', content.cc],
    ['bcc', content.bcc],
  ] as const;
  return kinds.flatMap(([kind, list]) => list.map((address) => [uuidv7(now), messageId, kind, address.email.toLowerCase()]));
}

export const TAG_INSERT_COLUMNS = ['message_id', 'tag'] as const;

export function tagValues(messageId: string, content: MessageContent): unknown[][] {
  return [...new Set(content.tags)].map((tag) => [messageId, tag]);
}

export const TRANSITION_INSERT_COLUMNS = ['id', 'message_id', 'from_status', 'to_status', 'at', 'reason'] as const;

export function transitionRow(
  messageId: string,
  fromStatus: string | null,
  toStatus: MessageStatus,
  at: Date,
  reason: string,
): Prisma.MessageTransitionCreateManyInput {
  return { id: uuidv7(at.getTime()), messageId, fromStatus, toStatus, at, reason };
}

/**
 * Providers redact what they report; the store redacts again before anything reaches disk,
 * so a provider that forgot cannot leak a key into the attempt log.
 */
export function attemptRow(attempt: AttemptInput, worker: string): Prisma.AttemptCreateManyInput {
  const error = attempt.error === undefined ? undefined : redact(attempt.error);
  return {
    id: uuidv7(attempt.startedAt),
    messageId: attempt.messageId,
    worker,
    provider: attempt.provider,
    providerType: attempt.providerType,
    startedAt: new Date(attempt.startedAt),
    finishedAt: new Date(attempt.finishedAt),
    latencyMs: Math.round(attempt.latencyMs),
    outcome: attempt.outcome,
    errorCategory: error?.category ?? null,
    errorCode: error?.code ?? null,
    errorMessage: error?.message ?? null,
    statusCode: attempt.detail?.status ?? error?.detail?.status ?? null,
    providerMessageId: attempt.providerMessageId ?? null,
    ...(attempt.requestSummary === undefined ? {} : { requestSummary: json(redact(attempt.requestSummary)) }),
    ...(attempt.detail === undefined ? {} : { detail: json(redact(attempt.detail)) }),
    ...(error === undefined ? {} : { error: json(error) }),
  };
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

/** What one dispatch round changes on the message row. */
export function outcomeUpdate(outcome: DispatchOutcome, now: Date): Prisma.MessageUpdateManyMutationInput {
  const base = {
    status: outcomeStatus(outcome),
    rounds: { increment: 1 },
    leaseOwner: null,
    leaseExpiresAt: null,
    updatedAt: now,
  };
  if (outcome.kind === 'sent') {
    return {
      ...base,
      provider: outcome.provider,
      providerMessageId: outcome.providerMessageId,
      sentAt: now,
      finishedAt: now,
      nextAttemptAt: null,
      heldProvider: null,
      heldUntil: null,
    };
  }
  const error = redact(outcome.error);
  const failure = { ...base, lastErrorCode: error.code, lastError: json(error) };
  switch (outcome.kind) {
    case 'failed':
    case 'dead':
      return { ...failure, finishedAt: now, nextAttemptAt: null };
    case 'retry':
      return { ...failure, nextAttemptAt: new Date(outcome.at) };
    case 'held':
      return { ...failure, heldProvider: outcome.provider, heldUntil: new Date(outcome.until), nextAttemptAt: new Date(outcome.until) };
  }
}

export function outcomeReason(outcome: DispatchOutcome): string {
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
  };
}

export function attemptFromRow(row: AttemptRow): AttemptView {
  return {
    id: row.id,
    messageId: row.messageId,
    ...(row.worker === null ? {} : { worker: row.worker }),
    provider: row.provider,
    providerType: row.providerType,
    startedAt: row.startedAt.getTime(),
    finishedAt: row.finishedAt.getTime(),
    latencyMs: row.latencyMs,
    outcome: row.outcome === 'accepted' ? 'accepted' : 'failed',
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

function optionalTime<K extends string>(key: K, value: Date | null): { [P in K]?: number } {
  return (value === null ? {} : { [key]: value.getTime() }) as { [P in K]?: number };
}
