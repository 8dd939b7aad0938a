export { handleSendgridWebhook, type SendgridWebhookRequest } from './sendgrid.js';
export { fetchSubscribeUrl, handleSesWebhook, isSnsSubscribeUrl } from './ses.js';
export type {
  SubscriptionConfirmer,
  WebhookDependencies,
  WebhookLogger,
  WebhookRefusal,
  WebhookRequest,
  WebhookResponse,
  WebhookSettings,
} from './types.js';
