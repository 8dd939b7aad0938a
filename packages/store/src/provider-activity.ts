import type { MailError } from '@mailroute/core';
import type { StoreContext } from './context.js';
import { percentile } from './provider-activity-percentile.js';
import { argumentList } from './sql.js';

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

/** Attempt counts and latency of one provider over one window. */
export interface AttemptTally {
  readonly attempts: number;
  readonly accepted: number;
  readonly failed: number;
  /** Failed attempts by error category (`message`, `provider`, `rate_limited`, `ambiguous`). */
  readonly failedByCategory: Readonly<Record<string, number>>;
  readonly latencyAvgMs?: number;
  /** Interpolated percentiles (PostgreSQL's percentile_cont), rounded to 0.1 ms. */
  readonly latencyP50Ms?: number;
  readonly latencyP95Ms?: number;
  readonly latencyP99Ms?: number;
  /**
   * SQLite only, past LATENCY_SAMPLE_LIMIT attempts: the percentiles come from the latest
   * attempts of the window, not all of them (counts stay exact).
   */
  readonly latencySampled?: true;
}

/**
 * What the attempt log says about one provider over a recent window. Attempts are written
 * by every process, so this is the view shared by all of them (breakers are per process).
 */
export interface ProviderActivity extends AttemptTally {
  readonly provider: string;
  readonly lastAttemptAt?: number;
  /**
   * The latest failure that was the provider's fault (not a message fault): what an operator
   * needs to judge the provider, and free of one tenant's recipients being shown to another.
   */
  readonly lastError?: ProviderFailure;
}

export interface ProviderCounts extends AttemptTally {
  readonly provider: string;
  readonly lastAttemptAt: number;
}

export interface WindowTally extends AttemptTally {
  readonly windowMs: number;
}

/** Send (provider accepted) to delivered (the provider's webhook), per message. */
export interface DeliveryLag {
  /** Messages whose delivered event arrived within the window. */
  readonly delivered: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
}

export interface ProviderHealthRecord {
  readonly provider: string;
  /** One tally per requested window, in the order asked. */
  readonly windows: readonly WindowTally[];
  /** Ever, not only within the windows: "no success for three hours" must show. */
  readonly lastAttemptAt?: number;
  readonly lastSuccessAt?: number;
  /** The latest provider fault within the widest window. */
  readonly lastError?: ProviderFailure;
  /** Over the widest window; absent without delivered events. */
  readonly deliveryLag?: DeliveryLag;
}

export interface ProviderHealthRequest {
  readonly providers: readonly string[];
  /** Window lengths (ms) ending now (the store's clock). */
  readonly windowsMs: readonly number[];
}

/**
 * SQLite has no percentile function: at most this many latencies per provider are read (the
 * latest). Ten thousand put a hundred samples above the p99; reading them all for a busy hour
 * would cost more than the counts themselves (measured: test/bench/provider-health.ts).
 */
export const LATENCY_SAMPLE_LIMIT = 10_000;

const MESSAGE_FAULT = 'message';
const PERCENTILES = [0.5, 0.95, 0.99] as const;

interface Tally {
  attempts: number;
  accepted: number;
  latencySum: number;
  last: number;
  failed: Record<string, number>;
}

interface Percentiles {
  readonly values: readonly [number, number, number];
  readonly sampled: boolean;
}

const round = (value: number) => Math.round(value * 10) / 10;

function emptyTally(): Tally {
  return { attempts: 0, accepted: 0, latencySum: 0, last: 0, failed: {} };
}

function tallyView(tally: Tally, latency: Percentiles | undefined): AttemptTally {
  return {
    attempts: tally.attempts,
    accepted: tally.accepted,
    failed: tally.attempts - tally.accepted,
    failedByCategory: tally.failed,
    ...(tally.attempts > 0 ? { latencyAvgMs: Math.round(tally.latencySum / tally.attempts) } : {}),
    ...(latency
      ? {
          latencyP50Ms: round(latency.values[0]),
          latencyP95Ms: round(latency.values[1]),
          latencyP99Ms: round(latency.values[2]),
          ...(latency.sampled ? { latencySampled: true as const } : {}),
        }
      : {}),
  };
}

export function createProviderActivityApi(ctx: StoreContext) {
  const { db } = ctx;

  /**
   * Counts per provider for each window start, in one pass over the widest window (plain SQL:
   * a conditional sum per window); only `providers` when given, so the (provider, started_at)
   * index applies.
   */
  async function tallies(froms: readonly Date[], providers?: readonly string[]): Promise<Map<string, Tally>[]> {
    if (providers?.length === 0) return froms.map(() => new Map());
    const widest = new Date(Math.min(...froms.map((from) => from.getTime())));
    const a = argumentList(ctx.raw);
    const sums = froms.map((from, index) => {
      const count = `SUM(CASE WHEN started_at >= ${a.add(from)} THEN 1 ELSE 0 END) AS n${index}`;
      return `${count}, SUM(CASE WHEN started_at >= ${a.add(from)} THEN latency_ms ELSE 0 END) AS l${index}`;
    });
    // Placeholders are `?` on SQLite: arguments are added in the order they appear in the text.
    const since = a.add(widest);
    const only = providers ? ` AND provider IN (${a.list(providers)})` : '';
    // An `unknown` outcome (a worker died mid-send) says nothing about the provider.
    const rows = await db.$queryRawUnsafe<Record<string, unknown>[]>(
      `SELECT provider, outcome, error_category, MAX(started_at) AS last, ${sums.join(', ')}
       FROM attempt WHERE started_at >= ${since}${only} AND outcome <> 'unknown' GROUP BY provider, outcome, error_category`,
      ...a.args,
    );
    return froms.map((_, index) => {
      const byProvider = new Map<string, Tally>();
      for (const row of rows) {
        const count = Number(row[`n${index}`] ?? 0);
        if (count === 0) continue;
        const provider = String(row.provider);
        const entry = byProvider.get(provider) ?? emptyTally();
        entry.attempts += count;
        entry.latencySum += Number(row[`l${index}`] ?? 0);
        entry.last = Math.max(entry.last, new Date(row.last as string | Date).getTime());
        if (row.outcome === 'accepted') entry.accepted += count;
        else {
          const category = typeof row.error_category === 'string' ? row.error_category : 'unknown';
          entry.failed[category] = (entry.failed[category] ?? 0) + count;
        }
        byProvider.set(provider, entry);
      }
      return byProvider;
    });
  }

  /**
   * Latency percentiles per provider and window start. PostgreSQL computes them in one
   * statement (percentile_cont with a FILTER per window); SQLite reads the latency column of
   * the widest window, newest first and bounded, and interpolates the same way.
   */
  async function latencyPercentiles(
    providers: readonly string[],
    froms: readonly Date[],
    counts: (provider: string, windowIndex: number) => number,
  ): Promise<Map<string, (Percentiles | undefined)[]>> {
    const result = new Map<string, (Percentiles | undefined)[]>();
    if (providers.length === 0 || froms.length === 0) return result;
    const widest = new Date(Math.min(...froms.map((from) => from.getTime())));
    if (ctx.dialect === 'postgres') {
      const args: unknown[] = [widest, ...froms, ...providers];
      const columns = froms.flatMap((_, windowIndex) =>
        PERCENTILES.map(
          (fraction, index) =>
            `percentile_cont(${fraction}) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE started_at >= $${windowIndex + 2}) AS w${windowIndex}_${index}`,
        ),
      );
      const names = providers.map((_, index) => `$${froms.length + 2 + index}`).join(', ');
      const rows = await db.$queryRawUnsafe<Record<string, unknown>[]>(
        `SELECT provider, ${columns.join(', ')} FROM attempt WHERE provider IN (${names}) AND started_at >= $1 GROUP BY provider`,
        ...args,
      );
      for (const row of rows) {
        const provider = String(row.provider);
        result.set(
          provider,
          froms.map((_, windowIndex) => {
            const values = PERCENTILES.map((__, index) => row[`w${windowIndex}_${index}`]);
            if (values.some((value) => value === null || value === undefined)) return undefined;
            return { values: values.map(Number) as unknown as Percentiles['values'], sampled: false };
          }),
        );
      }
      return result;
    }
    await Promise.all(
      providers.map(async (provider) => {
        const a = argumentList(ctx.raw);
        const inWindow = froms.map((from, index) => `CASE WHEN started_at >= ${a.add(from)} THEN 1 ELSE 0 END AS w${index}`);
        const rows = await db.$queryRawUnsafe<Record<string, unknown>[]>(
          `SELECT latency_ms, ${inWindow.join(', ')} FROM attempt
           WHERE provider = ${a.add(provider)} AND started_at >= ${a.add(widest)}
           ORDER BY started_at DESC LIMIT ${a.add(LATENCY_SAMPLE_LIMIT)}`,
          ...a.args,
        );
        result.set(
          provider,
          froms.map((_, windowIndex) => {
            const latencies = rows.filter((row) => Number(row[`w${windowIndex}`]) === 1).map((row) => Number(row.latency_ms));
            if (latencies.length === 0) return undefined;
            latencies.sort((a, b) => a - b);
            const values = PERCENTILES.map((fraction) => percentile(latencies, fraction)) as unknown as Percentiles['values'];
            return { values, sampled: latencies.length < counts(provider, windowIndex) };
          }),
        );
      }),
    );
    return result;
  }

  /** Counts only (no latency, no last fault), per provider that made attempts since `since`: one query. */
  async function providerCounts(since: number, providers?: readonly string[]): Promise<ProviderCounts[]> {
    const [byProvider = new Map<string, Tally>()] = await tallies([new Date(since)], providers);
    return [...byProvider.keys()].sort().map((provider) => {
      const tally = byProvider.get(provider) ?? emptyTally();
      return { provider, ...tallyView(tally, undefined), lastAttemptAt: tally.last };
    });
  }

  /** Attempts since `since` (epoch ms), per provider that made any, sorted by name. */
  async function providerActivity(since: number): Promise<ProviderActivity[]> {
    const from = new Date(since);
    const [byProvider = new Map<string, Tally>()] = await tallies([from]);
    const providers = [...byProvider.keys()].sort();
    const latency = await latencyPercentiles(providers, [from], (provider) => byProvider.get(provider)?.attempts ?? 0);
    return Promise.all(
      providers.map(async (provider): Promise<ProviderActivity> => {
        const tally = byProvider.get(provider) ?? emptyTally();
        const lastError = await lastProviderFailure(provider, from);
        return {
          provider,
          ...tallyView(tally, latency.get(provider)?.[0]),
          ...(tally.attempts > 0 ? { lastAttemptAt: tally.last } : {}),
          ...(lastError ? { lastError } : {}),
        };
      }),
    );
  }

  /** Per provider: tallies over each window, last attempt and success, last provider fault, delivery lag. */
  async function providerHealth(request: ProviderHealthRequest): Promise<ProviderHealthRecord[]> {
    const { providers, windowsMs } = request;
    if (providers.length === 0) return [];
    const at = ctx.now();
    const froms = windowsMs.map((windowMs) => new Date(at - windowMs));
    const widest = new Date(at - Math.max(0, ...windowsMs));
    const perWindow = await tallies(froms, providers);
    const count = (provider: string, windowIndex: number) => perWindow[windowIndex]?.get(provider)?.attempts ?? 0;
    const [latency, lag] = await Promise.all([latencyPercentiles(providers, froms, count), deliveryLag(providers, widest)]);
    return Promise.all(
      providers.map(async (provider): Promise<ProviderHealthRecord> => {
        const [lastAttempt, lastSuccess, lastError] = await Promise.all([
          db.attempt.findFirst({ where: { provider }, orderBy: { startedAt: 'desc' }, select: { startedAt: true } }),
          db.attempt.findFirst({ where: { provider, outcome: 'accepted' }, orderBy: { startedAt: 'desc' }, select: { startedAt: true } }),
          lastProviderFailure(provider, widest),
        ]);
        const delivery = lag.get(provider);
        return {
          provider,
          windows: windowsMs.map((windowMs, index) => ({
            windowMs,
            ...tallyView(perWindow[index]?.get(provider) ?? emptyTally(), latency.get(provider)?.[index]),
          })),
          ...(lastAttempt ? { lastAttemptAt: lastAttempt.startedAt.getTime() } : {}),
          ...(lastSuccess ? { lastSuccessAt: lastSuccess.startedAt.getTime() } : {}),
          ...(lastError ? { lastError } : {}),
          ...(delivery ? { deliveryLag: delivery } : {}),
        };
      }),
    );
  }

  /**
   * Messages whose delivered event arrived since `from` (the event table's (type, received_at)
   * index finds them), by the provider that accepted them: delivered_at minus sent_at.
   */
  async function deliveryLag(providers: readonly string[], from: Date): Promise<Map<string, DeliveryLag>> {
    const result = new Map<string, DeliveryLag>();
    if (ctx.dialect === 'postgres') {
      const names = providers.map((_, index) => `$${index + 2}`).join(', ');
      const rows = await db.$queryRawUnsafe<{ provider: string; delivered: bigint | number; p50: number; p95: number }[]>(
        `SELECT provider, count(*) AS delivered,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_ms) AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY lag_ms) AS p95
         FROM (
           SELECT DISTINCT m.id, m.provider, GREATEST(0, EXTRACT(EPOCH FROM (m.delivered_at - m.sent_at)) * 1000) AS lag_ms
           FROM event e JOIN message m ON m.id = e.message_id
           WHERE e.type = 'delivered' AND e.received_at >= $1 AND m.provider IN (${names})
             AND m.sent_at IS NOT NULL AND m.delivered_at IS NOT NULL
         ) delivered
         GROUP BY provider`,
        from,
        ...providers,
      );
      for (const row of rows) {
        result.set(row.provider, { delivered: Number(row.delivered), p50Ms: round(Number(row.p50)), p95Ms: round(Number(row.p95)) });
      }
      return result;
    }
    const events = await db.event.findMany({
      where: {
        type: 'delivered',
        receivedAt: { gte: from },
        message: { is: { provider: { in: [...providers] }, sentAt: { not: null }, deliveredAt: { not: null } } },
      },
      orderBy: { receivedAt: 'desc' },
      take: LATENCY_SAMPLE_LIMIT,
      select: { messageId: true, message: { select: { provider: true, sentAt: true, deliveredAt: true } } },
    });
    const lags = new Map<string, Map<string, number>>();
    for (const event of events) {
      const message = event.message;
      if (!message?.provider || !message.sentAt || !message.deliveredAt || !event.messageId) continue;
      const perMessage = lags.get(message.provider) ?? new Map<string, number>();
      perMessage.set(event.messageId, Math.max(0, message.deliveredAt.getTime() - message.sentAt.getTime()));
      lags.set(message.provider, perMessage);
    }
    for (const [provider, perMessage] of lags) {
      const sorted = [...perMessage.values()].sort((a, b) => a - b);
      result.set(provider, { delivered: sorted.length, p50Ms: round(percentile(sorted, 0.5)), p95Ms: round(percentile(sorted, 0.95)) });
    }
    return result;
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

  return { providerActivity, providerCounts, providerHealth };
}
