import type { StoreContext } from './context.js';
import { argumentList } from './sql.js';

/**
 * Named leases: one holder at a time across every process on the database (the alert
 * monitor). A holder renews before the lease expires; when it dies, anyone may take the
 * lease once it has expired. Times come from each process's clock, so processes sharing a
 * database need clocks within a small fraction of the lease time of each other.
 */
export interface LeaseApi {
  /** Takes the lease when it is free or expired, or extends it when `owner` holds it already. */
  tryAcquireLease(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends the lease only if `owner` still holds it (false: someone else took it). */
  renewLease(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up at once (a clean shutdown), so another process need not wait for it to expire. */
  releaseLease(name: string, owner: string): Promise<boolean>;
  /** Who holds the lease and until when, if anyone does and it has not expired. */
  leaseHolder(name: string): Promise<{ owner: string; expiresAt: number; acquiredAt: number } | undefined>;
}

export function createLeaseApi(ctx: StoreContext): LeaseApi {
  return {
    async tryAcquireLease(name, owner, ttlMs) {
      const nowMs = ctx.now();
      const a = argumentList(ctx.raw);
      // One statement decides: the row is written only when it is new, expired or ours, and
      // the affected row count says which way it went (0 when the WHERE kept the other holder).
      const sql = `INSERT INTO lease (name, owner, expires_at, acquired_at)
        VALUES (${a.add(name)}, ${a.add(owner)}, ${a.add(new Date(nowMs + ttlMs))}, ${a.add(new Date(nowMs))})
        ON CONFLICT (name) DO UPDATE SET
          owner = excluded.owner,
          expires_at = excluded.expires_at,
          acquired_at = CASE WHEN lease.owner = excluded.owner THEN lease.acquired_at ELSE excluded.acquired_at END
        WHERE lease.expires_at < ${a.add(new Date(nowMs))} OR lease.owner = ${a.add(owner)}`;
      const changed = await ctx.raw.transaction((tx) => tx.execute(sql, a.args));
      return changed > 0;
    },

    async renewLease(name, owner, ttlMs) {
      const a = argumentList(ctx.raw);
      const sql = `UPDATE lease SET expires_at = ${a.add(new Date(ctx.now() + ttlMs))}
        WHERE name = ${a.add(name)} AND owner = ${a.add(owner)}`;
      return (await ctx.raw.transaction((tx) => tx.execute(sql, a.args))) > 0;
    },

    async releaseLease(name, owner) {
      const a = argumentList(ctx.raw);
      const sql = `DELETE FROM lease WHERE name = ${a.add(name)} AND owner = ${a.add(owner)}`;
      return (await ctx.raw.transaction((tx) => tx.execute(sql, a.args))) > 0;
    },

    async leaseHolder(name) {
      const row = await ctx.db.lease.findUnique({ where: { name } });
      if (!row || row.expiresAt.getTime() < ctx.now()) return undefined;
      return { owner: row.owner, expiresAt: row.expiresAt.getTime(), acquiredAt: row.acquiredAt.getTime() };
    },
  };
}
