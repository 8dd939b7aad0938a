import type { MailError } from '@mailroute/core';
import type { StoreContext } from './context.js';

/** A provider's failure with its own words (redacted): status, code and answer body. */
export interface ProviderFailure {
  readonly at: number;
  readonly messageId: string;
  readonly errorCode?: string;
  readonly errorCategory?: string;
  readonly errorMessage?: string;
  readonly statusCode?: number;
  readonly error?: MailError;
}

/**
 * What the attempt log says about one provider over a recent window. Attempts are written
 * by every process, so this is the view shared by all of them (breakers are per process).
 */
export interface ProviderActivity {
  readonly provider: string;
  readonly attempts: number;
  readonly accepted: number;
  readonly failed: number;
  /** Failed attempts by error category (`message`, `provider`, `rate_limited`, `ambiguous`). */
  readonly failedByCategory: Readonly<Record<string, number>>;
  readonly latencyAvgMs?: number;
  readonly latencyP95Ms?: number;
  readonly lastAttemptAt?: number;
  /**
   * The latest failure that was the provider's fault (not a message fault): what an operator
   * needs to judge the provider, and free of one tenant's recipients being shown to another.
   */
  readonly lastError?: ProviderFailure;
}

const MESSAGE_FAULT = 'message';

export function createProviderActivityApi(ctx: StoreContext) {
  const { db } = ctx;

  /** Attempts since `since` (epoch ms), per provider that made any, sorted by name. */
  async function providerActivity(since: number): Promise<ProviderActivity[]> {
    const from = new Date(since);
    const groups = await db.attempt.groupBy({
      by: ['provider', 'outcome', 'errorCategory'],
      where: { startedAt: { gte: from } },
      _count: { _all: true },
      _sum: { latencyMs: true },
      _max: { startedAt: true },
    });
    const byProvider = new Map<
      string,
      { attempts: number; accepted: number; latencySum: number; last: number; failed: Record<string, number> }
    >();
    for (const group of groups) {
      const entry = byProvider.get(group.provider) ?? { attempts: 0, accepted: 0, latencySum: 0, last: 0, failed: {} };
      const count = group._count._all;
      entry.attempts += count;
      entry.latencySum += group._sum.latencyMs ?? 0;
      entry.last = Math.max(entry.last, group._max.startedAt?.getTime() ?? 0);
      if (group.outcome === 'accepted') entry.accepted += count;
      else {
        const category = group.errorCategory ?? 'unknown';
        entry.failed[category] = (entry.failed[category] ?? 0) + count;
      }
      byProvider.set(group.provider, entry);
    }
    const providers = [...byProvider.keys()].sort();
    return Promise.all(
      providers.map(async (provider): Promise<ProviderActivity> => {
        const entry = byProvider.get(provider) ?? { attempts: 0, accepted: 0, latencySum: 0, last: 0, failed: {} };
        const [p95, lastError] = await Promise.all([
          latencyPercentile(provider, from, entry.attempts, 0.95),
          lastProviderFailure(provider, from),
        ]);
        return {
          provider,
          attempts: entry.attempts,
          accepted: entry.accepted,
          failed: entry.attempts - entry.accepted,
          failedByCategory: entry.failed,
          ...(entry.attempts > 0 ? { latencyAvgMs: Math.round(entry.latencySum / entry.attempts), lastAttemptAt: entry.last } : {}),
          ...(p95 === undefined ? {} : { latencyP95Ms: p95 }),
          ...(lastError ? { lastError } : {}),
        };
      }),
    );
  }

  /** Nearest-rank percentile: one indexed, sorted read per provider, the same SQL on both databases. */
  async function latencyPercentile(provider: string, from: Date, count: number, fraction: number): Promise<number | undefined> {
    if (count === 0) return undefined;
    const row = await db.attempt.findFirst({
      where: { provider, startedAt: { gte: from } },
      orderBy: { latencyMs: 'asc' },
      skip: Math.max(0, Math.ceil(fraction * count) - 1),
      select: { latencyMs: true },
    });
    return row?.latencyMs;
  }

  async function lastProviderFailure(provider: string, from: Date): Promise<ProviderFailure | undefined> {
    const row = await db.attempt.findFirst({
      where: {
        provider,
        startedAt: { gte: from },
        outcome: { not: 'accepted' },
        OR: [{ errorCategory: null }, { errorCategory: { not: MESSAGE_FAULT } }],
      },
      orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      select: { startedAt: true, messageId: true, errorCode: true, errorCategory: true, errorMessage: true, statusCode: true, error: true },
    });
    if (!row) return undefined;
    return {
      at: row.startedAt.getTime(),
      messageId: row.messageId,
      ...(row.errorCode === null ? {} : { errorCode: row.errorCode }),
      ...(row.errorCategory === null ? {} : { errorCategory: row.errorCategory }),
      ...(row.errorMessage === null ? {} : { errorMessage: row.errorMessage }),
      ...(row.statusCode === null ? {} : { statusCode: row.statusCode }),
      ...(row.error === null ? {} : { error: row.error as unknown as MailError }),
    };
  }

  return { providerActivity };
}
