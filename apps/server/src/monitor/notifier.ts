import type { AlertNoticeKind, AlertNotificationRecord, AlertRecord, MailStore } from '@mailroute/store';
import type { AlertChannel } from './channels/index.js';

/** A resolve notice that could not be delivered for this long is given up (the history keeps the incident). */
export const RESOLVE_NOTICE_HORIZON_MS = 24 * 60 * 60_000;

export interface NoticeOutcome {
  readonly alertId: string;
  readonly kind: AlertNoticeKind;
  readonly channel: string;
  readonly ok: boolean;
  readonly error?: string;
}

export interface NotifyOptions {
  readonly store: MailStore;
  readonly channels: readonly AlertChannel[];
  readonly now: number;
  /** 0: no reminders. */
  readonly reminderIntervalMs: number;
  /** Asked right before anything is sent: false when this process no longer holds the monitor's lease. */
  readonly stillActive: () => Promise<boolean>;
  /** The console view of an incident, when the console's address is configured. */
  readonly link?: (alert: AlertRecord) => string;
}

/**
 * What one channel is owed about one incident, from the notices it took: the first notice
 * once; a reminder when its latest notice is older than the interval; the resolve notice once,
 * and only if it was told the incident started.
 */
export function dueNotice(
  alert: AlertRecord,
  taken: readonly AlertNotificationRecord[],
  now: number,
  reminderIntervalMs: number,
): AlertNoticeKind | undefined {
  const told = taken.some((notice) => notice.kind === 'firing');
  if (alert.state === 'resolved') return told && !taken.some((notice) => notice.kind === 'resolved') ? 'resolved' : undefined;
  if (!told) return 'firing';
  const latest = Math.max(...taken.map((notice) => notice.sentAt));
  return reminderIntervalMs > 0 && now - latest >= reminderIntervalMs ? 'reminder' : undefined;
}

/**
 * Sends every notice that is due, each channel on its own: one channel failing does not hold
 * back another, and what failed is recorded and owed again at the next check.
 */
export async function sendDueNotices(options: NotifyOptions): Promise<NoticeOutcome[]> {
  const { store, channels, now } = options;
  if (channels.length === 0) return [];
  const alerts = await store.alertsAwaitingNotice(now - RESOLVE_NOTICE_HORIZON_MS);
  if (alerts.length === 0) return [];
  const taken = await store.deliveredNotifications(alerts.map((alert) => alert.id));
  const due = alerts.flatMap((alert) =>
    channels.flatMap((channel) => {
      const mine = taken.filter((notice) => notice.alertId === alert.id && notice.channel === channel.name);
      const kind = dueNotice(alert, mine, now, options.reminderIntervalMs);
      return kind ? [{ alert, channel, kind }] : [];
    }),
  );
  if (due.length === 0 || !(await options.stillActive())) return [];
  return Promise.all(
    due.map(async ({ alert, channel, kind }): Promise<NoticeOutcome> => {
      let error: string | undefined;
      try {
        await channel.send({ kind, alert, at: now, ...(options.link ? { link: options.link(alert) } : {}) });
      } catch (failure) {
        error = failure instanceof Error ? failure.message : String(failure);
      }
      const ok = error === undefined;
      await store.recordAlertNotification({
        alertId: alert.id,
        kind,
        channel: channel.name,
        ok,
        ...(error === undefined ? {} : { error }),
      });
      return { alertId: alert.id, kind, channel: channel.name, ok, ...(error === undefined ? {} : { error }) };
    }),
  );
}
