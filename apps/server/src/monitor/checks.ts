import { unsentStatuses } from '@mailroute/core';
import {
  type AlertCondition,
  type AlertKind,
  type AlertRecord,
  type DeadMessageReport,
  type MailStore,
  SERVICE_SUBJECT,
} from '@mailroute/store';
import type { MailrouteConfig } from '../config/schema.js';
import { formatDuration } from './notices.js';

export type AlertSettings = MailrouteConfig['alerts'];

/**
 * A condition a check sees now. `sustainOnly`: it keeps an incident that is firing already
 * open, but does not start one (a breaker that stays open, but not yet for the threshold, as
 * seen by a monitor that just took over).
 */
export interface CheckCondition extends AlertCondition {
  readonly sustainOnly?: boolean;
}

/** A firing incident whose cause is gone, and why: what its resolve notice says. */
export interface Resolution {
  readonly subject: string;
  readonly reason: string;
}

/**
 * What one check concluded. A firing incident named in neither list stays as it is: an
 * incident closes only when its check says what took its cause away.
 */
export interface CheckResult {
  readonly conditions: readonly CheckCondition[];
  readonly resolved: readonly Resolution[];
}

export interface CheckContext {
  readonly store: MailStore;
  readonly now: number;
  readonly settings: AlertSettings;
  /** The providers in the configuration, in order. */
  readonly providerNames: readonly string[];
  /** A process not heard from for this long is left out of the breaker view. */
  readonly staleAfterMs: number;
  /** The incidents of this check's kind firing now. */
  readonly firing: readonly AlertRecord[];
}

export interface Check {
  readonly kind: AlertKind;
  run(context: CheckContext): Promise<CheckResult>;
}

export const nothing: CheckResult = { conditions: [], resolved: [] };

export const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

const causesOf = (report: DeadMessageReport) =>
  Object.entries(report.byError)
    .sort(([, a], [, b]) => b - a)
    .map(([code, count]) => `${code} ${count}`)
    .join(', ');

/** What an incident says about mail that went dead while it lasted (the dead_messages incident says it too). */
const wentDead = (report: DeadMessageReport) =>
  report.count === 0 ? '' : `; ${plural(report.count, 'message')} went dead since this started (${causesOf(report)})`;

const deadDetail = (report: DeadMessageReport) => ({ deadSinceStart: report.count, deadByError: report.byError });

const serviceIncident = (firing: readonly AlertRecord[]) => firing.find((alert) => alert.subject === SERVICE_SUBJECT);

/**
 * The oldest message not yet handed to a provider has waited longer than the threshold. It
 * clears when the late mail was handed to a provider, never because it went dead meanwhile.
 */
export const lateDelivery: Check = {
  kind: 'late_delivery',
  async run({ store, now, settings, firing }) {
    const incident = serviceIncident(firing);
    const oldest = await store.oldestUnsentAt();
    if (oldest !== undefined && now - oldest >= settings.lateAfterMs) {
      const lateSince = oldest + settings.lateAfterMs;
      const [counts, dead, forProvider] = await Promise.all([
        store.countByStatus(),
        store.deadMessagesSince(incident?.startedAt ?? lateSince),
        store.waitingForProvider(),
      ]);
      const waiting = Object.fromEntries(unsentStatuses.map((status) => [status, counts[status]]));
      const noProvider =
        forProvider === 0
          ? ''
          : `; ${forProvider} of them wait for a provider to come back (no provider could be called: breakers open or disabled; such rounds do not count toward retry.maxAttempts, so they wait until a provider is back or retry.maxAgeMs passes)`;
      const total = unsentStatuses.reduce((sum, status) => sum + counts[status], 0);
      return {
        conditions: [
          {
            kind: 'late_delivery',
            subject: SERVICE_SUBJECT,
            summary: `The oldest message not yet sent has waited ${formatDuration(now - oldest)} (threshold ${formatDuration(settings.lateAfterMs)}); ${plural(total, 'message')} waiting (${unsentStatuses
              .filter((status) => counts[status] > 0)
              .map((status) => `${status} ${counts[status]}`)
              .join(', ')})${noProvider}${wentDead(dead)}.`,
            detail: {
              oldestUnsentAt: new Date(oldest).toISOString(),
              waitedMs: now - oldest,
              thresholdMs: settings.lateAfterMs,
              waiting,
              waitingForProvider: forProvider,
              ...deadDetail(dead),
            },
            startedAt: lateSince,
          },
        ],
        resolved: [],
      };
    }
    if (!incident) return nothing;
    const [activity, dead] = await Promise.all([store.providerActivity(incident.startedAt), store.deadMessagesSince(incident.startedAt)]);
    const accepted = activity.filter((provider) => provider.accepted > 0);
    const sent = accepted.reduce((sum, provider) => sum + provider.accepted, 0);
    const queueNow = oldest === undefined ? 'no mail waits' : `the oldest waiting message has waited ${formatDuration(now - oldest)}`;
    if (sent > 0) {
      const by = accepted.map((provider) => `${provider.provider} ${provider.accepted}`).join(', ');
      return {
        conditions: [],
        resolved: [
          {
            subject: SERVICE_SUBJECT,
            reason: `The late mail was handed to a provider: ${plural(sent, 'message')} accepted since it started (${by}); ${queueNow}${wentDead(dead)}.`,
          },
        ],
      };
    }
    if (dead.count > 0) {
      return {
        conditions: [
          {
            kind: 'late_delivery',
            subject: SERVICE_SUBJECT,
            summary: `No mail waits past the threshold now, but none of it was handed to a provider: ${plural(dead.count, 'message')} went dead since this started (${causesOf(dead)}). This stays open until a provider accepts mail.`,
            detail: { thresholdMs: settings.lateAfterMs, waiting: oldest === undefined ? 0 : 'under the threshold', ...deadDetail(dead) },
            sustainOnly: true,
          },
        ],
        resolved: [],
      };
    }
    return {
      conditions: [],
      resolved: [
        {
          subject: SERVICE_SUBJECT,
          reason: `No message waits past the threshold any more; none was sent and none went dead (the late mail was cancelled or refused for its own fault); ${queueNow}.`,
        },
      ],
    };
  },
};

/** Messages went dead within the window and nobody has resent them yet. */
export const deadMessages: Check = {
  kind: 'dead_messages',
  async run({ store, now, settings, firing }) {
    const report = await store.deadMessagesSince(now - settings.deadWindowMs);
    const incident = serviceIncident(firing);
    if (report.count > 0) {
      const latest = report.latestAt === undefined ? '' : `, the latest ${formatDuration(now - report.latestAt)} ago`;
      return {
        conditions: [
          {
            kind: 'dead_messages',
            subject: SERVICE_SUBJECT,
            summary: `${plural(report.count, 'message')} went dead in the last ${formatDuration(settings.deadWindowMs)} and ${report.count === 1 ? 'is' : 'are'} dead still${latest} (${causesOf(report)}).`,
            detail: {
              count: report.count,
              byError: report.byError,
              windowMs: settings.deadWindowMs,
              ...(report.latestAt === undefined ? {} : { latestAt: new Date(report.latestAt).toISOString() }),
            },
            ...(report.earliestAt === undefined ? {} : { startedAt: report.earliestAt }),
          },
        ],
        resolved: [],
      };
    }
    if (!incident) return nothing;
    const still = await store.deadMessagesSince(incident.startedAt);
    const reason =
      still.count === 0
        ? 'Every message that went dead during it was resent or cancelled: none is dead still.'
        : `No message went dead in the last ${formatDuration(settings.deadWindowMs)}; ${plural(still.count, 'message')} that went dead during it ${still.count === 1 ? 'is' : 'are'} dead still (resend with mail.retry).`;
    return { conditions: [], resolved: [{ subject: SERVICE_SUBJECT, reason }] };
  },
};

/**
 * Providers have failed by their own fault since the last time one answered, for longer than
 * the window: the window starts at the first failure after the last answer, so a quiet time
 * before it does not count. It clears only when a provider answers again.
 */
export const everyProviderFailing: Check = {
  kind: 'all_providers_failing',
  async run({ store, now, settings, providerNames, firing }) {
    const incident = serviceIncident(firing);
    const spell = await store.failingSpell(providerNames);
    const answer = spell.lastAnswer;
    if (incident && answer && answer.at >= incident.startedAt) {
      const what = answer.outcome === 'accepted' ? 'accepted mail' : "answered (it refused a message for the message's own fault)";
      return {
        conditions: [],
        resolved: [
          {
            subject: SERVICE_SUBJECT,
            reason: `${answer.provider} ${what} again at ${new Date(answer.at).toISOString()}, ${formatDuration(answer.at - incident.startedAt)} after the first failure.`,
          },
        ],
      };
    }
    if (spell.firstFailureAt === undefined) {
      if (!incident) return nothing;
      return {
        conditions: [],
        resolved: [{ subject: SERVICE_SUBJECT, reason: 'The providers that failed are no longer in the configuration.' }],
      };
    }
    const since = spell.firstFailureAt;
    const [activity, oldest, dead] = await Promise.all([
      store.providerActivity(since),
      store.oldestUnsentAt(),
      store.deadMessagesSince(incident?.startedAt ?? since),
    ]);
    const configured = activity.filter((provider) => providerNames.includes(provider.provider));
    const attempts = configured.reduce((sum, provider) => sum + provider.attempts, 0);
    const lastFailureAt = Math.max(...configured.map((provider) => provider.lastAttemptAt ?? since), since);
    const tried = new Set(configured.map((provider) => provider.provider));
    const untried = providerNames.filter((name) => !tried.has(name));
    const perProvider = configured.map((provider) => {
      const last = provider.lastError;
      const said = last ? ` (last: ${[last.errorCode, last.statusCode].filter((part) => part !== undefined).join(' ')})` : '';
      return `${provider.provider} ${provider.failed}/${provider.attempts} failed${said}`;
    });
    const quiet = now - lastFailureAt >= settings.failingWindowMs;
    const waits = oldest === undefined ? '' : quiet ? '; mail waits for its next try' : '';
    return {
      conditions: [
        {
          kind: 'all_providers_failing',
          subject: SERVICE_SUBJECT,
          summary: `No provider has accepted anything for ${formatDuration(now - since)}, since the first failure at ${new Date(since).toISOString()} (threshold ${formatDuration(settings.failingWindowMs)}): ${perProvider.join('; ')}${untried.length > 0 ? `; not tried: ${untried.join(', ')}` : ''}${waits}${wentDead(dead)}.`,
          detail: {
            windowMs: settings.failingWindowMs,
            firstFailureAt: new Date(since).toISOString(),
            lastFailureAt: new Date(lastFailureAt).toISOString(),
            ...(answer ? { lastAnswer: { ...answer, at: new Date(answer.at).toISOString() } } : {}),
            attempts,
            providers: configured.map((provider) => ({
              provider: provider.provider,
              attempts: provider.attempts,
              failed: provider.failed,
              failedByCategory: provider.failedByCategory,
              ...(provider.lastError
                ? {
                    lastError: {
                      at: new Date(provider.lastError.at).toISOString(),
                      ...(provider.lastError.errorCode === undefined ? {} : { code: provider.lastError.errorCode }),
                      ...(provider.lastError.statusCode === undefined ? {} : { statusCode: provider.lastError.statusCode }),
                      ...(provider.lastError.errorMessage === undefined ? {} : { message: provider.lastError.errorMessage }),
                    },
                  }
                : {}),
            })),
            notTried: untried,
            ...deadDetail(dead),
          },
          startedAt: since,
          // Old failures and then nothing (no mail, no attempt) are no news of an outage now:
          // they keep a firing incident open but start none.
          sustainOnly: now - since < settings.failingWindowMs || (oldest === undefined && quiet),
        },
      ],
      resolved: [],
    };
  },
};
