import type { StoreContext } from './context.js';
import { StoreError } from './errors.js';
import { argumentList } from './sql.js';

export interface SeriesRequest {
  /** Start of the first bucket (epoch ms); buckets are aligned to multiples of `bucketMs` since the epoch. */
  readonly from: number;
  readonly bucketMs: number;
  /** Only these providers (the index on attempt starts with the provider). */
  readonly providers: readonly string[];
}

/** Attempt counts of one provider in one bucket. */
export interface AttemptBucket {
  readonly provider: string;
  /** Start of the bucket (epoch ms). */
  readonly at: number;
  readonly accepted: number;
  /** Failed attempts by error category (`provider`, `message`, `rate_limited`, `ambiguous`, `unknown`). */
  readonly failedByCategory: Readonly<Record<string, number>>;
  /** Accepted attempts whose message had already been tried on another provider: mail that failed over to this one. */
  readonly failovers: number;
}

export interface SeriesApi {
  /** Attempts per provider and bucket since `from`, from the attempt log every process writes; buckets without attempts are left out. */
  attemptSeries(request: SeriesRequest): Promise<AttemptBucket[]>;
}

/**
 * Epoch milliseconds of a timestamp column in SQL. SQLite keeps Prisma's DateTime as ISO text
 * (`2026-12-07T16:00:00.000+00:00`), which julianday reads; its float keeps well under a
 * millisecond of error, far below the smallest bucket.
 */
function epochMs(dialect: StoreContext['dialect'], column: string): string {
  return dialect === 'postgres' ? `(extract(epoch from ${column}) * 1000)` : `ROUND((julianday(${column}) - 2440587.5) * 86400000.0)`;
}

export function createSeriesApi(ctx: StoreContext): SeriesApi {
  return {
    async attemptSeries({ from, bucketMs, providers }) {
      if (!Number.isSafeInteger(bucketMs) || bucketMs < 1_000) throw new StoreError('INVALID_INPUT', 'bucketMs must be at least 1000');
      if (providers.length === 0) return [];
      const start = Math.floor(from / bucketMs) * bucketMs;
      const bucket = (column: string, a: ReturnType<typeof argumentList>) =>
        `CAST(FLOOR(${epochMs(ctx.dialect, column)} / ${a.add(bucketMs)}) AS BIGINT)`;
      const a = argumentList(ctx.raw);
      const outcomes = await ctx.db.$queryRawUnsafe<Record<string, unknown>[]>(
        `SELECT provider, ${bucket('started_at', a)} AS b, outcome, error_category, COUNT(*) AS n
         FROM attempt WHERE provider IN (${a.list(providers)}) AND started_at >= ${a.add(new Date(start))}
         GROUP BY provider, b, outcome, error_category`,
        ...a.args,
      );
      const f = argumentList(ctx.raw);
      const failovers = await ctx.db.$queryRawUnsafe<Record<string, unknown>[]>(
        `SELECT a.provider, ${bucket('a.started_at', f)} AS b, COUNT(*) AS n
         FROM attempt a
         WHERE a.provider IN (${f.list(providers)}) AND a.started_at >= ${f.add(new Date(start))} AND a.outcome = 'accepted'
           AND EXISTS (SELECT 1 FROM attempt p WHERE p.message_id = a.message_id AND p.provider <> a.provider AND p.started_at <= a.started_at)
         GROUP BY a.provider, b`,
        ...f.args,
      );
      const buckets = new Map<
        string,
        { provider: string; at: number; accepted: number; failedByCategory: Record<string, number>; failovers: number }
      >();
      const entry = (provider: string, b: unknown) => {
        const at = Number(b) * bucketMs;
        const key = `${provider}|${at}`;
        let found = buckets.get(key);
        if (!found) {
          found = { provider, at, accepted: 0, failedByCategory: {}, failovers: 0 };
          buckets.set(key, found);
        }
        return found;
      };
      for (const row of outcomes) {
        const target = entry(String(row.provider), row.b);
        const count = Number(row.n);
        if (row.outcome === 'accepted') target.accepted += count;
        else {
          const category = typeof row.error_category === 'string' ? row.error_category : 'unknown';
          target.failedByCategory[category] = (target.failedByCategory[category] ?? 0) + count;
        }
      }
      for (const row of failovers) entry(String(row.provider), row.b).failovers += Number(row.n);
      return [...buckets.values()].sort((x, y) => x.at - y.at || x.provider.localeCompare(y.provider));
    },
  };
}
