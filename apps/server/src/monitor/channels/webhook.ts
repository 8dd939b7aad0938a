import type { AlertNoticeKind } from '@mailroute/store';
import { type Notice, runbookOf } from '../notices.js';
import { type PostOptions, postJson } from './http.js';

/** What the generic JSON webhook receives: the incident as stored, times in ISO 8601. */
export interface WebhookPayload {
  readonly id: string;
  readonly kind: string;
  readonly subject: string;
  readonly state: 'firing' | 'resolved';
  /** Which notice this is: the first, a reminder, or the resolve notice. */
  readonly notice: AlertNoticeKind;
  readonly summary: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly startedAt: string;
  readonly resolvedAt: string | null;
  readonly sentAt: string;
  /** The runbook section in the repository (`docs/runbook.md#late-delivery`). */
  readonly runbook: string;
  /** Its address under `alerts.docsUrl`; null when that is not set. */
  readonly runbookUrl: string | null;
  /** The console view for this incident; present when `dashboard.publicUrl` is set. */
  readonly consoleUrl?: string;
}

export function webhookPayload(notice: Notice, docsUrl?: string): WebhookPayload {
  const { alert } = notice;
  const runbook = runbookOf(alert.kind, docsUrl);
  return {
    id: alert.id,
    kind: alert.kind,
    subject: alert.subject,
    state: notice.kind === 'resolved' ? 'resolved' : 'firing',
    notice: notice.kind,
    summary: alert.summary,
    detail: alert.detail,
    startedAt: new Date(alert.startedAt).toISOString(),
    resolvedAt: alert.resolvedAt === undefined ? null : new Date(alert.resolvedAt).toISOString(),
    sentAt: new Date(notice.at).toISOString(),
    runbook: runbook.path,
    runbookUrl: runbook.url ?? null,
    ...(notice.link === undefined ? {} : { consoleUrl: notice.link }),
  };
}

export function webhookChannel(settings: { readonly url: string; readonly docsUrl?: string | undefined } & PostOptions) {
  return { name: 'webhook', send: (notice: Notice) => postJson(settings.url, webhookPayload(notice, settings.docsUrl), settings) };
}
