import type { BreakerState } from '@mailroute/core';
import { z } from 'zod';
import type { StoreContext } from './context.js';
import type { Prisma } from './database.js';
import { argumentList, insertRows } from './sql.js';

/** One provider's breaker as one process sees it (breakers live per process). */
export interface ProcessBreaker {
  /** `sendgrid`, `ses`, `smtp`, `capture`. */
  readonly type: string;
  readonly state: BreakerState;
  /** When the breaker entered this state (epoch ms); the process's start for a breaker that never changed. */
  readonly since: number;
  /** When an open breaker lets a probe through (epoch ms). */
  readonly halfOpenAt?: number;
  /**
   * While not closed: when it last left closed (epoch ms). Unlike `since`, it survives the
   * open -> half_open -> open cycles of failed probes, so it tells how long the provider has been out.
   */
  readonly notClosedSince?: number;
  /** False when the operator's stored state keeps this process from using the provider. */
  readonly enabled: boolean;
  /** The process's own counts over the breaker's rolling window. */
  readonly fires: number;
  readonly successes: number;
  readonly failures: number;
  readonly rejects: number;
  readonly latencyMeanMs: number;
}

export interface HeartbeatInput {
  /** Stable for the life of the process (the worker's lease owner). */
  readonly id: string;
  /** `all` or `worker`: the roles that run a router. */
  readonly role: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly breakers: Readonly<Record<string, ProcessBreaker>>;
}

export interface ProcessHeartbeat extends HeartbeatInput {
  /** When the process last reported (the store's clock). */
  readonly seenAt: number;
}

export interface HeartbeatApi {
  /** Writes (or overwrites) this process's row with `seenAt` = now. */
  recordHeartbeat(beat: HeartbeatInput): Promise<ProcessHeartbeat>;
  /** Every process seen at or after `since` (epoch ms; all when omitted), oldest start first. */
  listHeartbeats(options?: { readonly since?: number }): Promise<ProcessHeartbeat[]>;
  /** Removes one process's row: a process that stops cleanly leaves the view at once. */
  removeHeartbeat(id: string): Promise<boolean>;
  /** Deletes rows not seen since `before` (epoch ms); returns how many. */
  pruneHeartbeats(before: number): Promise<number>;
  /**
   * Breaker changes the heartbeats reported since `since` (epoch ms), oldest first. A process's
   * first heartbeat records each breaker's state with no `from`.
   */
  listBreakerEvents(options: { readonly since: number; readonly provider?: string }): Promise<BreakerEvent[]>;
}

/** One breaker changing state in one process (from its heartbeat). */
export interface BreakerEvent {
  readonly process: string;
  readonly provider: string;
  readonly from?: BreakerState;
  readonly to: BreakerState;
  readonly at: number;
}

const breakerSchema = z.object({
  type: z.string(),
  state: z.enum(['closed', 'open', 'half_open']),
  since: z.number(),
  halfOpenAt: z.number().optional(),
  notClosedSince: z.number().optional(),
  enabled: z.boolean(),
  fires: z.number(),
  successes: z.number(),
  failures: z.number(),
  rejects: z.number(),
  latencyMeanMs: z.number(),
});

interface HeartbeatRow {
  id: string;
  role: string;
  host: string;
  pid: number;
  startedAt: Date;
  seenAt: Date;
  breakers: Prisma.JsonValue;
}

/**
 * Rows are written by other versions of mailroute too (a rolling deploy): a breaker entry
 * this version cannot read is left out rather than failing the whole view.
 */
function breakersFromJson(value: Prisma.JsonValue): Record<string, ProcessBreaker> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const breakers: Record<string, ProcessBreaker> = {};
  for (const [provider, entry] of Object.entries(value)) {
    const parsed = breakerSchema.safeParse(entry);
    if (!parsed.success) continue;
    const { halfOpenAt, notClosedSince, ...rest } = parsed.data;
    breakers[provider] = {
      ...rest,
      ...(halfOpenAt === undefined ? {} : { halfOpenAt }),
      ...(notClosedSince === undefined ? {} : { notClosedSince }),
    };
  }
  return breakers;
}

function fromRow(row: HeartbeatRow): ProcessHeartbeat {
  return {
    id: row.id,
    role: row.role,
    host: row.host,
    pid: row.pid,
    startedAt: row.startedAt.getTime(),
    seenAt: row.seenAt.getTime(),
    breakers: breakersFromJson(row.breakers),
  };
}

/** Process heartbeats: which processes are alive and what their breakers say. */
export function createHeartbeatApi(ctx: StoreContext): HeartbeatApi {
  const { db } = ctx;

  return {
    // Every worker writes these on a timer: plain SQL, so a worker-only process never starts
    // Prisma's query compiler (tens of MB of RSS) for them.
    async recordHeartbeat(beat) {
      const seenAt = new Date(ctx.now());
      const a = argumentList(ctx.raw);
      const values = [beat.id, beat.role, beat.host, beat.pid, new Date(beat.startedAt), seenAt].map(a.add);
      const breakers = `${a.add(JSON.stringify(beat.breakers))}${ctx.dialect === 'postgres' ? '::jsonb' : ''}`;
      await ctx.raw.transaction(async (sql) => {
        const b = argumentList(ctx.raw);
        const [previous] = await sql.query<{ breakers: unknown }>(
          `SELECT breakers FROM process_heartbeat WHERE id = ${b.add(beat.id)}`,
          b.args,
        );
        const seen = breakersFromJson(
          typeof previous?.breakers === 'string' ? JSON.parse(previous.breakers) : (previous?.breakers ?? null),
        );
        const changes = Object.entries(breakersFromJson(beat.breakers as unknown as Prisma.JsonValue)).flatMap(([provider, breaker]) => {
          const before = seen[provider]?.state;
          return before === breaker.state ? [] : [[beat.id, provider, before ?? null, breaker.state, new Date(breaker.since)]];
        });
        await insertRows(sql, ctx.raw, 'breaker_event', ['process', 'provider', 'from_state', 'to_state', 'at'], changes);
        await sql.execute(
          `INSERT INTO process_heartbeat (id, role, host, pid, started_at, seen_at, breakers) VALUES (${values.join(', ')}, ${breakers})
           ON CONFLICT (id) DO UPDATE SET role = excluded.role, host = excluded.host, pid = excluded.pid,
             started_at = excluded.started_at, seen_at = excluded.seen_at, breakers = excluded.breakers`,
          a.args,
        );
      });
      return fromRow({
        ...beat,
        startedAt: new Date(beat.startedAt),
        seenAt,
        breakers: JSON.parse(JSON.stringify(beat.breakers)) as Prisma.JsonValue,
      });
    },
    async listHeartbeats(options = {}) {
      const rows = await db.processHeartbeat.findMany({
        ...(options.since === undefined ? {} : { where: { seenAt: { gte: new Date(options.since) } } }),
        orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
      });
      return rows.map(fromRow);
    },
    async removeHeartbeat(id) {
      const a = argumentList(ctx.raw);
      return (await ctx.raw.transaction((sql) => sql.execute(`DELETE FROM process_heartbeat WHERE id = ${a.add(id)}`, a.args))) > 0;
    },
    async listBreakerEvents({ since, provider }) {
      const rows = await db.breakerEvent.findMany({
        where: { at: { gte: new Date(since) }, ...(provider === undefined ? {} : { provider }) },
        orderBy: [{ at: 'asc' }, { id: 'asc' }],
        take: 10_000,
      });
      return rows.map((row) => ({
        process: row.process,
        provider: row.provider,
        ...(row.fromState === null ? {} : { from: row.fromState as BreakerState }),
        to: row.toState as BreakerState,
        at: row.at.getTime(),
      }));
    },
    async pruneHeartbeats(before) {
      const a = argumentList(ctx.raw);
      const sql = `DELETE FROM process_heartbeat WHERE seen_at < ${a.add(new Date(before))}`;
      return ctx.raw.transaction((tx) => tx.execute(sql, a.args));
    },
  };
}
