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
export function channelsFrom(channels: MailrouteConfig['alerts']['channels']): AlertChannel[] {
  return [...(channels.slack ? [slackChannel(channels.slack)] : []), ...(channels.webhook ? [webhookChannel(channels.webhook)] : [])];
}
