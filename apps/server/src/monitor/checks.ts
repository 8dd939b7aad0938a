import { unsentStatuses } from '@mailroute/core';
import { type AlertCondition, type AlertKind, type MailStore, SERVICE_SUBJECT } from '@mailroute/store';
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

export interface CheckContext {
  readonly store: MailStore;
  readonly now: number;
  readonly settings: AlertSettings;
  /** The providers in the configuration, in order. */
  readonly providerNames: readonly string[];
  /** A process not heard from for this long is left out of the breaker view. */
  readonly staleAfterMs: number;
}

export interface Check {
  readonly kind: AlertKind;
  /** Every condition of this kind that holds now (none: its incidents have cleared). */
  run(context: CheckContext): Promise<CheckCondition[]>;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/** The oldest message not yet handed to a provider has waited longer than the threshold. */
export const lateDelivery: Check = {
  kind: 'late_delivery',
  async run({ store, now, settings }) {
    const oldest = await store.oldestUnsentAt();
    if (oldest === undefined || now - oldest < settings.lateAfterMs) return [];
    const counts = await store.countByStatus();
    const waiting = Object.fromEntries(unsentStatuses.map((status) => [status, counts[status]]));
    const total = unsentStatuses.reduce((sum, status) => sum + counts[status], 0);
    return [
      {
        kind: 'late_delivery',
        subject: SERVICE_SUBJECT,
        summary: `The oldest message not yet sent has waited ${formatDuration(now - oldest)} (threshold ${formatDuration(settings.lateAfterMs)}); ${plural(total, 'message')} waiting (${unsentStatuses
          .filter((status) => counts[status] > 0)
          .map((status) => `${status} ${counts[status]}`)
          .join(', ')}).`,
        detail: { oldestUnsentAt: new Date(oldest).toISOString(), waitedMs: now - oldest, thresholdMs: settings.lateAfterMs, waiting },
      },
    ];
  },
};

/** Messages went dead within the window and nobody has resent them yet. */
export const deadMessages: Check = {
  kind: 'dead_messages',
  async run({ store, now, settings }) {
    const report = await store.deadMessagesSince(now - settings.deadWindowMs);
    if (report.count === 0) return [];
    const causes = Object.entries(report.byError)
      .sort(([, a], [, b]) => b - a)
      .map(([code, count]) => `${code} ${count}`)
      .join(', ');
    const latest = report.latestAt === undefined ? '' : `, the latest ${formatDuration(now - report.latestAt)} ago`;
    return [
      {
        kind: 'dead_messages',
        subject: SERVICE_SUBJECT,
        summary: `${plural(report.count, 'message')} went dead in the last ${formatDuration(settings.deadWindowMs)} and ${report.count === 1 ? 'is' : 'are'} dead still${latest} (${causes}).`,
        detail: {
          count: report.count,
          byError: report.byError,
          windowMs: settings.deadWindowMs,
          ...(report.latestAt === undefined ? {} : { latestAt: new Date(report.latestAt).toISOString() }),
        },
      },
    ];
  },
};

/** No attempt accepted within the window, though providers were tried and failed by their own fault. */
export const everyProviderFailing: Check = {
  kind: 'all_providers_failing',
  async run({ store, now, settings, providerNames }) {
    const activity = await store.providerActivity(now - settings.failingWindowMs);
    const attempts = activity.reduce((sum, provider) => sum + provider.attempts, 0);
    const accepted = activity.reduce((sum, provider) => sum + provider.accepted, 0);
    const providerFaults = activity.reduce(
      (sum, provider) =>
        sum +
        Object.entries(provider.failedByCategory)
          .filter(([category]) => category !== 'message')
          .reduce((inner, [, count]) => inner + count, 0),
      0,
    );
    if (accepted > 0 || (attempts > 0 && providerFaults === 0)) return [];
    if (attempts === 0) {
      // Mail in backoff makes no attempt for minutes (up to retry.maxDelayMs): no attempt is no
      // news. A firing incident stays open while mail waits, until a provider accepts again.
      if ((await store.oldestUnsentAt()) === undefined) return [];
      return [
        {
          kind: 'all_providers_failing',
          subject: SERVICE_SUBJECT,
          summary: `No provider has accepted anything; no attempt in the last ${formatDuration(settings.failingWindowMs)} (mail is waiting for its next retry).`,
          detail: { windowMs: settings.failingWindowMs, attempts: 0 },
          sustainOnly: true,
        },
      ];
    }
    const tried = new Set(activity.map((provider) => provider.provider));
    const untried = providerNames.filter((name) => !tried.has(name));
    const perProvider = activity.map((provider) => {
      const last = provider.lastError;
      const said = last ? ` (last: ${[last.errorCode, last.statusCode].filter((part) => part !== undefined).join(' ')})` : '';
      return `${provider.provider} ${provider.failed}/${provider.attempts} failed${said}`;
    });
    return [
      {
        kind: 'all_providers_failing',
        subject: SERVICE_SUBJECT,
        summary: `No provider accepted any of ${plural(attempts, 'attempt')} in the last ${formatDuration(settings.failingWindowMs)}: ${perProvider.join('; ')}${untried.length > 0 ? `; not tried: ${untried.join(', ')}` : ''}.`,
        detail: {
          windowMs: settings.failingWindowMs,
          attempts,
          providers: activity.map((provider) => ({
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
        },
      },
    ];
  },
};
