import {
  type DeliveryEvent,
  type DeliveryEventType,
  deliveryEventTypes,
  type MessageStatus,
  statusAfterEvent,
  suppressionReasonOf,
} from '@mailroute/core';
import { z } from 'zod';
import type { StoreContext } from './context.js';
import { isUniqueViolation } from './enqueue.js';
import { checkBatchSize, type IncomingEvent, incomingEvent } from './events-input.js';
import { uuidv7 } from './ids.js';
import { TRANSITION_INSERT_COLUMNS } from './rows.js';
import { argumentList, insertRows, type SqlRunner } from './sql.js';

export interface IngestReport {
  /** Events handed in. */
  readonly received: number;
  /** New events written (each once, whatever else it did). */
  readonly stored: number;
  /** Seen before, or twice in this call: nothing done. */
  readonly duplicates: number;
  /** Stored events that moved their message's status. */
  readonly applied: number;
  /** Stored events no message was found for. */
  readonly unmatched: number;
  /** Addresses newly put on the suppression list. */
  readonly suppressed: number;
}

/**
 * What ingestion did with an event: `applied` moved the status; `recorded` kept it (a late or
 * repeated fact, a message a worker holds, an unknown type); `engagement` an open or click;
 * `unmatched` no message found.
 */
export type EventEffect = 'applied' | 'recorded' | 'engagement' | 'unmatched';

export interface EventApi {
  /** Stores provider events in one transaction, once each, and moves their messages on. */
  ingestEvents(events: readonly DeliveryEvent[]): Promise<IngestReport>;
}

const EVENT_INSERT_COLUMNS = [
  'id',
  'provider',
  'provider_event_id',
  'type',
  'provider_type',
  'occurred_at',
  'received_at',
  'recipient',
  'provider_message_id',
  'reason',
  'effect',
  'message_id',
  'attempt_id',
  'payload',
] as const;

/** Statuses a provider's event tells something new about: anything before them was never confirmed sent. */
const confirmedStatuses = new Set<string>(['sent', 'deferred', 'delivered', 'bounced', 'dropped', 'complained'] satisfies MessageStatus[]);
const CHUNK = 500;
/** Concurrent ingestion of the same events (PostgreSQL) loses on the unique index and tries again. */
const ATTEMPTS = 3;
const TRANSITION_REASON_CHARS = 300;
/** As long as the provider's own reason may be (events-input), plus room for ours. */
const UNMATCHED_REASON_CHARS = 1_500;
const emailSchema = z.email();

interface MessageState {
  readonly id: string;
  readonly tenantId: string;
  readonly expected: MessageStatus;
  status: MessageStatus;
  deliveredAt: number | undefined;
  openedAt: number | undefined;
  clickedAt: number | undefined;
  readonly providerMessageId: string | null;
  readonly sentAt: string | null;
  /** The event that confirmed a send nobody had confirmed (held, queued again, ...). */
  confirmedBy: { readonly event: StatusEvent; readonly providerMessageId: string | null } | undefined;
  changed: boolean;
}

/** What applying an event to its message reads of it (an event being ingested, or one stored earlier). */
type StatusEvent = Pick<
  IncomingEvent,
  'provider' | 'providerEventId' | 'type' | 'providerEventType' | 'occurredAt' | 'reason' | 'providerMessageId'
>;

interface AttemptRef {
  readonly id: string;
  readonly messageId: string;
  readonly provider: string;
  readonly providerMessageId: string | null;
}

class ConcurrentChange extends Error {}

interface Correlation {
  readonly messageOf: Map<IncomingEvent, string>;
  /** Events the provider message id led to a message that does not fit them: why they stay unmatched. */
  readonly unmatchedWhy: Map<IncomingEvent, string>;
}

/** The reason column of an event left unmatched on purpose says why first, then the provider's own words. */
function unmatchedReason(event: IncomingEvent, why: string | undefined): string | null {
  if (why === undefined) return event.reason;
  const text = `unmatched: ${why}${event.reason === null ? '' : `; ${event.reason}`}`;
  const chars = Array.from(text);
  return chars.length <= UNMATCHED_REASON_CHARS ? text : `${chars.slice(0, UNMATCHED_REASON_CHARS - 1).join('')}…`;
}

export function createEventApi(ctx: StoreContext): EventApi {
  const p = (index: number) => ctx.raw.placeholder(index);
  const writer = eventWriter(ctx);
  const { marks } = writer;

  async function ingestEvents(events: readonly DeliveryEvent[]): Promise<IngestReport> {
    checkBatchSize(events);
    const receivedAt = ctx.now();
    const unique = new Map<string, IncomingEvent>();
    events.forEach((event, index) => {
      const incoming = incomingEvent(event, index, receivedAt);
      const key = eventKey(incoming.provider, incoming.providerEventId);
      if (!unique.has(key)) unique.set(key, incoming);
    });
    const report = { received: events.length, stored: 0, duplicates: events.length - unique.size, applied: 0, unmatched: 0, suppressed: 0 };
    if (unique.size === 0) return report;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await ctx.raw.transaction((sql) => ingest(sql, [...unique.values()], receivedAt, report));
      } catch (error) {
        if (attempt >= ATTEMPTS || !(isUniqueViolation(error) || isWriteConflict(error) || error instanceof ConcurrentChange)) throw error;
      }
    }
  }

  async function ingest(sql: SqlRunner, events: IncomingEvent[], receivedAtMs: number, base: IngestReport): Promise<IngestReport> {
    const seen = await storedKeys(sql, events);
    const fresh = events.filter((event) => !seen.has(eventKey(event.provider, event.providerEventId)));
    const report = { ...base, duplicates: base.duplicates + events.length - fresh.length };
    if (fresh.length === 0) return report;
    // In time order, so one batch gives the same result however the provider ordered it.
    fresh.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || compare(a.providerEventId, b.providerEventId));

    const { messageOf, unmatchedWhy } = await correlate(sql, fresh);
    // Locked in one statement in id order, after correlation, so two ingestions cannot deadlock.
    const messages = await writer.lockMessages(sql, [...new Set(messageOf.values())]);
    const attempts = await writer.attemptsOf(sql, [...messages.keys()]);
    const receivedAt = new Date(receivedAtMs);
    const eventRows: unknown[][] = [];
    const transitions: unknown[][] = [];
    const suppressions = new Map<string, unknown[]>();

    for (const event of fresh) {
      const eventId = uuidv7(receivedAtMs);
      const messageId = messageOf.get(event);
      const message = messageId === undefined ? undefined : messages.get(messageId);
      const attempt = message ? attemptOf(attempts.get(message.id) ?? [], event) : undefined;
      const effect = message ? applyEvent(message, event, attempt, transitions, receivedAt) : 'unmatched';
      if (effect === 'applied') report.applied += 1;
      if (effect === 'unmatched') report.unmatched += 1;
      eventRows.push([
        eventId,
        event.provider,
        event.providerEventId,
        event.type,
        event.providerEventType,
        event.occurredAt,
        receivedAt,
        event.recipient,
        event.providerMessageId,
        unmatchedReason(event, unmatchedWhy.get(event)),
        effect,
        message?.id ?? null,
        attempt?.id ?? null,
        event.payload,
      ]);
      // The tenant is the message's: an event no message claims cannot say whose list it belongs on.
      const reason = message ? suppressionReasonOf(event) : undefined;
      if (message && reason && event.recipient && emailSchema.safeParse(event.recipient).success) {
        const key = `${message.tenantId}\u0000${event.recipient}`;
        if (!suppressions.has(key)) {
          suppressions.set(key, [uuidv7(receivedAtMs), message.tenantId, event.recipient, reason, 'webhook', eventId, receivedAt]);
        }
      }
    }

    await insertRows(sql, ctx.raw, 'event', EVENT_INSERT_COLUMNS, eventRows);
    await insertRows(sql, ctx.raw, 'message_transition', TRANSITION_INSERT_COLUMNS, transitions);
    await writer.updateMessages(
      sql,
      [...messages.values()].filter((message) => message.changed),
      receivedAt,
    );
    report.suppressed = await writer.insertSuppressions(sql, [...suppressions.values()]);
    report.stored = fresh.length;
    return report;
  }

  /** Events already stored, by (provider, provider event id). */
  async function storedKeys(sql: SqlRunner, events: readonly IncomingEvent[]): Promise<Set<string>> {
    const byProvider = groupBy(events, (event) => event.provider);
    const found = new Set<string>();
    for (const [provider, group] of byProvider) {
      for (const ids of chunks(group.map((event) => event.providerEventId))) {
        const rows = await sql.query<{ provider_event_id: string }>(
          `SELECT provider_event_id FROM event WHERE provider = ${p(1)} AND provider_event_id IN (${ids.map((_, index) => p(index + 2)).join(', ')})`,
          [provider, ...ids],
        );
        for (const row of rows) found.add(eventKey(provider, row.provider_event_id));
      }
    }
    return found;
  }

  /**
   * Our id travelled with the mail; when it is missing or unknown, the provider's message id
   * leads to the attempt (any attempt, also one abandoned after failover) or the message. A
   * provider may reuse its ids, so that way the event's recipient must also be one of the
   * message's recipients: an event that names someone else stays unmatched, with the reason.
   */
  async function correlate(sql: SqlRunner, events: readonly IncomingEvent[]): Promise<Correlation> {
    const messageOf = new Map<IncomingEvent, string>();
    const unmatchedWhy = new Map<IncomingEvent, string>();
    const ourIds = [...new Set(events.flatMap((event) => (event.mailrouteId === null ? [] : [event.mailrouteId])))];
    const known = new Set<string>();
    for (const ids of chunks(ourIds)) {
      const rows = await sql.query<{ id: string }>(`SELECT id FROM message WHERE id IN (${marks(ids)})`, ids);
      for (const row of rows) known.add(row.id);
    }
    const rest: IncomingEvent[] = [];
    for (const event of events) {
      if (event.mailrouteId !== null && known.has(event.mailrouteId)) messageOf.set(event, event.mailrouteId);
      else if (event.providerMessageId !== null) rest.push(event);
    }
    if (rest.length === 0) return { messageOf, unmatchedWhy };
    const keys = [...new Set(rest.map((event) => event.providerMessageId ?? ''))];
    /** Every message the (provider, provider message id) leads to, attempts first. */
    const candidates = new Map<string, string[]>();
    for (const ids of chunks(keys)) {
      const rows = await sql.query<{ message_id: string; provider: string; provider_message_id: string; rank: number }>(
        `SELECT message_id, provider, provider_message_id, 0 AS rank FROM attempt WHERE provider_message_id IN (${marks(ids)})
         UNION ALL
         SELECT id, provider, provider_message_id, 1 AS rank FROM message WHERE provider_message_id IN (${marks(ids, ids.length)}) AND provider IS NOT NULL
         ORDER BY rank`,
        [...ids, ...ids],
      );
      for (const row of rows) {
        const key = eventKey(row.provider, row.provider_message_id);
        const list = candidates.get(key) ?? [];
        if (!list.includes(row.message_id)) list.push(row.message_id);
        candidates.set(key, list);
      }
    }
    const recipients = await recipientsOf(sql, [...new Set([...candidates.values()].flat())]);
    for (const event of rest) {
      const found = candidates.get(eventKey(event.provider, event.providerMessageId ?? ''));
      if (found === undefined) continue;
      const owner = event.recipient === null ? undefined : found.find((id) => recipients.get(id)?.has(event.recipient ?? ''));
      if (owner !== undefined) messageOf.set(event, owner);
      else {
        unmatchedWhy.set(
          event,
          event.recipient === null
            ? `${event.provider} message id ${event.providerMessageId} without our id or a recipient to check`
            : `${event.recipient} is not a recipient of the message ${event.provider} message id ${event.providerMessageId} leads to`,
        );
      }
    }
    return { messageOf, unmatchedWhy };
  }

  /** The envelope recipients (lower-cased) of each message. */
  async function recipientsOf(sql: SqlRunner, messageIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const found = new Map<string, Set<string>>();
    for (const ids of chunks(messageIds)) {
      const rows = await sql.query<{ message_id: string; address: string }>(
        `SELECT message_id, address FROM message_recipient WHERE message_id IN (${marks(ids)})`,
        ids,
      );
      for (const row of rows) found.set(row.message_id, (found.get(row.message_id) ?? new Set()).add(row.address));
    }
    return found;
  }

  return { ingestEvents };
}

/** The event types that can move a status; the rest are engagement or suppression facts, or unknown. */
const STATUS_EVENT_TYPES = new Set<string>(deliveryEventTypes.filter((type) => statusAfterEvent('queued', type) !== undefined));

interface RecordedEventRow extends Record<string, unknown> {
  readonly id: string;
  readonly message_id: string;
  readonly attempt_id: string | null;
  readonly provider: string;
  readonly provider_event_id: string;
  readonly type: DeliveryEventType;
  readonly provider_type: string;
  readonly occurred_at: unknown;
  readonly provider_message_id: string | null;
  readonly reason: string | null;
}

/**
 * Applies the events that arrived while a worker held their messages (`sending`: its result
 * decides first, so ingestion only recorded them), once that result is written: a `delivered`
 * or a bounce that outran the worker's commit still moves the message, as if it had come a
 * moment later. The attempt link is made again now that the worker's attempts are stored. Runs
 * in the caller's transaction; one indexed query when there is nothing to apply. Returns how
 * many events moved a status.
 */
export async function applyRecordedEvents(ctx: StoreContext, sql: SqlRunner, messageIds: readonly string[], now: Date): Promise<number> {
  const rows: RecordedEventRow[] = [];
  for (const ids of chunks(messageIds)) {
    const a = argumentList(ctx.raw);
    const found = await sql.query<RecordedEventRow>(
      `SELECT id, message_id, attempt_id, provider, provider_event_id, type, provider_type, occurred_at, provider_message_id, reason
       FROM event WHERE message_id IN (${a.list(ids)}) AND effect = 'recorded'`,
      a.args,
    );
    // The type is filtered here: in SQL, SQLite's planner would take the (type, received_at) index and read every delivered event.
    rows.push(...found.filter((row) => STATUS_EVENT_TYPES.has(row.type)));
  }
  if (rows.length === 0) return 0;
  const events = rows
    .map((row) => ({
      row,
      event: {
        provider: row.provider,
        providerEventId: row.provider_event_id,
        type: row.type,
        providerEventType: row.provider_type,
        occurredAt: new Date(time(String(row.occurred_at)) ?? now.getTime()),
        reason: row.reason,
        providerMessageId: row.provider_message_id,
      } satisfies StatusEvent,
    }))
    // The order ingestion applies a batch in.
    .sort(
      (a, b) => a.event.occurredAt.getTime() - b.event.occurredAt.getTime() || compare(a.event.providerEventId, b.event.providerEventId),
    );

  const writer = eventWriter(ctx);
  const messages = await writer.lockMessages(sql, [...new Set(rows.map((row) => row.message_id))]);
  const attempts = await writer.attemptsOf(sql, [...messages.keys()]);
  const transitions: unknown[][] = [];
  const changedEvents: unknown[][] = [];
  let applied = 0;
  for (const { row, event } of events) {
    const message = messages.get(row.message_id);
    if (!message) continue;
    const attempt = attemptOf(attempts.get(message.id) ?? [], event);
    const effect = applyEvent(message, event, attempt, transitions, now);
    if (effect === 'applied') applied += 1;
    const attemptId = attempt?.id ?? row.attempt_id;
    if (effect !== 'recorded' || attemptId !== row.attempt_id) changedEvents.push([effect, attemptId, row.id]);
  }
  await insertRows(sql, ctx.raw, 'message_transition', TRANSITION_INSERT_COLUMNS, transitions);
  await writer.updateMessages(
    sql,
    [...messages.values()].filter((message) => message.changed),
    now,
  );
  const p = (index: number) => ctx.raw.placeholder(index);
  await sql.executeEach(`UPDATE event SET effect = ${p(1)}, attempt_id = ${p(2)} WHERE id = ${p(3)}`, changedEvents);
  return applied;
}

/** Reads and writes the messages events move: shared by ingestion and by the worker's completion. */
function eventWriter(ctx: StoreContext) {
  const p = (index: number) => ctx.raw.placeholder(index);

  /** The messages' current state; on PostgreSQL locked, so concurrent ingestion and claims wait their turn. */
  async function lockMessages(sql: SqlRunner, ids: readonly string[]): Promise<Map<string, MessageState>> {
    const messages = new Map<string, MessageState>();
    const lock = ctx.dialect === 'postgres' ? ' FOR UPDATE' : '';
    for (const chunk of chunks([...ids].sort(compare))) {
      const rows = await sql.query<Record<string, string | null>>(
        `SELECT id, tenant_id, status, delivered_at, opened_at, clicked_at, provider_message_id, sent_at
         FROM message WHERE id IN (${marks(chunk)}) ORDER BY id${lock}`,
        chunk,
      );
      for (const row of rows) {
        const status = String(row.status) as MessageStatus;
        messages.set(String(row.id), {
          id: String(row.id),
          tenantId: String(row.tenant_id),
          expected: status,
          status,
          deliveredAt: time(row.delivered_at),
          openedAt: time(row.opened_at),
          clickedAt: time(row.clicked_at),
          providerMessageId: row.provider_message_id ?? null,
          sentAt: row.sent_at ?? null,
          confirmedBy: undefined,
          changed: false,
        });
      }
    }
    return messages;
  }

  async function attemptsOf(sql: SqlRunner, messageIds: readonly string[]): Promise<Map<string, AttemptRef[]>> {
    const found = new Map<string, AttemptRef[]>();
    for (const ids of chunks(messageIds)) {
      const rows = await sql.query<{ id: string; message_id: string; provider: string; provider_message_id: string | null }>(
        `SELECT id, message_id, provider, provider_message_id FROM attempt WHERE message_id IN (${marks(ids)}) ORDER BY started_at, id`,
        ids,
      );
      for (const row of rows) {
        const list = found.get(row.message_id) ?? [];
        list.push({ id: row.id, messageId: row.message_id, provider: row.provider, providerMessageId: row.provider_message_id });
        found.set(row.message_id, list);
      }
    }
    return found;
  }

  /**
   * One UPDATE per shape of change, guarded by the status read under the lock (PostgreSQL) or
   * the single writer (SQLite): a miss means someone changed the message anyway, and the
   * decisions made on the old status are void.
   */
  async function updateMessages(sql: SqlRunner, changed: readonly MessageState[], now: Date): Promise<void> {
    const plain = changed.filter((message) => !message.confirmedBy);
    const confirmed = changed.filter((message) => message.confirmedBy);
    await updateRows(
      sql,
      ['status', 'delivered_at', 'opened_at', 'clicked_at', 'updated_at'],
      plain.map((message) => [message.id, message.expected, ...timesOf(message), now]),
    );
    // Confirmed by the provider: it has the mail, so it leaves the queue and no worker sends it again.
    await updateRows(
      sql,
      [
        'status',
        'delivered_at',
        'opened_at',
        'clicked_at',
        'updated_at',
        'provider',
        'provider_message_id',
        'sent_at',
        'finished_at',
        'next_attempt_at',
        'held_provider',
        'held_until',
        'lease_owner',
        'lease_expires_at',
      ],
      confirmed.map((message) => [
        message.id,
        message.expected,
        ...timesOf(message),
        now,
        message.confirmedBy?.event.provider ?? null,
        message.confirmedBy?.providerMessageId ?? message.providerMessageId,
        message.sentAt === null ? now : new Date(message.sentAt),
        now,
        null,
        null,
        null,
        null,
        null,
      ]),
    );
  }

  async function updateRows(sql: SqlRunner, columns: readonly string[], rows: readonly unknown[][]): Promise<void> {
    if (rows.length === 0) return;
    if (ctx.dialect === 'sqlite') {
      // One prepared single-row UPDATE per message costs SQLite less than joining a VALUES list (measured).
      const text = `UPDATE message SET ${columns.map((column) => `${column} = ?`).join(', ')} WHERE id = ? AND status = ?`;
      const moved = await sql.executeEach(
        text,
        rows.map(([id, expected, ...values]) => [...values, id, expected]),
      );
      if (moved !== rows.length) throw new ConcurrentChange('a message changed while its events were applied');
      return;
    }
    const perStatement = Math.max(1, Math.floor(30_000 / (columns.length + 2)));
    for (let start = 0; start < rows.length; start += perStatement) {
      const chunk = rows.slice(start, start + perStatement);
      const a = argumentList(ctx.raw);
      const names = ['target', 'expected', ...columns];
      const values = chunk.map((row) => `(${row.map((value, index) => `${a.add(value)}${cast(names[index] ?? '')}`).join(', ')})`);
      const set = columns.map((column) => `${column} = v.${column}`);
      const moved = await sql.query<{ id: string }>(
        `WITH v(${names.join(', ')}) AS (VALUES ${values.join(', ')})
         UPDATE message SET ${set.join(', ')}
         FROM v WHERE message.id = v.target AND message.status = v.expected
         RETURNING message.id`,
        a.args,
      );
      if (moved.length !== chunk.length) throw new ConcurrentChange('a message changed while its events were applied');
    }
  }

  function cast(column: string): string {
    if (ctx.dialect !== 'postgres') return '';
    return column.endsWith('_at') || column === 'held_until' ? '::timestamptz' : '::text';
  }

  async function insertSuppressions(sql: SqlRunner, rows: readonly unknown[][]): Promise<number> {
    let added = 0;
    for (const chunk of chunks(rows)) {
      const a = argumentList(ctx.raw);
      const values = chunk.map((row) => `(${a.list(row)})`).join(', ');
      // An address already on the list keeps its first entry: that reason is the one that matters.
      const inserted = await sql.query<{ id: string }>(
        `INSERT INTO suppression (id, tenant_id, address, reason, source, event_id, created_at) VALUES ${values}
         ON CONFLICT (tenant_id, address) DO NOTHING RETURNING id`,
        a.args,
      );
      added += inserted.length;
    }
    return added;
  }

  function marks(values: readonly unknown[], offset = 0): string {
    return values.map((_, index) => p(offset + index + 1)).join(', ');
  }

  return { lockMessages, attemptsOf, updateMessages, insertSuppressions, marks };
}

/** What one event does to its message (in memory; written once per batch). */
function applyEvent(
  message: MessageState,
  event: StatusEvent,
  attempt: AttemptRef | undefined,
  transitions: unknown[][],
  now: Date,
): 'applied' | 'recorded' | 'engagement' {
  const at = event.occurredAt.getTime();
  if (event.type === 'delivered') message.deliveredAt = earliest(message.deliveredAt, at, message);
  if (event.type === 'opened') message.openedAt = earliest(message.openedAt, at, message);
  if (event.type === 'clicked') message.clickedAt = earliest(message.clickedAt, at, message);
  const from = message.status;
  const to = statusAfterEvent(from, event.type);
  if (to === undefined) return event.type === 'opened' || event.type === 'clicked' ? 'engagement' : 'recorded';
  const confirms = !confirmedStatuses.has(from);
  if (confirms && !message.confirmedBy) {
    message.confirmedBy = { event, providerMessageId: attempt?.providerMessageId ?? event.providerMessageId };
  }
  message.status = to;
  message.changed = true;
  transitions.push([message.id, from, to, now, transitionReason(event, from, confirms)]);
  return 'applied';
}

function transitionReason(event: StatusEvent, from: MessageStatus, confirms: boolean): string {
  const source = `${event.provider}'s ${event.providerEventType} event ${event.providerEventId}`;
  const detail = event.reason === null ? '' : `: ${event.reason}`;
  const text = confirms
    ? `${from === 'held' ? 'held send' : `${from} message`} confirmed by ${source}; it is not sent again${detail}`
    : `${event.type} reported by ${source}${detail}`;
  return text.length <= TRANSITION_REASON_CHARS ? text : `${text.slice(0, TRANSITION_REASON_CHARS - 1)}…`;
}

function earliest(current: number | undefined, at: number, message: MessageState): number {
  if (current !== undefined && current <= at) return current;
  message.changed = true;
  return at;
}

/**
 * The attempt that produced the event: the one on that provider with that provider message
 * id, else the latest on that provider (an ambiguous send never learnt its id).
 */
function attemptOf(attempts: readonly AttemptRef[], event: StatusEvent): AttemptRef | undefined {
  const onProvider = attempts.filter((attempt) => attempt.provider === event.provider);
  const exact =
    event.providerMessageId === null ? undefined : onProvider.find((attempt) => attempt.providerMessageId === event.providerMessageId);
  return exact ?? onProvider.at(-1);
}

/** The status and the three first-time facts, in the order the UPDATEs list them. */
function timesOf(message: MessageState): unknown[] {
  const date = (ms: number | undefined) => (ms === undefined ? null : new Date(ms));
  return [message.status, date(message.deliveredAt), date(message.openedAt), date(message.clickedAt)];
}

function time(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function isWriteConflict(error: unknown): boolean {
  return (error as { cause?: { kind?: unknown } } | undefined)?.cause?.kind === 'TransactionWriteConflict';
}

function eventKey(provider: string, id: string): string {
  return `${provider}\u0000${id}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item)) ?? [];
    group.push(item);
    groups.set(key(item), group);
  }
  return groups;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += CHUNK) out.push(items.slice(start, start + CHUNK));
  return out;
}
