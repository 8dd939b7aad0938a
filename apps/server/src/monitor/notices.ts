import type { AlertKind, AlertNoticeKind, AlertRecord } from '@mailroute/store';

/** One notice about one incident, as every channel renders it. */
export interface Notice {
  readonly kind: AlertNoticeKind;
  readonly alert: AlertRecord;
  /** When the notice is sent (epoch ms). */
  readonly at: number;
}

/** Every kind's name for a person and its section in docs/runbook.md. */
export const alertTitles: Record<AlertKind, { readonly title: string; readonly runbook: string }> = {
  late_delivery: { title: 'Late delivery', runbook: 'docs/runbook.md#late-delivery' },
  breaker_open: { title: 'Breaker open', runbook: 'docs/runbook.md#breaker-open' },
  dead_messages: { title: 'Messages went dead', runbook: 'docs/runbook.md#messages-went-dead' },
  all_providers_failing: { title: 'Every provider failing', runbook: 'docs/runbook.md#every-provider-failing' },
};

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
