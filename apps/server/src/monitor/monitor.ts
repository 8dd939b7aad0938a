import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AlertRecord, MailStore } from '@mailroute/store';
import { breakerWatch } from './breaker-watch.js';
import { type AlertChannel, channelsFrom } from './channels/index.js';
import {
  type AlertSettings,
  type Check,
  type CheckCondition,
  type CheckResult,
  deadMessages,
  everyProviderFailing,
  lateDelivery,
} from './checks.js';
import { consoleLink } from './notices.js';
import { type NoticeOutcome, sendDueNotices } from './notifier.js';

/** The lease every process's monitor competes for: its holder is the one that checks and notifies. */
export const MONITOR_LEASE = 'alert-monitor';

interface MonitorLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface MonitorOptions {
  readonly store: MailStore;
  readonly settings: AlertSettings;
  /** The configured providers (read at every check: a reload may change them). */
  readonly providerNames: () => readonly string[];
  readonly logger: MonitorLogger;
  /** A process not heard from for this long is left out of the breaker view. */
  readonly staleAfterMs: number;
  /** Default: the channels in `settings`. */
  readonly channels?: readonly AlertChannel[];
  /** The console's address (`dashboard.publicUrl`): notices link to the view of their incident. */
  readonly dashboardUrl?: string;
  readonly owner?: string;
  readonly now?: () => number;
}

/** What one check round did. */
export interface CheckRound {
  /** Whether this process held the lease (and so checked). */
  readonly active: boolean;
  readonly raised: readonly AlertRecord[];
  readonly resolved: readonly AlertRecord[];
  readonly notices: readonly NoticeOutcome[];
  /** Checks that could not run this round; their incidents stay as they were. */
  readonly failedChecks: readonly string[];
}

export interface Monitor {
  readonly owner: string;
  /** One round: take or keep the lease; if held, check, open and resolve incidents, send what is due. */
  checkOnce(): Promise<CheckRound>;
  /** Runs a round now and then every `checkIntervalMs`. */
  start(): void;
  /** Stops the rounds, waits for the one running, and gives the lease up for another process. */
  stop(): Promise<void>;
}

const idle: CheckRound = { active: false, raised: [], resolved: [], notices: [], failedChecks: [] };

export function createMonitor(options: MonitorOptions): Monitor {
  const { store, settings, logger, dashboardUrl } = options;
  const now = options.now ?? Date.now;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const channels = options.channels ?? channelsFrom(settings);
  const checks: readonly Check[] = [lateDelivery, breakerWatch(), deadMessages, everyProviderFailing];
  let active = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let started = false;
  let stopped = false;

  async function holdLease(): Promise<boolean> {
    const held = await store.tryAcquireLease(MONITOR_LEASE, owner, settings.leaseMs);
    if (held !== active) {
      if (held) logger.info({ owner }, 'alert monitor active in this process');
      else logger.warn({ owner }, 'alert monitor lease lost to another process');
    }
    active = held;
    return held;
  }

  async function reconcile(checked: { check: Check; result: CheckResult }[], firing: readonly AlertRecord[], checkedAt: number) {
    const raised: AlertRecord[] = [];
    const resolved: AlertRecord[] = [];
    for (const { check, result } of checked) {
      const mine = firing.filter((alert) => alert.kind === check.kind);
      for (const condition of result.conditions) {
        if (condition.sustainOnly && !mine.some((alert) => alert.subject === condition.subject)) continue;
        const { sustainOnly: _, ...input } = condition;
        const { alert, opened } = await store.raiseAlert(input);
        if (!opened) continue;
        raised.push(alert);
        logger.warn({ alertId: alert.id, kind: alert.kind, subject: alert.subject, summary: alert.summary, checkedAt }, 'alert raised');
      }
      for (const { subject, reason } of result.resolved) {
        const alert = mine.find((candidate) => candidate.subject === subject);
        if (!alert) continue;
        // The resolve notice tells why; the last firing summary stays in the detail.
        const closed = await store.resolveAlert(alert.id, {
          summary: reason,
          detail: { ...alert.detail, firingSummary: alert.summary, resolvedBecause: reason },
        });
        if (!closed) continue;
        resolved.push(closed);
        logger.info({ alertId: alert.id, kind: alert.kind, subject: alert.subject, reason }, 'alert resolved');
      }
    }
    return { raised, resolved };
  }

  async function round(): Promise<CheckRound> {
    if (!(await holdLease())) return idle;
    const at = now();
    const firing = await store.firingAlerts();
    const context = { store, now: at, settings, providerNames: options.providerNames(), staleAfterMs: options.staleAfterMs };
    const results = await Promise.allSettled(
      checks.map((check) => check.run({ ...context, firing: firing.filter((alert) => alert.kind === check.kind) })),
    );
    const checked: { check: Check; result: CheckResult }[] = [];
    const failedChecks: string[] = [];
    results.forEach((result, index) => {
      const check = checks[index];
      if (!check) return;
      if (result.status === 'fulfilled') checked.push({ check, result: result.value });
      else {
        failedChecks.push(check.kind);
        logger.error({ err: result.reason, check: check.kind }, 'alert check failed; its incidents stay as they were');
      }
    });
    const { raised, resolved } = await reconcile(checked, firing, at);
    const notices = await sendDueNotices({
      store,
      channels,
      now: now(),
      reminderIntervalMs: settings.reminderIntervalMs,
      // A process that stalled past its lease must not notify beside the one that took over.
      stillActive: () => store.renewLease(MONITOR_LEASE, owner, settings.leaseMs),
      ...(dashboardUrl === undefined ? {} : { link: (alert: AlertRecord) => consoleLink(dashboardUrl, alert, settings.deadWindowMs) }),
    });
    for (const notice of notices) {
      if (notice.ok) logger.info({ ...notice }, 'alert notice sent');
      else logger.warn({ ...notice }, 'alert notice failed; it is sent again at the next check');
    }
    return { active: true, raised, resolved, notices, failedChecks };
  }

  function checkOnce(): Promise<CheckRound> {
    const next = running.then(round, round);
    running = next.catch(() => {});
    return next;
  }

  /** Rounds start every interval (a slow round does not push the next one back by its own length). */
  function schedule(previousStart: number): void {
    if (stopped) return;
    const delay = Math.max(0, previousStart + settings.checkIntervalMs - Date.now());
    timer = setTimeout(async () => {
      const start = Date.now();
      try {
        await checkOnce();
      } catch (error) {
        logger.error({ err: error }, 'alert monitor round failed; trying again at the next check');
      }
      schedule(start);
    }, delay);
  }

  return {
    owner,
    checkOnce,
    start() {
      if (stopped || started) return;
      started = true;
      const start = Date.now();
      checkOnce()
        .catch((error) => logger.error({ err: error }, 'alert monitor round failed; trying again at the next check'))
        .finally(() => schedule(start));
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      if (active) {
        active = false;
        await store.releaseLease(MONITOR_LEASE, owner).catch(() => {});
      }
    },
  };
}
