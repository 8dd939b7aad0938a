import type { StoreContext } from './context.js';
import { uuidv7 } from './ids.js';
import { ATTEMPT_INSERT_COLUMNS } from './rows.js';
import { argumentList, insertRows, type SqlRunner } from './sql.js';

/** A message whose lease ran out, as lease recovery found it. */
export interface ExpiredLease {
  readonly id: string;
  readonly lease_owner: string | null;
  readonly lease_expires_at: unknown;
}

/** The outcome of an attempt nobody saw end. */
export const UNKNOWN_OUTCOME = 'unknown';

const CHUNK = 1_000;

/**
 * A worker that dies mid-send (kill -9, a lost machine) leaves no attempt: its outcome never
 * reached the database. Lease recovery writes what is known in its place, in the same
 * transaction as the requeue: an attempt with outcome `unknown`, made by the worker that held the lease, from
 * the claim to the lease's end, on no known provider (a send's provider is only recorded with
 * its answer). The provider may have accepted it, so the next send may deliver it twice: the
 * timeline says so, and the export marks the message as a possible duplicate.
 */
export async function recordUnknownAttempts(ctx: StoreContext, sql: SqlRunner, leases: readonly ExpiredLease[], now: Date): Promise<void> {
  if (leases.length === 0) return;
  const claimedAt = new Map<string, number>();
  for (let start = 0; start < leases.length; start += CHUNK) {
    const a = argumentList(ctx.raw);
    const ids = leases.slice(start, start + CHUNK).map((lease) => lease.id);
    const rows = await sql.query<{ message_id: string; claimed_at: unknown }>(
      `SELECT message_id, MAX(at) AS claimed_at FROM message_transition
       WHERE message_id IN (${a.list(ids)}) AND to_status = 'sending' GROUP BY message_id`,
      a.args,
    );
    for (const row of rows) {
      const at = timeOf(row.claimed_at);
      if (at !== undefined) claimedAt.set(row.message_id, at);
    }
  }
  const attempts = leases.map((lease) => {
    const expired = timeOf(lease.lease_expires_at) ?? now.getTime();
    const started = Math.min(claimedAt.get(lease.id) ?? expired, expired);
    const worker = lease.lease_owner ?? 'an unknown worker';
    const note = `${worker} stopped while it held the message (its lease expired at ${new Date(expired).toISOString()}): the provider may have accepted it, so the next send may deliver it twice`;
    return [
      uuidv7(started),
      lease.id,
      lease.lease_owner,
      null,
      null,
      new Date(started),
      new Date(expired),
      0,
      UNKNOWN_OUTCOME,
      null,
      null,
      note,
      null,
      null,
      null,
      null,
      null,
    ];
  });
  await insertRows(sql, ctx.raw, 'attempt', ATTEMPT_INSERT_COLUMNS, attempts);
}

function timeOf(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const time = value instanceof Date ? value.getTime() : Date.parse(String(value));
  return Number.isNaN(time) ? undefined : time;
}
