import type { BreakerState, ProviderHealth } from '@mailroute/core';
import { type ProviderActivity, type ProviderState, providerStates } from '@mailroute/store';
import { z } from 'zod';
import type { ApiDependencies } from '../context.js';
import { apiError } from '../errors.js';
import { router, scoped } from '../trpc.js';

export interface ProviderView {
  readonly name: string;
  /** `sendgrid`, `ses`, `smtp`, `capture`; known only where this process runs a router. */
  readonly type?: string;
  /** The operator's stored decision, obeyed by every process (`enabled` when none was made). */
  readonly state: ProviderState;
  readonly note?: string;
  readonly stateUpdatedAt?: number;
  /** This process's breaker; absent in an api-only process (breakers live with the workers). */
  readonly breaker?: {
    readonly state: BreakerState;
    /** Held open by the `forced_open` state (the reason is the provider's `note`), not by failures. */
    readonly forced?: true;
    readonly halfOpenAt?: number;
    readonly fires: number;
    readonly successes: number;
    readonly failures: number;
    readonly rejects: number;
    readonly latencyMeanMs: number;
  };
}

export interface RecentActivity extends Omit<ProviderActivity, 'provider'> {
  /** Accepted over attempts the provider is answerable for (message faults left out); absent without such attempts. */
  readonly successRate?: number;
}

const DEFAULT_WINDOW_MS = 15 * 60_000;

function breakerOf(health: ProviderHealth): NonNullable<ProviderView['breaker']> {
  return {
    state: health.state,
    ...(health.forced ? { forced: true as const } : {}),
    ...(health.halfOpenAt === undefined ? {} : { halfOpenAt: health.halfOpenAt }),
    fires: health.fires,
    successes: health.successes,
    failures: health.failures,
    rejects: health.rejects,
    latencyMeanMs: health.latencyMeanMs,
  };
}

function recentOf(activity: ProviderActivity | undefined): RecentActivity {
  if (!activity) return { attempts: 0, accepted: 0, failed: 0, failedByCategory: {} };
  const { provider: _, ...rest } = activity;
  const answerable = activity.attempts - (activity.failedByCategory.message ?? 0);
  return { ...rest, ...(answerable > 0 ? { successRate: activity.accepted / answerable } : {}) };
}

async function providerViews(deps: ApiDependencies): Promise<ProviderView[]> {
  const live = new Map((deps.liveProviders?.() ?? []).map((health) => [health.name, health]));
  const stored = new Map((await deps.store.listProviderStates()).map((record) => [record.provider, record]));
  return deps.providerNames().map((name) => {
    const health = live.get(name);
    const record = stored.get(name);
    return {
      name,
      ...(health ? { type: health.type } : {}),
      state: record?.state ?? 'enabled',
      ...(record?.note === undefined ? {} : { note: record.note }),
      ...(record ? { stateUpdatedAt: record.updatedAt } : {}),
      ...(health ? { breaker: breakerOf(health) } : {}),
    };
  });
}

export const providersRouter = router({
  /** Every configured provider with its stored state and, in a process with a router, its live breaker. */
  list: scoped('read').query(({ ctx }) => providerViews(ctx.deps)),

  /** `list` plus what every process's attempts say over a recent window: success rate, latency, last provider fault. */
  health: scoped('read')
    .input(
      z
        .strictObject({
          windowMs: z
            .number()
            .int()
            .min(1_000)
            .max(7 * 86_400_000)
            .optional(),
        })
        .optional(),
    )
    .query(async ({ ctx, input }) => {
      const windowMs = input?.windowMs ?? DEFAULT_WINDOW_MS;
      const at = ctx.now();
      const [views, activity] = await Promise.all([providerViews(ctx.deps), ctx.deps.store.providerActivity(at - windowMs)]);
      const byName = new Map(activity.map((entry) => [entry.provider, entry]));
      return { at, windowMs, providers: views.map((view) => ({ ...view, recent: recentOf(byName.get(view.name)) })) };
    }),

  /**
   * Enables, drains, disables or forces open a provider for every process (stored; see
   * `providerStates` in the store for what each means). Workers pick it up within
   * `worker.overridesRefreshMs`.
   */
  setState: scoped('admin')
    .input(z.strictObject({ provider: z.string().min(1).max(200), state: z.enum(providerStates), note: z.string().max(1000).optional() }))
    .mutation(({ ctx, input }) => {
      const names = ctx.deps.providerNames();
      if (!names.includes(input.provider)) {
        throw apiError('INVALID_INPUT', `unknown provider ${input.provider}`, [
          { path: 'provider', message: `not a configured provider; configured: ${names.join(', ') || '(none)'}` },
        ]);
      }
      return ctx.deps.store.setProviderState(input.provider, input.state, input.note);
    }),
});
