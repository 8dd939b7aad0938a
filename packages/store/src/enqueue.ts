import type { MessageContent, MessageStatus } from '@mailroute/core';
import { DEFAULT_TENANT, type StoreContext } from './context.js';
import { StoreError } from './errors.js';
import { uuidv7 } from './ids.js';
import {
  MESSAGE_INSERT_COLUMNS,
  messageValues,
  RECIPIENT_INSERT_COLUMNS,
  recipientValues,
  TAG_INSERT_COLUMNS,
  TRANSITION_INSERT_COLUMNS,
  tagValues,
} from './rows.js';
import { insertRows, type SqlRunner } from './sql.js';

export interface EnqueueOptions {
  readonly tenantId?: string;
}

export interface EnqueueResult {
  readonly id: string;
  /** `queued`, `scheduled` (sendAt in the future), or for a duplicate the existing message's status. */
  readonly status: MessageStatus;
  /** The (tenant, idempotency key) was seen before: nothing new was stored. */
  readonly duplicate: boolean;
}

export interface GroupCommitStats {
  /** Enqueue transactions committed (group commits and enqueueMany calls). */
  readonly transactions: number;
  /** Messages acknowledged by them, duplicates included. */
  readonly messages: number;
}

interface Entry {
  readonly content: MessageContent;
  readonly tenantId: string;
}

interface Pending extends Entry {
  readonly resolve: (result: EnqueueResult) => void;
  readonly reject: (error: unknown) => void;
}

const UNIQUE_RETRIES = 3;

/**
 * Durable enqueue with group commit: single `enqueue` calls made in the same event-loop
 * turn, and those that arrive while the previous commit is on disk, share one transaction.
 * Each call resolves only after that commit. With synchronous commits on SQLite this is what
 * turns one fsync per message into one fsync per group.
 */
export function createEnqueuer(ctx: StoreContext, maxGroupSize = 500) {
  const pending: Pending[] = [];
  let flushing: Promise<void> | undefined;
  let closed = false;
  let transactions = 0;
  let messages = 0;

  function enqueue(content: MessageContent, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    if (closed) return Promise.reject(new StoreError('CLOSED', 'the store is closed'));
    return new Promise((resolve, reject) => {
      pending.push({ content, tenantId: options.tenantId ?? DEFAULT_TENANT, resolve, reject });
      schedule();
    });
  }

  function schedule(): void {
    if (flushing) return;
    flushing = (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      while (pending.length > 0) await commitGroup(pending.splice(0, maxGroupSize));
    })().finally(() => {
      flushing = undefined;
      if (pending.length > 0) schedule();
    });
  }

  /** A row that cannot be stored fails alone: the group is retried one message at a time. */
  async function commitGroup(group: readonly Pending[]): Promise<void> {
    try {
      const results = await insertCommitted(group);
      group.forEach((entry, index) => {
        const result = results[index];
        if (result) entry.resolve(result);
        else entry.reject(new Error('enqueue produced no result'));
      });
    } catch (error) {
      if (group.length > 1) {
        for (const entry of group) await commitGroup([entry]);
        return;
      }
      const [entry] = group;
      if (!entry) return;
      const existing = isUniqueViolation(error) ? await findByKey(entry) : undefined;
      if (existing) entry.resolve(existing);
      else entry.reject(error);
    }
  }

  async function insertCommitted(entries: readonly Entry[]): Promise<EnqueueResult[]> {
    const results = await ctx.raw.transaction((sql) => insertMessages(sql, entries));
    transactions += 1;
    messages += entries.length;
    if (results.some((result) => !result.duplicate)) ctx.signal.emit();
    return results;
  }

  /** All or nothing, in one transaction; a concurrent duplicate key makes it retry and find the winner. */
  async function enqueueMany(contents: readonly MessageContent[], options: EnqueueOptions = {}): Promise<EnqueueResult[]> {
    if (closed) throw new StoreError('CLOSED', 'the store is closed');
    if (contents.length === 0) return [];
    const tenantId = options.tenantId ?? DEFAULT_TENANT;
    const entries = contents.map((content) => ({ content, tenantId }));
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await insertCommitted(entries);
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= UNIQUE_RETRIES) throw error;
      }
    }
  }

  async function findByKey(entry: Entry): Promise<EnqueueResult | undefined> {
    const key = entry.content.idempotencyKey;
    if (key === undefined) return undefined;
    const row = await ctx.db.message.findUnique({
      where: { tenantId_idempotencyKey: { tenantId: entry.tenantId, idempotencyKey: key } },
      select: { id: true, status: true },
    });
    return row ? { id: row.id, status: row.status as MessageStatus, duplicate: true } : undefined;
  }

  async function insertMessages(sql: SqlRunner, entries: readonly Entry[]): Promise<EnqueueResult[]> {
    const nowMs = ctx.now();
    const now = new Date(nowMs);
    const seen = await existingKeys(sql, entries);
    const results: EnqueueResult[] = [];
    const messageRows: unknown[][] = [];
    const recipients: unknown[][] = [];
    const tags: unknown[][] = [];
    const transitions: unknown[][] = [];
    for (const { content, tenantId } of entries) {
      const key = content.idempotencyKey === undefined ? undefined : keyOf(tenantId, content.idempotencyKey);
      const earlier = key === undefined ? undefined : seen.get(key);
      if (earlier) {
        results.push({ ...earlier, duplicate: true });
        continue;
      }
      const id = uuidv7(nowMs);
      const scheduled = content.sendAt !== undefined && content.sendAt.getTime() > nowMs;
      const status: MessageStatus = scheduled ? 'scheduled' : 'queued';
      const nextAttemptAt = scheduled && content.sendAt ? content.sendAt : now;
      messageRows.push(messageValues(content, { id, tenantId, status, now, nextAttemptAt }));
      recipients.push(...recipientValues(id, content));
      tags.push(...tagValues(id, content));
      const reason = scheduled ? `accepted for ${nextAttemptAt.toISOString()}` : 'accepted';
      transitions.push([id, null, status, now, reason]);
      if (key !== undefined) seen.set(key, { id, status });
      results.push({ id, status, duplicate: false });
    }
    if (messageRows.length > 0) {
      await insertRows(sql, ctx.raw, 'message', MESSAGE_INSERT_COLUMNS, messageRows);
      await insertRows(sql, ctx.raw, 'message_recipient', RECIPIENT_INSERT_COLUMNS, recipients);
      await insertRows(sql, ctx.raw, 'message_tag', TAG_INSERT_COLUMNS, tags);
      await insertRows(sql, ctx.raw, 'message_transition', TRANSITION_INSERT_COLUMNS, transitions);
      if (ctx.dialect === 'postgres') await sql.execute('SELECT pg_notify($1, $2)', [ctx.notifyChannel, ctx.instanceId]);
    }
    return results;
  }

  async function existingKeys(sql: SqlRunner, entries: readonly Entry[]): Promise<Map<string, { id: string; status: MessageStatus }>> {
    const byTenant = new Map<string, Set<string>>();
    for (const { content, tenantId } of entries) {
      if (content.idempotencyKey === undefined) continue;
      const keys = byTenant.get(tenantId) ?? new Set();
      keys.add(content.idempotencyKey);
      byTenant.set(tenantId, keys);
    }
    const found = new Map<string, { id: string; status: MessageStatus }>();
    for (const [tenantId, keys] of byTenant) {
      const list = [...keys];
      const marks = list.map((_, index) => ctx.raw.placeholder(index + 2)).join(', ');
      const rows = await sql.query<{ id: string; status: string; idempotency_key: string }>(
        `SELECT id, status, idempotency_key FROM message WHERE tenant_id = ${ctx.raw.placeholder(1)} AND idempotency_key IN (${marks})`,
        [tenantId, ...list],
      );
      for (const row of rows) found.set(keyOf(tenantId, row.idempotency_key), { id: row.id, status: row.status as MessageStatus });
    }
    return found;
  }

  return {
    enqueue,
    enqueueMany,
    stats: (): GroupCommitStats => ({ transactions, messages }),
    /** Refuses new work and waits for the group being committed. */
    async close(): Promise<void> {
      closed = true;
      while (flushing) await flushing;
    },
  };
}

function keyOf(tenantId: string, idempotencyKey: string): string {
  return `${tenantId}\u0000${idempotencyKey}`;
}

/** A unique index refused the row (driver adapter error, or Prisma's P2002). */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, cause } = error as { code?: unknown; cause?: { kind?: unknown } };
  return code === 'P2002' || cause?.kind === 'UniqueConstraintViolation';
}
