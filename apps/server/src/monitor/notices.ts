import { unsentStatuses } from '@mailroute/core';
import { type AlertKind, type AlertNoticeKind, type AlertRecord, alertTitles } from '@mailroute/store';

export { alertTitles };

/** One notice about one incident, as every channel renders it. */
export interface Notice {
  readonly kind: AlertNoticeKind;
  readonly alert: AlertRecord;
  /** When the notice is sent (epoch ms). */
  readonly at: number;
  /** The console view for this incident, when `dashboard.publicUrl` is set. */
  readonly link?: string;
}

/**
 * The console view that shows an incident (`dashboard.publicUrl` is the console's address):
 * a breaker on the overview with that provider picked, late mail in the message search,
 * dead mail in recovery, and the whole service on the overview.
 */
export function consoleLink(publicUrl: string, alert: AlertRecord, deadWindowMs: number): string {
  const base = publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`;
  const view = (path: string, params: Record<string, string>) => {
    const url = new URL(path, base);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.toString();
  };
  switch (alert.kind) {
    case 'breaker_open':
      return view('./', { range: '1h', provider: alert.subject });
    case 'late_delivery':
      return view('messages', { q: `status:${unsentStatuses.join(',')}` });
    case 'dead_messages':
      return view('recovery', { status: 'dead', from: new Date(alert.startedAt - deadWindowMs).toISOString() });
    case 'all_providers_failing':
      return view('./', { range: '1h' });
  }
}

/** The runbook section of an incident kind: its path in the repository, and its address when the docs are published. */
export function runbookOf(kind: AlertKind, docsUrl: string | undefined): { readonly path: string; readonly url?: string } {
  const { runbook } = alertTitles[kind];
  return docsUrl === undefined ? { path: runbook } : { path: runbook, url: new URL(runbook, docsUrl).toString() };
}

/** `45 s`, `12 min`, `2 h 5 min`: what an operator reads at a glance. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1_000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48) return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** The headline of a notice: what state, what incident, for how long. */
export function headline(notice: Notice): string {
  const { alert } = notice;
  const { title } = alertTitles[alert.kind];
  const about = alert.subject === '*' ? title : `${title}: ${alert.subject}`;
  switch (notice.kind) {
    case 'firing':
      return `FIRING ${about}`;
    case 'reminder':
      return `STILL FIRING ${about} (for ${formatDuration(notice.at - alert.startedAt)})`;
    case 'resolved':
      return `RESOLVED ${about} (after ${formatDuration((alert.resolvedAt ?? notice.at) - alert.startedAt)})`;
  }
}
