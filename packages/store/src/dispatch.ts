import { type ClaimedMessage, claimableStatuses, type DispatchOutcome, type DispatchQueue } from '@mailroute/core';
import type { StoreContext } from './context.js';
import type { Prisma } from './database.js';
import { Prisma as Sql } from './generated/postgres/client.js';
import { attemptRow, messageFromRow, outcomeReason, outcomeStatus, outcomeUpdate, transitionRow } from './rows.js';

/** Claimable once due: new, scheduled and retrying mail, and held mail whose confirmation window is over. */
const DUE_STATUSES = [...claimableStatuses, 'held'] as const;

type Tx = Prisma.TransactionClient;

/** The dispatcher's side of the store: claim with a lease, complete, release, recover. */
export function createDispatchQueue(ctx: StoreContext): DispatchQueue {
  const { db } = ctx;

  async function pickDue(tx: Tx, owner: string, limit: number, now: Date, expires: Date): Promise<{ id: string; status: string }[]> {
    if (ctx.dialect === 'postgres') {
      // SKIP LOCKED: concurrent workers each take different rows instead of queueing on the same ones.
      return tx.$queryRaw<{ id: string; status: string }[]>`
        WITH picked AS (
          SELECT id, status FROM message
          WHERE status IN (${Sql.join(DUE_STATUSES)}) AND next_attempt_at <= ${now}
          ORDER BY next_attempt_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        )
        UPDATE message AS m
        SET status = 'sending', lease_owner = ${owner}, lease_expires_at = ${expires}, updated_at = ${now}
        FROM picked WHERE m.id = picked.id
        RETURNING m.id, picked.status`;
    }
    // SQLite has one writer: inside this transaction nobody else can claim the same rows.
    const picked = await tx.message.findMany({
      where: { status: { in: [...DUE_STATUSES] }, nextAttemptAt: { lte: now } },
      orderBy: { nextAttemptAt: 'asc' },
      take: limit,
      select: { id: true, status: true },
    });
    if (picked.length > 0) {
      await tx.message.updateMany({
        where: { id: { in: picked.map((row) => row.id) } },
        data: { status: 'sending', leaseOwner: owner, leaseExpiresAt: expires, updatedAt: now },
      });
    }
    return picked;
  }

  return {
    async claim(owner, limit, leaseMs) {
      if (limit <= 0) return [];
      const nowMs = ctx.now();
      const now = new Date(nowMs);
      const expires = new Date(nowMs + leaseMs);
      return db.$transaction(async (tx) => {
        const picked = await pickDue(tx, owner, Math.floor(limit), now, expires);
        if (picked.length === 0) return [];
        await tx.messageTransition.createMany({
          data: picked.map((row) => transitionRow(row.id, row.status, 'sending', now, `claimed by ${owner}`)),
        });
        const rows = await tx.message.findMany({ where: { id: { in: picked.map((row) => row.id) } } });
        const byId = new Map(rows.map((row) => [row.id, row]));
        return picked.flatMap((pick): ClaimedMessage[] => {
          const row = byId.get(pick.id);
          return row
            ? [{ message: messageFromRow(row), rounds: row.rounds, acceptedAt: row.createdAt.getTime(), leaseExpiresAt: expires.getTime() }]
            : [];
        });
      });
    },

    async extendLeases(owner, ids, leaseMs) {
      if (ids.length === 0) return;
      const nowMs = ctx.now();
      await db.message.updateMany({
        where: { id: { in: [...ids] }, status: 'sending', leaseOwner: owner },
        data: { leaseExpiresAt: new Date(nowMs + leaseMs) },
      });
    },

    async complete(owner, outcomes) {
      if (outcomes.length === 0) return;
      const now = new Date(ctx.now());
      await db.$transaction(async (tx) => {
        // Attempts are facts about provider calls: kept even when the lease was lost.
        const attempts = outcomes.flatMap((outcome) => outcome.attempts.map((attempt) => attemptRow(attempt, owner)));
        if (attempts.length > 0) await tx.attempt.createMany({ data: attempts });
        const transitions: Prisma.MessageTransitionCreateManyInput[] = [];
        for (const outcome of outcomes) {
          if (await applyOutcome(tx, owner, outcome, now)) {
            transitions.push(transitionRow(outcome.id, 'sending', outcomeStatus(outcome), now, outcomeReason(outcome)));
          }
        }
        if (transitions.length > 0) await tx.messageTransition.createMany({ data: transitions });
      });
    },

    async release(owner, ids) {
      if (ids.length === 0) return;
      const now = new Date(ctx.now());
      await db.$transaction((tx) =>
        backToQueue(tx, { id: { in: [...ids] }, status: 'sending', leaseOwner: owner }, now, () => `released unsent by ${owner}`),
      );
    },

    async recoverExpiredLeases() {
      const now = new Date(ctx.now());
      return db.$transaction((tx) =>
        backToQueue(
          tx,
          { status: 'sending', leaseExpiresAt: { lt: now } },
          now,
          (row) => `lease of ${row.leaseOwner ?? 'an unknown worker'} expired at ${row.leaseExpiresAt?.toISOString() ?? 'an unknown time'}`,
        ),
      );
    },

    async nextDueAt() {
      const result = await db.message.aggregate({
        where: { status: { in: [...DUE_STATUSES] } },
        _min: { nextAttemptAt: true },
      });
      return result._min.nextAttemptAt?.getTime();
    },

    onEnqueued: (listener) => ctx.signal.subscribe(listener),
  };

  /** Only the lease owner may move the message on; a worker that lost its lease changes nothing. */
  async function applyOutcome(tx: Tx, owner: string, outcome: DispatchOutcome, now: Date): Promise<boolean> {
    const { count } = await tx.message.updateMany({
      where: { id: outcome.id, status: 'sending', leaseOwner: owner },
      data: outcomeUpdate(outcome, now),
    });
    return count === 1;
  }

  /**
   * Puts `sending` messages back in the queue: `queued` if no round finished yet, else
   * `retrying`. The last lease owner stays on the row for the record; leases only count
   * while the status is `sending`.
   */
  async function backToQueue(
    tx: Tx,
    where: Prisma.MessageWhereInput,
    now: Date,
    reason: (row: { leaseOwner: string | null; leaseExpiresAt: Date | null }) => string,
  ): Promise<number> {
    let moved = 0;
    for (const [status, rounds] of [
      ['queued', 0],
      ['retrying', { gt: 0 }],
    ] as const) {
      const rows = await tx.message.updateManyAndReturn({
        where: { ...where, rounds },
        data: { status, nextAttemptAt: now, updatedAt: now },
        select: { id: true, leaseOwner: true, leaseExpiresAt: true },
      });
      if (rows.length === 0) continue;
      await tx.messageTransition.createMany({ data: rows.map((row) => transitionRow(row.id, 'sending', status, now, reason(row))) });
      moved += rows.length;
    }
    return moved;
  }
}
