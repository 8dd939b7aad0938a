import type { AlertNoticeKind } from '@mailroute/store';
import type { Notice } from '../notices.js';
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
  /** The console view for this incident; present when `dashboard.publicUrl` is set. */
  readonly consoleUrl?: string;
}

export function webhookPayload(notice: Notice): WebhookPayload {
  const { alert } = notice;
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
    ...(notice.link === undefined ? {} : { consoleUrl: notice.link }),
  };
}

export function webhookChannel(settings: { readonly url: string } & PostOptions) {
  return { name: 'webhook', send: (notice: Notice) => postJson(settings.url, webhookPayload(notice), settings) };
}
