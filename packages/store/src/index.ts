export {
  type AlertApi,
  type AlertCondition,
  type AlertKind,
  type AlertListRequest,
  type AlertNoticeKind,
  type AlertNotificationRecord,
  type AlertRecord,
  type AlertState,
  type AlertWithNotifications,
  alertKinds,
  alertNoticeKinds,
  alertStates,
  alertTitles,
  NOTIFICATIONS_PER_ALERT,
  SERVICE_SUBJECT,
} from './alerts.js';
export type { AlertInputApi, DeadMessageReport } from './alerts-inputs.js';
export { type ApiKeyApi, type ApiKeyRecord, type ApiKeyScope, apiKeyScopes, type CreatedApiKey, hashApiKey } from './api-keys.js';
export { DEFAULT_TENANT } from './context.js';
export { DEFAULT_DATABASE_URL, type Dialect, dialectOf } from './dialect.js';
export type { EnqueueOptions, EnqueueResult, GroupCommitStats } from './enqueue.js';
export { isStoreError, StoreError, type StoreErrorCode } from './errors.js';
export type { EventCountApi } from './event-counts.js';
export type { EventApi, EventEffect, IngestReport } from './events.js';
export { MAX_EVENTS_PER_INGEST, MAX_PAYLOAD_BYTES } from './events-input.js';
export { EXPORT_PAGE_DEFAULT, EXPORT_PAGE_MAX, type ExportPage, type ExportRow } from './export.js';
export {
  type MessageFilter,
  messageFilterSchema,
  type PageRequest,
  type ProviderState,
  providerStates,
} from './filters.js';
export type { BreakerEvent, HeartbeatApi, HeartbeatInput, ProcessBreaker, ProcessHeartbeat } from './heartbeats.js';
export type { LeaseApi } from './leases.js';
export { createMigration, type MigrateResult, migrateDatabase, pendingSchemaChange, type SchemaChangeOptions } from './migrate.js';
export type {
  MessagePage,
  ProviderStateRecord,
  RequeueOptions,
  RequeueResult,
  RequeueTarget,
  TenantScope,
} from './operator.js';
export {
  type AttemptTally,
  type DeliveryLag,
  LATENCY_SAMPLE_LIMIT,
  type ProviderActivity,
  type ProviderCounts,
  type ProviderFailure,
  type ProviderHealthRecord,
  type ProviderHealthRequest,
  type WindowTally,
} from './provider-activity.js';
export type { ProviderActor, ProviderAuditApi, ProviderAuditRecord, ProviderAuditRequest } from './provider-audit.js';
export { checkDatabase, type DatabaseReadiness } from './readiness.js';
export {
  type KeptBackMessage,
  type KeptBackReason,
  keptBackReasons,
  RETRY_REPORT_LIMIT,
  type RetryReport,
  type RetryRequest,
} from './retry.js';
export type {
  AttemptInput,
  AttemptView,
  EventView,
  MessageDetail,
  MessageSummary,
  SuppressedRecipientView,
  TransitionView,
} from './rows.js';
export type { MessageSearchApi, SearchRequest } from './search.js';
export type { SenderApi } from './senders.js';
export type { AttemptBucket, SeriesApi, SeriesRequest } from './series.js';
export type { CreatedSession, SessionApi } from './sessions.js';
export { createStore, type MailStore, type StoreOptions, type StoreStats } from './store.js';
export type { SuppressionApi, SuppressionRecord } from './suppressions.js';
