export { createKeyCache, type KeyCache } from './auth.js';
export {
  type ApiContext,
  type ApiDependencies,
  apiResponseMeta,
  type Caller,
  createContextFactory,
  DEFAULT_SESSION_TTL_MS,
  identifyCaller,
  type MessageQuota,
  type RequestInfo,
} from './context.js';
export { type ApiErrorCode, type ApiErrorData, apiErrorCodes, retryAfterOf } from './errors.js';
export { type AppRouter, appRouter } from './router.js';
export type { LiveAlert, LiveBreaker, LiveOverview, LiveProvider } from './routers/live.js';
export type { BatchResult, TimelineEntry } from './routers/mail.js';
export type { ProviderView, RecentActivity } from './routers/providers.js';
export type { Whoami } from './routers/session.js';
export type { ProviderSeries, SeriesRange, SeriesView } from './routers/stats.js';
export { CSRF_HEADER, SESSION_COOKIE, sessionTokenOf } from './session-cookie.js';
export { OPERATOR_SCOPE } from './trpc.js';
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
