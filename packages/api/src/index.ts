export { createKeyCache, type KeyCache } from './auth.js';
export {
  type ApiContext,
  type ApiDependencies,
  type Caller,
  createContextFactory,
  identifyCaller,
  type MessageQuota,
  type RequestInfo,
} from './context.js';
export { type ApiErrorCode, type ApiErrorData, apiErrorCodes, retryAfterOf } from './errors.js';
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
