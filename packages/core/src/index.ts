export { type WriteFailure, writeSplitting } from './batching.js';
export { createDispatcher, type Dispatcher, type DispatcherOptions, type DispatcherStats } from './dispatcher/dispatcher.js';
export type { ClaimedMessage, DispatchOutcome, DispatchQueue } from './dispatcher/queue.js';
export {
  type ErrorCategory,
  type ErrorCode,
  errorCodes,
  type FieldIssue,
  isMailError,
  type MailError,
  type MailErrorInit,
  mailError,
  type ProviderDetail,
} from './errors.js';
export {
  type BounceClass,
  type DeliveryEvent,
  type DeliveryEventType,
  deliveryEventTypes,
  statusAfterEvent,
  suppressionReasonOf,
} from './events/event.js';
export { type Address, addressSchema, formatAddress } from './model/address.js';
export {
  type Attachment,
  MESSAGE_ID_HEADER,
  MESSAGE_ID_TAG,
  type Message,
  type MessageContent,
  type MessageInput,
  messageInputSchema,
  messageLimits,
  type ParseResult,
  parseMessage,
  recipientsOf,
} from './model/message.js';
export {
  cancellableStatuses,
  claimableStatuses,
  type MessageStatus,
  messageStatuses,
  requeueableStatuses,
  unsentStatuses,
} from './model/status.js';
export {
  type Accepted,
  accepted,
  type Provider,
  type Rejected,
  rejected,
  type SendContext,
  type SendOutcome,
  type VerifyOutcome,
} from './provider.js';
export { REDACTED, redact, redactString } from './redact.js';
export { backoffDelay, decideRetry, defaultRetryPolicy, type RetryDecision, type RetryInput, type RetryPolicy } from './retry.js';
export {
  type BreakerOptions,
  type BreakerOverrides,
  type BreakerState,
  defaultBreakerOptions,
  mergeBreakerOptions,
} from './router/breaker.js';
export type { AttemptRecord, RequestSummary, RouterEventName, RouterEvents, RouterListener, SkipRecord } from './router/events.js';
export { type RoutingStrategy, routeOrder } from './router/order.js';
export {
  type AmbiguousPolicy,
  createRouter,
  type ProviderHealth,
  type RoutedProvider,
  type RouteResult,
  type Router,
  type RouterOptions,
  type SendOptions,
} from './router/router.js';
export {
  parseSearchQuery,
  SEARCH_MAX_TERMS,
  SEARCH_QUERY_MAX_LENGTH,
  type SearchParse,
  type SearchPrefix,
  type SearchQuery,
  type SearchTerm,
  searchPrefixes,
} from './search/query.js';
