import type { MailrouteConfig } from '../../config/schema.js';
import type { Notice } from '../notices.js';
import { slackChannel } from './slack.js';
import { webhookChannel } from './webhook.js';

/** Somewhere notices go; `send` resolves once the channel took the notice and throws otherwise. */
export interface AlertChannel {
  readonly name: string;
  send(notice: Notice): Promise<void>;
}

/** The channels the configuration names (none: incidents are only recorded). */
export function channelsFrom(alerts: Pick<MailrouteConfig['alerts'], 'channels' | 'docsUrl'>): AlertChannel[] {
  const { channels, docsUrl } = alerts;
  return [
    ...(channels.slack ? [slackChannel({ ...channels.slack, docsUrl })] : []),
    ...(channels.webhook ? [webhookChannel({ ...channels.webhook, docsUrl })] : []),
  ];
}
