export { type ApiContext, type ApiDependencies, type Caller, createContextFactory, type RequestInfo } from './context.js';
export { type ApiErrorCode, type ApiErrorData, apiErrorCodes } from './errors.js';
export { type AppRouter, appRouter } from './router.js';
export type { BatchResult, TimelineEntry } from './routers/mail.js';
export type { ProviderView, RecentActivity } from './routers/providers.js';
export {
  fetchSubscribeUrl,
  handleSendgridWebhook,
  handleSesWebhook,
  isSnsSubscribeUrl,
  type SendgridWebhookRequest,
  type SubscriptionConfirmer,
  type WebhookDependencies,
  type WebhookLogger,
  type WebhookRefusal,
  type WebhookRequest,
  type WebhookResponse,
  type WebhookSettings,
} from './webhooks/index.js';
