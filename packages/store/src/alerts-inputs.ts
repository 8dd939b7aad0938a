import type { StoreContext } from './context.js';

/** Messages that went dead in a time span and are dead still (a resend takes them out). */
export interface DeadMessageReport {
  readonly count: number;
  /** When the first and the latest of them went dead (epoch ms). */
  readonly earliestAt?: number;
  readonly latestAt?: number;
  /** Counts by the error code of their last failure (no ids: alerts are about the service, not one tenant's mail). */
  readonly byError: Readonly<Record<string, number>>;
}

/** The latest time a provider answered: it accepted a message, or refused one for the message's own fault. */
export interface ProviderAnswer {
  readonly provider: string;
  readonly at: number;
  readonly outcome: 'accepted' | 'refused';
}

/**
 * Where the service stands between providers answering and failing: the latest answer, and
 * the first provider fault after it (absent when none failed since). A quiet time before the
 * first failure is no part of the spell.
 */
export interface FailingSpell {
  readonly lastAnswer?: ProviderAnswer;
  readonly firstFailureAt?: number;
}

export interface AlertInputApi {
  /** Dead messages (every tenant) that went dead at or after `since` (epoch ms). */
  deadMessagesSince(since: number): Promise<DeadMessageReport>;
  /** The failing spell of these providers (their attempts from every process). */
  failingSpell(providers: readonly string[]): Promise<FailingSpell>;
  /**
   * Messages waiting for a retry whose last round called no provider (every breaker open,
   * every provider disabled): they wait for a provider, not for their turn.
   */
  waitingForProvider(): Promise<number>;
}

/** The codes a round that called no provider ends with (the router's `uncalled`). */
const UNCALLED_CODES = ['BREAKER_OPEN', 'PROVIDER_DISABLED'];

/** What the monitor's checks read from the message table beyond what operators' views offer. */
export function createAlertInputApi(ctx: StoreContext): AlertInputApi {
  const { db } = ctx;
  return {
    async deadMessagesSince(since) {
      const groups = await db.message.groupBy({
        by: ['lastErrorCode'],
        where: { status: 'dead', finishedAt: { gte: new Date(since) } },
        _count: { _all: true },
        _min: { finishedAt: true },
        _max: { finishedAt: true },
      });
      let count = 0;
      let earliestAt: number | undefined;
      let latestAt: number | undefined;
      const byError: Record<string, number> = {};
      for (const group of groups) {
        count += group._count._all;
        const code = group.lastErrorCode ?? 'unknown';
        byError[code] = (byError[code] ?? 0) + group._count._all;
        const first = group._min.finishedAt?.getTime();
        if (first !== undefined && (earliestAt === undefined || first < earliestAt)) earliestAt = first;
        const last = group._max.finishedAt?.getTime();
        if (last !== undefined && (latestAt === undefined || last > latestAt)) latestAt = last;
      }
      return {
        count,
        ...(earliestAt === undefined ? {} : { earliestAt }),
        ...(latestAt === undefined ? {} : { latestAt }),
        byError,
      };
    },

    async failingSpell(providers) {
      // One provider at a time: the attempt index leads with the provider, so each lookup reads
      // back from the newest attempt and stops at the first match.
      const answers = await Promise.all(
        providers.map((provider) =>
          db.attempt.findFirst({
            where: { provider, OR: [{ outcome: 'accepted' }, { errorCategory: 'message' }] },
            orderBy: { startedAt: 'desc' },
            select: { startedAt: true, outcome: true },
          }),
        ),
      );
      let lastAnswer: ProviderAnswer | undefined;
      for (const [index, answer] of answers.entries()) {
        if (!answer || (lastAnswer && lastAnswer.at >= answer.startedAt.getTime())) continue;
        lastAnswer = {
          provider: providers[index] ?? '',
          at: answer.startedAt.getTime(),
          outcome: answer.outcome === 'accepted' ? 'accepted' : 'refused',
        };
      }
      const after = lastAnswer === undefined ? {} : { startedAt: { gt: new Date(lastAnswer.at) } };
      const failures = await Promise.all(
        providers.map((provider) =>
          db.attempt.findFirst({
            where: { provider, outcome: 'failed', OR: [{ errorCategory: null }, { errorCategory: { not: 'message' } }], ...after },
            orderBy: { startedAt: 'asc' },
            select: { startedAt: true },
          }),
        ),
      );
      const firstFailureAt = failures.reduce<number | undefined>((first, failure) => {
        const at = failure?.startedAt.getTime();
        return at === undefined || (first !== undefined && first <= at) ? first : at;
      }, undefined);
      return { ...(lastAnswer ? { lastAnswer } : {}), ...(firstFailureAt === undefined ? {} : { firstFailureAt }) };
    },

    waitingForProvider() {
      return db.message.count({ where: { status: 'retrying', lastErrorCode: { in: UNCALLED_CODES } } });
    },
  };
}
