import { randomUUID } from 'node:crypto';
import type { DispatchQueue, MessageContent, MessageStatus } from '@mailroute/core';
import { type AlertApi, createAlertApi } from './alerts.js';
import { type AlertInputApi, createAlertInputApi } from './alerts-inputs.js';
import { type ApiKeyApi, createApiKeyApi } from './api-keys.js';
import { openDatabase } from './database.js';
import { DEFAULT_DATABASE_URL, type Dialect, dialectOf } from './dialect.js';
import { createDispatchQueue } from './dispatch.js';
import { createEnqueuer, type EnqueueOptions, type EnqueueResult, type GroupCommitStats } from './enqueue.js';
import { createEventCountApi, type EventCountApi } from './event-counts.js';
import { createEventApi, type EventApi } from './events.js';
import { createExportApi, type ExportApi } from './export.js';
import type { MessageFilter, PageRequest, ProviderState } from './filters.js';
import { createHeartbeatApi, type HeartbeatApi } from './heartbeats.js';
import { createLeaseApi, type LeaseApi } from './leases.js';
import { migrateDatabase } from './migrate.js';
import { createLocalSignal, createPgSignal } from './notify.js';
import {
  createOperatorApi,
  type MessagePage,
  type ProviderStateRecord,
  type RequeueOptions,
  type RequeueResult,
  type RequeueTarget,
  type TenantScope,
} from './operator.js';
import {
  createProviderActivityApi,
  type ProviderActivity,
  type ProviderCounts,
  type ProviderHealthRecord,
  type ProviderHealthRequest,
} from './provider-activity.js';
import { createProviderAuditApi, type ProviderActor, type ProviderAuditApi } from './provider-audit.js';
import { createRetryApi, type RetryReport, type RetryRequest } from './retry.js';
import type { MessageDetail } from './rows.js';
import { createMessageSearchApi, type MessageSearchApi } from './search.js';
import { createSenderApi, type SenderApi } from './senders.js';
import { createSeriesApi, type SeriesApi } from './series.js';
import { createSessionApi, type SessionApi } from './sessions.js';
import { createSuppressionApi, type SuppressionApi } from './suppressions.js';

export interface StoreOptions {
  /** `file:./data/mailroute.db` (SQLite, the default) or `postgresql://...`. */
  readonly url?: string;
  /** Apply pending migrations at start-up. Default: on for SQLite, off for PostgreSQL (run `migrate` once per deploy). */
  readonly autoMigrate?: boolean;
  /** Clock (epoch ms) for every time the store writes; tests move it. */
  readonly now?: () => number;
  /** SQLite: how long to wait for another process's write lock. */
  readonly busyTimeoutMs?: number;
  /** PostgreSQL: connections in the pool (the LISTEN connection is extra). */
  readonly poolSize?: number;
  /** PostgreSQL: LISTEN for other processes' enqueues (workers need it). Default on. */
  readonly listen?: boolean;
  /** PostgreSQL NOTIFY channel shared by every process on the database. */
  readonly notifyChannel?: string;
  /** Most messages in one group commit. */
  readonly maxGroupSize?: number;
  /** Hears errors of the background LISTEN connection (it reconnects by itself). */
  readonly onError?: (error: unknown) => void;
}

export interface StoreStats {
  readonly groupCommit: GroupCommitStats;
  /** Prisma's client has connected: its query compiler is loaded (the queue's own paths never need it). */
  readonly prismaConnected: boolean;
}

/** Durable storage of mail: the dispatcher's queue plus what the api and operators need. */
export interface MailStore
  extends DispatchQueue,
    SuppressionApi,
    ApiKeyApi,
    SenderApi,
    HeartbeatApi,
    EventCountApi,
    EventApi,
    LeaseApi,
    AlertApi,
    AlertInputApi,
    SessionApi,
    ProviderAuditApi,
    MessageSearchApi,
    SeriesApi {
  readonly dialect: Dialect;
  /** Stores one message (group commit); resolves after the commit is durable. */
  enqueue(content: MessageContent, options?: EnqueueOptions): Promise<EnqueueResult>;
  /** Stores many messages in one transaction (shared with concurrent calls by group commit): all or none. */
  enqueueMany(contents: readonly MessageContent[], options?: EnqueueOptions): Promise<EnqueueResult[]>;
  getMessage(id: string, scope?: TenantScope): Promise<MessageDetail | undefined>;
  /** Which of these message ids belong to the tenant (one query). */
  ownedMessageIds(ids: readonly string[], tenantId: string): Promise<Set<string>>;
  listMessages(filter?: MessageFilter, page?: PageRequest): Promise<MessagePage>;
  /** What `listMessages` matches, as rows for customer support, a page at a time (bounded memory at any size). */
  exportMessages: ExportApi['exportMessages'];
  /** What a search query matches, as export rows, a page at a time (up to EXPORT_PAGE_MAX rows). */
  exportSearch: ExportApi['exportSearch'];
  requeue(target: RequeueTarget, options?: RequeueOptions): Promise<RequeueResult>;
  cancel(id: string, options?: TenantScope & { readonly reason?: string }): Promise<{ id: string; previous: MessageStatus }>;
  /** Messages per status; with `only`, just those statuses are counted (the rest read 0). */
  countByStatus(scope?: TenantScope, only?: readonly MessageStatus[]): Promise<Record<MessageStatus, number>>;
  oldestUnsentAt(scope?: TenantScope): Promise<number | undefined>;
  /** Stored with an audit entry; `actor` is the API key that asked (absent from the command line). */
  setProviderState(provider: string, state: ProviderState, note?: string, actor?: ProviderActor): Promise<ProviderStateRecord>;
  listProviderStates(): Promise<ProviderStateRecord[]>;
  /** Bulk retry for operators: requeue, keeping back what must not go out again (suppressed since, a provider has it); one transaction. */
  retryMessages(request: RetryRequest): Promise<RetryReport>;
  /** The attempt log per provider since a time (epoch ms): counts, latency, last provider fault. */
  providerActivity(since: number): Promise<ProviderActivity[]>;
  /** Attempt counts only per provider since a time (only `providers` when given): one query. */
  providerCounts(since: number, providers?: readonly string[]): Promise<ProviderCounts[]>;
  /** Per provider over each window (ending now): counts, error categories, latency percentiles; last success, last provider fault, delivery lag. */
  providerHealth(request: ProviderHealthRequest): Promise<ProviderHealthRecord[]>;
  stats(): StoreStats;
  /** Waits for the group being committed, then closes every connection. */
  close(): Promise<void>;
}

export async function createStore(options: StoreOptions = {}): Promise<MailStore> {
  const url = options.url ?? DEFAULT_DATABASE_URL;
  const dialect = dialectOf(url);
  if (options.autoMigrate ?? dialect === 'sqlite') await migrateDatabase({ url });
  const database = await openDatabase({
    url,
    ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
  });
  const instanceId = randomUUID();
  const notifyChannel = options.notifyChannel ?? 'mailroute_enqueued';
  let signal = createLocalSignal();
  try {
    if (dialect === 'postgres' && (options.listen ?? true)) {
      signal = await createPgSignal({ url, channel: notifyChannel, instanceId, ...(options.onError ? { onError: options.onError } : {}) });
    }
  } catch (error) {
    await database.close();
    throw error;
  }
  const ctx = { dialect, db: database.db, raw: database.raw, now: options.now ?? Date.now, signal, notifyChannel, instanceId };
  const enqueuer = createEnqueuer(ctx, options.maxGroupSize);
  const queue = createDispatchQueue(ctx);
  const operator = createOperatorApi(ctx);
  const suppressions = createSuppressionApi(ctx);
  const apiKeys = createApiKeyApi(ctx);
  const senders = createSenderApi(ctx);
  const retry = createRetryApi(ctx);
  const exporter = createExportApi(ctx);
  const activity = createProviderActivityApi(ctx);
  const events = createEventApi(ctx);
  const heartbeats = createHeartbeatApi(ctx);
  const eventCounts = createEventCountApi(ctx);
  const leases = createLeaseApi(ctx);
  const alerts = createAlertApi(ctx);
  const alertInputs = createAlertInputApi(ctx);
  const sessions = createSessionApi(ctx);
  const audit = createProviderAuditApi(ctx);
  const search = createMessageSearchApi(ctx);
  const series = createSeriesApi(ctx);
  let closing: Promise<void> | undefined;

  return {
    dialect,
    ...queue,
    ...operator,
    ...suppressions,
    ...apiKeys,
    ...senders,
    ...retry,
    ...exporter,
    ...activity,
    ...events,
    ...heartbeats,
    ...eventCounts,
    ...leases,
    ...alerts,
    ...alertInputs,
    ...sessions,
    ...audit,
    ...search,
    ...series,
    enqueue: enqueuer.enqueue,
    enqueueMany: enqueuer.enqueueMany,
    stats: () => ({ groupCommit: enqueuer.stats(), prismaConnected: database.clientConnected() }),
    close() {
      closing ??= (async () => {
        await enqueuer.close();
        await signal.close();
        await database.close();
      })();
      return closing;
    },
  };
}
