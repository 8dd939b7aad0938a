import { setTimeout as sleep } from 'node:timers/promises';
import { type MessageStatus, unsentStatuses } from '@mailroute/core';
import { type AlertKind, alertTitles, type BreakerEvent, type ProviderState } from '@mailroute/store';
import { tracked } from '@trpc/server';
import { z } from 'zod';
import type { ApiContext } from '../context.js';
import { apiError } from '../errors.js';
import { allows } from '../scopes.js';
import { OPERATOR_SCOPE, router, scoped } from '../trpc.js';
import { liveProcesses } from './providers.js';

/** How often the server looks for a change: a breaker opening in any process shows within this plus the heartbeat write. */
export const LIVE_CHECK_MS = 1_000;

/** One provider's breaker in one live process (from its heartbeat). */
export interface LiveBreaker {
  readonly process: string;
  readonly host: string;
  readonly state: BreakerEvent['to'];
  readonly since: number;
  readonly halfOpenAt?: number;
  readonly notClosedSince?: number;
}

export interface LiveProvider {
  readonly name: string;
  readonly state: ProviderState;
  readonly note?: string;
  readonly breakers: readonly LiveBreaker[];
  /** Live processes whose breaker for it is open. */
  readonly openIn: number;
  /** Live processes do not all see the same breaker state. */
  readonly disagree: boolean;
}

export interface LiveAlert {
  readonly id: string;
  readonly kind: AlertKind;
  readonly subject: string;
  readonly summary: string;
  readonly startedAt: number;
  /** Its section in docs/runbook.md. */
  readonly runbook: string;
}

/**
 * What an open console needs to redraw its overview, sent whenever any of it changes. The
 * queue is the caller's tenant; providers and breakers are the service's. `alerts` and
 * `processes` only for keys with the operator scope.
 */
export interface LiveOverview {
  /** When the server took it (epoch ms); a change of this alone is not sent. */
  readonly at: number;
  /** Per status; the unsent ones as of `at`, the others refreshed every 15 s (counting them all is costly on a large store). */
  readonly counts: Record<MessageStatus, number>;
  /** Messages not yet handed to a provider. */
  readonly queueDepth: number;
  /** When the longest-waiting unsent message became due; the age is `at` minus this. */
  readonly oldestUnsentAt?: number;
  readonly providers: readonly LiveProvider[];
  readonly processes?: number;
  readonly alerts?: readonly LiveAlert[];
}

async function snapshot(ctx: ApiContext, tenantId: string, operator: boolean): Promise<LiveOverview> {
  const at = ctx.now();
  const scope = { tenantId };
  const [full, unsent, oldestUnsentAt, processes, states, alerts] = await Promise.all([
    ctx.live.fullCounts(tenantId, () => ctx.deps.store.countByStatus(scope)),
    ctx.deps.store.countByStatus(scope, unsentStatuses),
    ctx.deps.store.oldestUnsentAt(scope),
    liveProcesses(ctx.deps, at),
    ctx.deps.store.listProviderStates(),
    operator ? ctx.deps.store.firingAlerts() : Promise.resolve(undefined),
  ]);
  const counts = { ...full };
  for (const status of unsentStatuses) counts[status] = unsent[status];
  const stored = new Map(states.map((record) => [record.provider, record]));
  const providers = ctx.deps.providerNames().map((name): LiveProvider => {
    const breakers = processes.flatMap((beat): LiveBreaker[] => {
      const breaker = beat.breakers[name];
      if (!breaker) return [];
      return [
        {
          process: beat.id,
          host: beat.host,
          state: breaker.state,
          since: breaker.since,
          ...(breaker.halfOpenAt === undefined ? {} : { halfOpenAt: breaker.halfOpenAt }),
          ...(breaker.notClosedSince === undefined ? {} : { notClosedSince: breaker.notClosedSince }),
        },
      ];
    });
    const record = stored.get(name);
    return {
      name,
      state: record?.state ?? 'enabled',
      ...(record?.note === undefined ? {} : { note: record.note }),
      breakers,
      openIn: breakers.filter((breaker) => breaker.state === 'open').length,
      disagree: new Set(breakers.map((breaker) => breaker.state)).size > 1,
    };
  });
  return {
    at,
    counts,
    queueDepth: unsentStatuses.reduce((sum, status) => sum + counts[status], 0),
    ...(oldestUnsentAt === undefined ? {} : { oldestUnsentAt }),
    providers,
    ...(operator ? { processes: processes.length } : {}),
    ...(alerts
      ? {
          alerts: alerts.map((alert) => ({
            id: alert.id,
            kind: alert.kind,
            subject: alert.subject,
            summary: alert.summary,
            startedAt: alert.startedAt,
            runbook: alertTitles[alert.kind].runbook,
          })),
        }
      : {}),
  };
}

/** Everything but the time it was taken: two snapshots that differ only in `at` are the same news. */
function fingerprint(overview: LiveOverview): string {
  const { at: _, ...rest } = overview;
  return JSON.stringify(rest);
}

export const liveRouter = router({
  /**
   * One subscription (server-sent events) per open console: the overview snapshot at once,
   * then again whenever it changes, checked every second. Each event has a `tracked` id; a
   * client that reconnects with `lastEventId` gets the current snapshot at once (a snapshot
   * supersedes what it missed). A revoked key or ended session closes the stream with
   * UNAUTHENTICATED within the key cache time.
   */
  overview: scoped('read')
    .input(z.strictObject({ lastEventId: z.string().max(100).nullish() }).optional())
    .subscription(async function* ({ ctx, signal }) {
      const operator = allows(ctx.key.scopes, OPERATOR_SCOPE);
      let last = '';
      let sequence = 0;
      while (!signal?.aborted) {
        if (!(await ctx.stillSignedIn())) throw apiError('UNAUTHENTICATED', 'the key or console session has ended: sign in again');
        const overview = await ctx.live.overview(ctx.tenantId, operator, () => snapshot(ctx, ctx.tenantId, operator));
        const print = fingerprint(overview);
        if (print !== last) {
          last = print;
          sequence += 1;
          yield tracked(`${overview.at}-${sequence}`, overview);
        }
        try {
          await sleep(LIVE_CHECK_MS, undefined, signal ? { signal } : {});
        } catch {
          return;
        }
      }
    }),
});
