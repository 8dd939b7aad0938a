import { type ClaimedMessage, claimableStatuses, type DispatchOutcome, type DispatchQueue } from '@mailroute/core';
import { checkClaimSuppressions, describeLeftOut, type LeftOut, withoutLeftOut } from './claim-suppressions.js';
import type { StoreContext } from './context.js';
import { applyRecordedEvents } from './events.js';
import { recordUnknownAttempts } from './lease-recovery.js';
import {
  ATTEMPT_INSERT_COLUMNS,
  attemptValues,
  claimedFromRaw,
  outcomeColumns,
  outcomeReason,
  outcomeStatus,
  TRANSITION_INSERT_COLUMNS,
} from './rows.js';
import { argumentList, insertRows, type SqlRunner } from './sql.js';

/** Claimable once due: new, scheduled and retrying mail, and held mail whose confirmation window is over. */
const DUE_STATUSES = [...claimableStatuses, 'held'] as const;

/** Messages locked per statement, as ingestion does (events.ts). */
const LOCK_CHUNK = 500;

/** Parameters in a VALUES list are text to PostgreSQL until cast to their column's type. */
const POSTGRES_TYPES: Record<string, string> = {
  lease_expires_at: 'timestamptz',
  updated_at: 'timestamptz',
  sent_at: 'timestamptz',
  finished_at: 'timestamptz',
  next_attempt_at: 'timestamptz',
  held_until: 'timestamptz',
  last_error: 'jsonb',
};

/**
 * The dispatcher's side of the store: claim with a lease, complete, release, recover. All of
 * it is plain SQL: a worker-only process then never starts Prisma's query compiler (tens of MB).
 */
export function createDispatchQueue(ctx: StoreContext): DispatchQueue {
  /** Leases due rows to `owner` and returns them whole, each with the status it was claimed from. */
  async function pickDue(sql: SqlRunner, owner: string, limit: number, now: Date, expires: Date): Promise<Record<string, unknown>[]> {
    const a = argumentList(ctx.raw);
    const due = `status IN (${a.list(DUE_STATUSES)}) AND next_attempt_at <= ${a.add(now)}`;
    if (ctx.dialect === 'postgres') {
      // SKIP LOCKED: concurrent workers each take different rows instead of queueing on the same ones.
      return sql.query(
        `WITH picked AS (
           SELECT id, status FROM message WHERE ${due} ORDER BY next_attempt_at LIMIT ${a.add(limit)} FOR UPDATE SKIP LOCKED
         )
         UPDATE message AS m
         SET status = 'sending', lease_owner = ${a.add(owner)}, lease_expires_at = ${a.add(expires)}, updated_at = ${a.add(now)}
         FROM picked WHERE m.id = picked.id
         RETURNING m.*, picked.status AS claimed_from`,
        a.args,
      );
    }
    // SQLite has one writer: inside this transaction nobody else can claim the same rows.
    const picked = await sql.query<{ id: string; status: string }>(
      `SELECT id, status FROM message WHERE ${due} ORDER BY next_attempt_at LIMIT ${a.add(limit)}`,
      a.args,
    );
    if (picked.length === 0) return [];
    const u = argumentList(ctx.raw);
    const rows = await sql.query(
      `UPDATE message SET status = 'sending', lease_owner = ${u.add(owner)}, lease_expires_at = ${u.add(expires)}, updated_at = ${u.add(now)}
       WHERE id IN (${u.list(picked.map((row) => row.id))}) RETURNING *`,
      u.args,
    );
    const from = new Map(picked.map((row) => [row.id, row.status]));
    return rows.map((row) => ({ ...row, claimed_from: from.get(String(row.id)) }));
  }

  return {
    async claim(owner, limit, leaseMs) {
      if (limit <= 0) return [];
      const nowMs = ctx.now();
      const now = new Date(nowMs);
      const expires = new Date(nowMs + leaseMs);
      const { rows, leftOut } = await ctx.raw.transaction(async (sql) => {
        const picked = await pickDue(sql, owner, Math.floor(limit), now, expires);
        const suppressed = await checkClaimSuppressions(ctx, sql, picked, now);
        const sending = picked.filter((row) => !suppressed.failed.has(String(row.id)));
        const transitions = sending.map((row) => [
          row.id,
          row.claimed_from,
          'sending',
          now,
          claimReason(owner, suppressed.leftOut.get(String(row.id))),
        ]);
        await insertRows(sql, ctx.raw, 'message_transition', TRANSITION_INSERT_COLUMNS, transitions);
        return { rows: sending, leftOut: suppressed.leftOut };
      });
      const due = (row: Record<string, unknown>) => Date.parse(String(row.next_attempt_at));
      return rows
        .sort((a, b) => due(a) - due(b) || String(a.id).localeCompare(String(b.id)))
        .map((row): ClaimedMessage => {
          const { message: stored, rounds, createdAt, heldProvider } = claimedFromRaw(row);
          const message = withoutLeftOut(stored, leftOut.get(stored.id));
          const claimed = { message, rounds, acceptedAt: createdAt, leaseExpiresAt: expires.getTime() };
          // A provider that may already have the message (ambiguous send) is not asked again.
          return heldProvider === undefined ? claimed : { ...claimed, exclude: [heldProvider] };
        });
    },

    async extendLeases(owner, ids, leaseMs) {
      if (ids.length === 0) return;
      const a = argumentList(ctx.raw);
      // In a transaction like every write: on SQLite a lone statement would run inside
      // whatever transaction holds the shared connection at that moment.
      await ctx.raw.transaction((sql) =>
        sql.execute(
          `UPDATE message SET lease_expires_at = ${a.add(new Date(ctx.now() + leaseMs))}
           WHERE id IN (${a.list(ids)}) AND status = 'sending' AND lease_owner = ${a.add(owner)}`,
          a.args,
        ),
      );
    },

    async complete(owner, outcomes) {
      if (outcomes.length === 0) return;
      const now = new Date(ctx.now());
      await ctx.raw.transaction(async (sql) => {
        await lockInIdOrder(
          sql,
          outcomes.map((outcome) => outcome.id),
        );
        // Attempts are facts about provider calls: kept even when the lease was lost.
        const attempts = outcomes.flatMap((outcome) => outcome.attempts.map((attempt) => attemptValues(attempt, owner)));
        await insertRows(sql, ctx.raw, 'attempt', ATTEMPT_INSERT_COLUMNS, attempts);
        const moved = await applyOutcomes(sql, owner, outcomes, now);
        // A sent or held message is one a provider may have: its events count. Failed and dead mail
        // keeps them recorded (retry reads them as a reason to keep it back).
        const settled = outcomes.filter((outcome) => (outcome.kind === 'sent' || outcome.kind === 'held') && moved.has(outcome.id));
        const transitions = outcomes
          .filter((outcome) => moved.delete(outcome.id))
          .map((outcome) => [outcome.id, 'sending', outcomeStatus(outcome), now, outcomeReason(outcome)]);
        await insertRows(sql, ctx.raw, 'message_transition', TRANSITION_INSERT_COLUMNS, transitions);
        // Provider events that arrived while the worker sent were only recorded: they apply after its result.
        await applyRecordedEvents(
          ctx,
          sql,
          settled.map((outcome) => outcome.id),
          now,
        );
      });
    },

    async release(owner, ids) {
      if (ids.length === 0) return;
      const now = new Date(ctx.now());
      await ctx.raw.transaction((sql) =>
        backToQueue(
          sql,
          (a) => `id IN (${a.list(ids)}) AND status = 'sending' AND lease_owner = ${a.add(owner)}`,
          now,
          () => `released unsent by ${owner}`,
        ),
      );
    },

    async recoverExpiredLeases() {
      const now = new Date(ctx.now());
      return ctx.raw.transaction((sql) =>
        backToQueue(
          sql,
          (a) => `status = 'sending' AND lease_expires_at < ${a.add(now)}`,
          now,
          (row) => `lease of ${row.lease_owner ?? 'an unknown worker'} expired at ${isoTime(row.lease_expires_at) ?? 'an unknown time'}`,
          (rows) => recordUnknownAttempts(ctx, sql, rows, now),
        ),
      );
    },

    async nextDueAt() {
      const a = argumentList(ctx.raw);
      // In a transaction like every statement on the shared SQLite connection (see extendLeases).
      const [row] = await ctx.raw.transaction((sql) =>
        sql.query<{ due: unknown }>(`SELECT MIN(next_attempt_at) AS due FROM message WHERE status IN (${a.list(DUE_STATUSES)})`, a.args),
      );
      const due = timeOf(row?.due);
      return due === undefined ? undefined : due.getTime();
    },

    onEnqueued: (listener) => ctx.signal.subscribe(listener),
  };

  /**
   * PostgreSQL: the messages are locked before anything refers to them, in id order, the order
   * webhook ingestion locks them in (events.ts). Without it the attempt rows' foreign keys and
   * the UPDATE took them in whatever order the outcomes came, and a completion and an
   * ingestion on the same messages could each wait for the other (deadlock, 40P01). SQLite has
   * one writer: nothing to order.
   */
  async function lockInIdOrder(sql: SqlRunner, ids: readonly string[]): Promise<void> {
    if (ctx.dialect !== 'postgres') return;
    const sorted = [...new Set(ids)].sort();
    for (let start = 0; start < sorted.length; start += LOCK_CHUNK) {
      const a = argumentList(ctx.raw);
      await sql.query(
        `SELECT id FROM message WHERE id IN (${a.list(sorted.slice(start, start + LOCK_CHUNK))}) ORDER BY id FOR UPDATE`,
        a.args,
      );
    }
  }

  /**
   * Only the lease owner may move a message on; a worker that lost its lease changes nothing.
   * One UPDATE per set of columns (in practice per outcome kind) rather than one per message:
   * returns the ids that moved.
   */
  async function applyOutcomes(sql: SqlRunner, owner: string, outcomes: readonly DispatchOutcome[], now: Date): Promise<Set<string>> {
    const groups = new Map<string, { columns: string[]; retry: boolean; rows: unknown[][] }>();
    const seen = new Set<string>();
    for (const outcome of outcomes) {
      // A second outcome for the same message would have found it no longer `sending`.
      if (seen.has(outcome.id)) continue;
      seen.add(outcome.id);
      const values = outcomeColumns(outcome, now);
      const columns = Object.keys(values);
      const retry = outcome.kind === 'retry';
      const key = `${retry}:${columns.join(',')}`;
      let group = groups.get(key);
      if (!group) {
        group = { columns, retry, rows: [] };
        groups.set(key, group);
      }
      group.rows.push([outcome.id, ...Object.values(values)]);
    }
    const moved = new Set<string>();
    for (const { columns, retry, rows } of groups.values()) {
      const perStatement = Math.max(1, Math.floor(30_000 / (columns.length + 1)));
      for (let start = 0; start < rows.length; start += perStatement) {
        const chunk = rows.slice(start, start + perStatement);
        const a = argumentList(ctx.raw);
        const cast = (column: string) => (ctx.dialect === 'postgres' ? `::${POSTGRES_TYPES[column] ?? 'text'}` : '');
        const values = chunk.map(
          ([id, ...row]) => `(${a.add(id)}, ${row.map((value, index) => `${a.add(value)}${cast(columns[index] ?? '')}`).join(', ')})`,
        );
        const names = columns.map((_, index) => `c${index}`);
        const set = columns.map((column, index) => `${column} = v.${names[index]}`);
        if (retry) set.push('rounds = rounds + 1');
        const changed = await sql.query<{ id: string }>(
          `WITH v(target, ${names.join(', ')}) AS (VALUES ${values.join(', ')})
           UPDATE message SET ${set.join(', ')}
           FROM v WHERE message.id = v.target AND message.status = 'sending' AND message.lease_owner = ${a.add(owner)}
           RETURNING message.id`,
          a.args,
        );
        for (const row of changed) moved.add(String(row.id));
      }
    }
    return moved;
  }

  /**
   * Puts `sending` messages back in the queue: `queued` if no round finished yet, else
   * `retrying`. The last lease owner stays on the row for the record; leases only count
   * while the status is `sending`.
   */
  async function backToQueue(
    sql: SqlRunner,
    where: (a: ReturnType<typeof argumentList>) => string,
    now: Date,
    reason: (row: LeaseRow) => string,
    /** What else the requeue records, in its transaction (lease recovery: the attempts nobody saw end). */
    record?: (rows: readonly LeaseRow[]) => Promise<void>,
  ): Promise<number> {
    let moved = 0;
    for (const [status, rounds] of [
      ['queued', 'rounds = 0'],
      ['retrying', 'rounds > 0'],
    ] as const) {
      const a = argumentList(ctx.raw);
      const set = `status = ${a.add(status)}, next_attempt_at = ${a.add(now)}, updated_at = ${a.add(now)}`;
      const rows = await sql.query<LeaseRow>(
        `UPDATE message SET ${set} WHERE ${where(a)} AND ${rounds} RETURNING id, lease_owner, lease_expires_at`,
        a.args,
      );
      if (rows.length === 0) continue;
      const transitions = rows.map((row) => [row.id, 'sending', status, now, reason(row)]);
      await insertRows(sql, ctx.raw, 'message_transition', TRANSITION_INSERT_COLUMNS, transitions);
      await record?.(rows);
      // A worker that died after the provider took the mail: the provider's events confirm it, and it is not sent twice.
      await applyRecordedEvents(
        ctx,
        sql,
        rows.map((row) => row.id),
        now,
      );
      moved += rows.length;
    }
    return moved;
  }
}

function claimReason(owner: string, leftOut: ReadonlyMap<string, LeftOut> | undefined): string {
  if (!leftOut) return `claimed by ${owner}`;
  return `claimed by ${owner}; left out, on the suppression list: ${describeLeftOut(leftOut)}`;
}

interface LeaseRow extends Record<string, unknown> {
  readonly id: string;
  readonly lease_owner: string | null;
  readonly lease_expires_at: unknown;
}

/** A timestamp read with plain SQL: ISO text from both adapters (a Date if a driver gives one). */
function timeOf(value: unknown): Date | undefined {
  if (value === null || value === undefined) return undefined;
  const time = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(time.getTime()) ? undefined : time;
}

function isoTime(value: unknown): string | undefined {
  return timeOf(value)?.toISOString();
}
