import { unsentStatuses } from '@mailroute/core';
import type { ProviderCounts } from '@mailroute/store';
import { router, scoped } from '../trpc.js';
import { liveProcesses } from './providers.js';

/** The window the overview judges providers by. */
const OVERVIEW_WINDOW_MS = 15 * 60_000;

export interface OpenBreaker {
  readonly provider: string;
  /** Live processes whose breaker for this provider is not closed (open or half-open), of `processes`. */
  readonly openIn: number;
  /** Of those, the ones half-open (letting one probe through). */
  readonly halfOpenIn: number;
  /** The earliest time one of those breakers left closed. */
  readonly since: number;
}

export interface WorstProvider {
  readonly provider: string;
  readonly successRate: number;
  readonly attempts: number;
  readonly windowMs: number;
}

/** The provider with the lowest success rate over the window among those the attempts judge (message faults left out). */
function worstOf(activity: readonly ProviderCounts[], names: ReadonlySet<string>): WorstProvider | undefined {
  let worst: WorstProvider | undefined;
  for (const entry of activity) {
    if (!names.has(entry.provider)) continue;
    const answerable = entry.attempts - (entry.failedByCategory.message ?? 0);
    if (answerable === 0) continue;
    const successRate = entry.accepted / answerable;
    if (!worst || successRate < worst.successRate) {
      worst = { provider: entry.provider, successRate, attempts: entry.attempts, windowMs: OVERVIEW_WINDOW_MS };
    }
  }
  return worst;
}

export const statsRouter = router({
  /**
   * The caller's tenant: messages by status, queue depth (not yet handed to a provider) and how
   * late the oldest is; and the service's providers: live processes, open breakers, the worst provider.
   */
  overview: scoped('read').query(async ({ ctx }) => {
    const scope = { tenantId: ctx.tenantId };
    const at = ctx.now();
    const names = new Set(ctx.deps.providerNames());
    const [counts, oldestUnsentAt, processes, activity] = await Promise.all([
      ctx.deps.store.countByStatus(scope),
      ctx.deps.store.oldestUnsentAt(scope),
      liveProcesses(ctx.deps, at),
      ctx.deps.store.providerCounts(at - OVERVIEW_WINDOW_MS, [...names]),
    ]);
    const openBreakers: OpenBreaker[] = [...names].flatMap((provider) => {
      const open = processes.flatMap((beat) => {
        const breaker = beat.breakers[provider];
        return breaker && breaker.state !== 'closed' ? [breaker] : [];
      });
      if (open.length === 0) return [];
      const halfOpenIn = open.filter((breaker) => breaker.state === 'half_open').length;
      return [
        { provider, openIn: open.length, halfOpenIn, since: Math.min(...open.map((breaker) => breaker.notClosedSince ?? breaker.since)) },
      ];
    });
    const worstProvider = worstOf(activity, names);
    return {
      at,
      counts,
      total: Object.values(counts).reduce((sum, count) => sum + count, 0),
      queueDepth: unsentStatuses.reduce((sum, status) => sum + counts[status], 0),
      ...(oldestUnsentAt === undefined ? {} : { oldestUnsentAt, oldestUnsentAgeMs: Math.max(0, at - oldestUnsentAt) }),
      providers: {
        processes: processes.length,
        openBreakers,
        ...(worstProvider ? { worstProvider } : {}),
      },
    };
  }),
});
