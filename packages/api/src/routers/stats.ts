import { unsentStatuses } from '@mailroute/core';
import type { BreakerEvent, ProviderAuditRecord, ProviderCounts } from '@mailroute/store';
import { z } from 'zod';
import { allows } from '../scopes.js';
import { OPERATOR_SCOPE, router, scoped } from '../trpc.js';
import { liveProcesses } from './providers.js';

/** The window the overview judges providers by. */
const OVERVIEW_WINDOW_MS = 15 * 60_000;

export interface OpenBreaker {
  readonly provider: string;
  /** Live processes whose breaker for this provider is open, of `processes`. */
  readonly openIn: number;
  /** The earliest of those processes' open-since times. */
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

/** The series ranges: 1-minute buckets over the last hour, 10-minute buckets over the last day. */
export const seriesRanges = { '1h': { rangeMs: 3_600_000, bucketMs: 60_000 }, '24h': { rangeMs: 86_400_000, bucketMs: 600_000 } } as const;
export type SeriesRange = keyof typeof seriesRanges;

/** One provider over the range; every array has one entry per bucket of `buckets`. */
export interface ProviderSeries {
  readonly provider: string;
  readonly accepted: number[];
  /** Every failed attempt. */
  readonly failed: number[];
  /** Failed attempts by error category (`provider`, `message`, `rate_limited`, `ambiguous`). */
  readonly failedByCategory: Record<string, number[]>;
  /** Mail this provider took after another provider had failed it. */
  readonly failovers: number[];
  /** Breaker changes reported by any process's heartbeat. */
  readonly breakerTransitions: number[];
  /** Operator state changes (providers.setState). */
  readonly operatorActions: number[];
}

export interface SeriesView {
  readonly range: SeriesRange;
  readonly bucketMs: number;
  /** Start of each bucket (epoch ms), oldest first; the last one is still filling. */
  readonly buckets: number[];
  readonly providers: ProviderSeries[];
  /** Each breaker change in the range, oldest first: for markers on the timeline. */
  readonly breakerEvents: BreakerEvent[];
  /** Each operator action in the range, oldest first; only for keys with the operator scope. */
  readonly operatorActions?: ProviderAuditRecord[];
}

export const statsRouter = router({
  /**
   * Per provider and time bucket (1 min over the last hour, or 10 min over the last day):
   * attempts by outcome and error category, failovers, breaker changes from every process's
   * heartbeats, and operator actions; the data of the console's failover timeline.
   */
  series: scoped('read')
    .input(z.strictObject({ range: z.enum(['1h', '24h']).default('1h'), provider: z.string().min(1).max(200).optional() }))
    .query(async ({ ctx, input }): Promise<SeriesView> => {
      const { rangeMs, bucketMs } = seriesRanges[input.range];
      const at = ctx.now();
      const last = Math.floor(at / bucketMs) * bucketMs;
      const first = last - (rangeMs / bucketMs - 1) * bucketMs;
      const names = ctx.deps.providerNames().filter((name) => input.provider === undefined || name === input.provider);
      const [attempts, breakerEvents, audit] = await Promise.all([
        ctx.deps.store.attemptSeries({ from: first, bucketMs, providers: names }),
        ctx.deps.store.listBreakerEvents({ since: first, ...(input.provider === undefined ? {} : { provider: input.provider }) }),
        ctx.deps.store.listProviderAudit({
          since: first,
          limit: 1_000,
          ...(input.provider === undefined ? {} : { provider: input.provider }),
        }),
      ]);
      const buckets = Array.from({ length: rangeMs / bucketMs }, (_, index) => first + index * bucketMs);
      const slot = (time: number) => Math.floor((time - first) / bucketMs);
      const zeros = () => buckets.map(() => 0);
      const providers = names.map(
        (provider): ProviderSeries => ({
          provider,
          accepted: zeros(),
          failed: zeros(),
          failedByCategory: {},
          failovers: zeros(),
          breakerTransitions: zeros(),
          operatorActions: zeros(),
        }),
      );
      const byName = new Map(providers.map((series) => [series.provider, series]));
      const add = (values: number[], index: number, count: number) => {
        if (index >= 0 && index < values.length) values[index] = (values[index] ?? 0) + count;
      };
      for (const bucket of attempts) {
        const series = byName.get(bucket.provider);
        if (!series) continue;
        const index = slot(bucket.at);
        add(series.accepted, index, bucket.accepted);
        add(series.failovers, index, bucket.failovers);
        for (const [category, count] of Object.entries(bucket.failedByCategory)) {
          series.failedByCategory[category] ??= zeros();
          add(series.failedByCategory[category], index, count);
          add(series.failed, index, count);
        }
      }
      // A process's first heartbeat reports its breakers with no earlier state: not a change.
      const changes = breakerEvents.filter((event) => event.from !== undefined);
      for (const event of changes) {
        const series = byName.get(event.provider);
        if (series) add(series.breakerTransitions, slot(event.at), 1);
      }
      const actions = [...audit].reverse();
      for (const action of actions) {
        const series = byName.get(action.provider);
        if (series) add(series.operatorActions, slot(action.at), 1);
      }
      return {
        range: input.range,
        bucketMs,
        buckets,
        providers,
        breakerEvents: changes,
        ...(allows(ctx.key.scopes, OPERATOR_SCOPE) ? { operatorActions: actions } : {}),
      };
    }),

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
        return breaker?.state === 'open' ? [breaker.since] : [];
      });
      return open.length === 0 ? [] : [{ provider, openIn: open.length, since: Math.min(...open) }];
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
