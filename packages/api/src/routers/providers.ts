import type { BreakerState, ProviderHealth } from '@mailroute/core';
import {
  type AttemptTally,
  type ProcessBreaker,
  type ProcessHeartbeat,
  type ProviderActivity,
  type ProviderHealthRecord,
  type ProviderState,
  providerStates,
} from '@mailroute/store';
import { z } from 'zod';
import type { ApiDependencies } from '../context.js';
import { apiError } from '../errors.js';
import { defined } from '../inputs.js';
import { OPERATOR_SCOPE, router, scoped } from '../trpc.js';
import { type FailureView, fullFailure, type ProviderFailureView, tenantFailureView } from './tenant-view.js';

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

export interface RecentActivity extends Omit<ProviderActivity, 'provider' | 'lastError'> {
  readonly lastError?: ProviderFailureView;
  /** Accepted over attempts the provider is answerable for (message faults left out); absent without such attempts. */
  readonly successRate?: number;
}

const DEFAULT_WINDOW_MS = 15 * 60_000;
export const DEFAULT_PROCESS_STALE_AFTER_MS = 20_000;
/** The fixed windows of `providers.health`: what changed in the last minute, quarter hour and hour. */
export const healthWindows = { '1m': 60_000, '15m': 15 * 60_000, '1h': 60 * 60_000 } as const;
export type HealthWindow = keyof typeof healthWindows;

export interface WindowView extends AttemptTally {
  readonly windowMs: number;
  /** Accepted over attempts the provider is answerable for (message faults left out); absent without such attempts. */
  readonly successRate?: number;
}

/** One live process (a heartbeat younger than `health.staleAfterMs`). */
export interface ProcessView {
  readonly id: string;
  readonly role: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly seenAt: number;
}

/** One provider's breaker in one live process. */
export interface ProcessBreakerView extends ProcessBreaker {
  readonly process: string;
  readonly host: string;
  readonly seenAt: number;
}

/** Live processes: heartbeats seen within the stale limit. */
export async function liveProcesses(deps: ApiDependencies, at: number): Promise<ProcessHeartbeat[]> {
  return deps.store.listHeartbeats({ since: at - (deps.processStaleAfterMs ?? DEFAULT_PROCESS_STALE_AFTER_MS) });
}

function successRateOf(tally: AttemptTally): number | undefined {
  const answerable = tally.attempts - (tally.failedByCategory.message ?? 0);
  return answerable > 0 ? tally.accepted / answerable : undefined;
}

function windowsOf(record: ProviderHealthRecord | undefined): Record<HealthWindow, WindowView> {
  const names = Object.keys(healthWindows) as HealthWindow[];
  return Object.fromEntries(
    names.map((name, index) => {
      const tally = record?.windows[index] ?? { windowMs: healthWindows[name], attempts: 0, accepted: 0, failed: 0, failedByCategory: {} };
      const rate = successRateOf(tally);
      return [name, { ...tally, ...(rate === undefined ? {} : { successRate: rate }) }];
    }),
  ) as Record<HealthWindow, WindowView>;
}

function breakersIn(processes: readonly ProcessHeartbeat[], provider: string): ProcessBreakerView[] {
  return processes.flatMap((beat) => {
    const breaker = beat.breakers[provider];
    return breaker ? [{ process: beat.id, host: beat.host, seenAt: beat.seenAt, ...breaker }] : [];
  });
}

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

function recentOf(activity: ProviderActivity | undefined, failureView: FailureView): RecentActivity {
  if (!activity) return { attempts: 0, accepted: 0, failed: 0, failedByCategory: {} };
  const { provider: _, lastError: failure, ...rest } = activity;
  const rate = successRateOf(activity);
  const lastError = failureView(failure);
  return { ...rest, ...(lastError ? { lastError } : {}), ...(rate === undefined ? {} : { successRate: rate }) };
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

  /**
   * `list` plus what every process reports: each live process's breaker per provider (heartbeats),
   * and the attempt log over 1 min / 15 min / 1 h and over `windowMs` (`recent`): success rate,
   * failures by category, latency percentiles, last success, last provider fault, delivery lag.
   * `view: 'operator'` for operator keys. A tenant's key gets `view: 'tenant'`: no processes
   * (`processes` and each provider's `breakers` are empty; `openIn` and `liveIn` still count), and a last
   * fault of another tenant's message without its id and the provider's words (see tenant-view.ts).
   */
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
      const names = ctx.deps.providerNames();
      const [views, activity, health, processes] = await Promise.all([
        providerViews(ctx.deps),
        ctx.deps.store.providerActivity(at - windowMs),
        ctx.deps.store.providerHealth({ providers: names, windowsMs: Object.values(healthWindows) }),
        liveProcesses(ctx.deps, at),
      ]);
      const recent = new Map(activity.map((entry) => [entry.provider, entry]));
      const windowed = new Map(health.map((entry) => [entry.provider, entry]));
      const failureView = ctx.operator ? fullFailure : await tenantFailureView(ctx.deps.store, ctx.tenantId, [...activity, ...health]);
      return {
        at,
        windowMs,
        view: ctx.operator ? ('operator' as const) : ('tenant' as const),
        processes: ctx.operator ? processes.map(({ breakers: _, ...process }): ProcessView => process) : [],
        providers: views.map((view) => {
          const record = windowed.get(view.name);
          const allBreakers = breakersIn(processes, view.name);
          const breakers = ctx.operator ? allBreakers : [];
          const type = view.type ?? allBreakers[0]?.type;
          const lastError = failureView(record?.lastError);
          return {
            ...view,
            ...(type === undefined ? {} : { type }),
            recent: recentOf(recent.get(view.name), failureView),
            breakers,
            openIn: allBreakers.filter((breaker) => breaker.state === 'open').length,
            // Live processes that report a breaker for this provider (`openIn` of them): the same in both views.
            liveIn: allBreakers.length,
            windows: windowsOf(record),
            ...(record?.lastAttemptAt === undefined ? {} : { lastAttemptAt: record.lastAttemptAt }),
            ...(record?.lastSuccessAt === undefined
              ? {}
              : { lastSuccessAt: record.lastSuccessAt, sinceLastSuccessMs: at - record.lastSuccessAt }),
            ...(lastError ? { lastError } : {}),
            ...(record?.deliveryLag ? { deliveryLag: record.deliveryLag } : {}),
          };
        }),
      };
    }),

  /**
   * Enables, drains, disables or forces open a provider for every process and so for every
   * tenant: operators only (stored; see
   * `providerStates` in the store for what each means). Workers pick it up within
   * `worker.overridesRefreshMs`. Recorded in `audit` with the key that asked.
   */
  setState: scoped('operator')
    .input(z.strictObject({ provider: z.string().min(1).max(200), state: z.enum(providerStates), note: z.string().max(1000).optional() }))
    .mutation(({ ctx, input }) => {
      const names = ctx.deps.providerNames();
      if (!names.includes(input.provider)) {
        throw apiError('INVALID_INPUT', `unknown provider ${input.provider}`, [
          { path: 'provider', message: `not a configured provider; configured: ${names.join(', ') || '(none)'}` },
        ]);
      }
      return ctx.deps.store.setProviderState(input.provider, input.state, input.note, { keyId: ctx.key.id, keyName: ctx.key.name });
    }),

  /** Every `setState`, newest first: who (key name and id), when, the note, the state before and after. */
  audit: scoped(OPERATOR_SCOPE)
    .input(
      z
        .strictObject({
          provider: z.string().min(1).max(200).optional(),
          since: z.number().int().min(0).optional(),
          limit: z.number().int().min(1).max(1_000).optional(),
        })
        .optional(),
    )
    .query(({ ctx, input = {} }) => ctx.deps.store.listProviderAudit(defined(input))),
});
