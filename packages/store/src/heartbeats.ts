import type { BreakerState } from '@mailroute/core';
import { z } from 'zod';
import type { StoreContext } from './context.js';
import type { Prisma } from './database.js';

/** One provider's breaker as one process sees it (breakers live per process). */
export interface ProcessBreaker {
  /** `sendgrid`, `ses`, `smtp`, `capture`. */
  readonly type: string;
  readonly state: BreakerState;
  /** When the breaker entered this state (epoch ms); the process's start for a breaker that never changed. */
  readonly since: number;
  /** When an open breaker lets a probe through (epoch ms). */
  readonly halfOpenAt?: number;
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
}

const breakerSchema = z.object({
  type: z.string(),
  state: z.enum(['closed', 'open', 'half_open']),
  since: z.number(),
  halfOpenAt: z.number().optional(),
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
    const { halfOpenAt, ...rest } = parsed.data;
    breakers[provider] = { ...rest, ...(halfOpenAt === undefined ? {} : { halfOpenAt }) };
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
    async recordHeartbeat(beat) {
      const data = {
        role: beat.role,
        host: beat.host,
        pid: beat.pid,
        startedAt: new Date(beat.startedAt),
        seenAt: new Date(ctx.now()),
        breakers: beat.breakers as unknown as Prisma.InputJsonValue,
      };
      const row = await db.processHeartbeat.upsert({ where: { id: beat.id }, create: { id: beat.id, ...data }, update: data });
      return fromRow(row);
    },
    async listHeartbeats(options = {}) {
      const rows = await db.processHeartbeat.findMany({
        ...(options.since === undefined ? {} : { where: { seenAt: { gte: new Date(options.since) } } }),
        orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
      });
      return rows.map(fromRow);
    },
    async removeHeartbeat(id) {
      const { count } = await db.processHeartbeat.deleteMany({ where: { id } });
      return count > 0;
    },
    async pruneHeartbeats(before) {
      const { count } = await db.processHeartbeat.deleteMany({ where: { seenAt: { lt: new Date(before) } } });
      return count;
    },
  };
}
