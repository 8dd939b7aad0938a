import type { StoreContext } from './context.js';

/** Messages that went dead in a time span and are dead still (a resend takes them out). */
export interface DeadMessageReport {
  readonly count: number;
  /** When the latest of them went dead (epoch ms). */
  readonly latestAt?: number;
  /** Counts by the error code of their last failure (no ids: alerts are about the service, not one tenant's mail). */
  readonly byError: Readonly<Record<string, number>>;
}

export interface AlertInputApi {
  /** Dead messages (every tenant) that went dead at or after `since` (epoch ms). */
  deadMessagesSince(since: number): Promise<DeadMessageReport>;
}

/** What the monitor's checks read from the message table beyond what operators' views offer. */
export function createAlertInputApi(ctx: StoreContext): AlertInputApi {
  const { db } = ctx;
  return {
    async deadMessagesSince(since) {
      const groups = await db.message.groupBy({
        by: ['lastErrorCode'],
        where: { status: 'dead', finishedAt: { gte: new Date(since) } },
        _count: { _all: true },
        _max: { finishedAt: true },
      });
      let count = 0;
      let latestAt: number | undefined;
      const byError: Record<string, number> = {};
      for (const group of groups) {
        count += group._count._all;
        const code = group.lastErrorCode ?? 'unknown';
        byError[code] = (byError[code] ?? 0) + group._count._all;
        const at = group._max.finishedAt?.getTime();
        if (at !== undefined && (latestAt === undefined || at > latestAt)) latestAt = at;
      }
      return { count, ...(latestAt === undefined ? {} : { latestAt }), byError };
    },
  };
}
