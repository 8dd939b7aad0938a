import { type MessageContent, type MessageStatus, writeSplitting } from '@mailroute/core';
import { DEFAULT_TENANT, type StoreContext } from './context.js';
import { StoreError } from './errors.js';
import { contentHash } from './idempotency.js';
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
  /** `queued`, `scheduled` (sendAt in the future), or for a duplicate or conflict the existing message's status. */
  readonly status: MessageStatus;
  /** The (tenant, idempotency key) was seen before with the same content: nothing new was stored. */
  readonly duplicate: boolean;
  /**
   * The (tenant, idempotency key) was seen before with other content: nothing was stored, and
   * `id` and `status` are the original message's. The caller must refuse the request.
   */
  readonly conflict?: true;
}

export interface GroupCommitStats {
  /** Enqueue transactions committed (group commits and enqueueMany calls). */
  readonly transactions: number;
  /** Messages acknowledged by them, duplicates included. */
  readonly messages: number;
}

/** A message already holding an idempotency key, with the fingerprint of its content (null if stored before fingerprints). */
interface StoredKey {
  readonly id: string;
  readonly status: MessageStatus;
  readonly hash: string | null;
}

interface Entry {
  readonly content: MessageContent;
  readonly tenantId: string;
}

/** One call's messages: stored together or not at all, whatever group they commit in. */
interface Unit {
  readonly entries: readonly Entry[];
  readonly resolve: (results: EnqueueResult[]) => void;
  readonly reject: (error: unknown) => void;
}

const UNIQUE_RETRIES = 3;

/**
 * Durable enqueue with group commit: calls made in the same event-loop turn, and those that
 * arrive while the previous commit is on disk, share one transaction. `enqueue` adds one
 * message and `enqueueMany` a batch that stays all or nothing; each call resolves only after
 * that commit. With synchronous commits on SQLite this is what turns one fsync per call into
 * one fsync per group.
 */
export function createEnqueuer(ctx: StoreContext, maxGroupSize = 500) {
  const pending: Unit[] = [];
  let flushing: Promise<void> | undefined;
  let closed = false;
  let transactions = 0;
  let messages = 0;

  async function enqueue(content: MessageContent, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const [result] = await submit([{ content, tenantId: options.tenantId ?? DEFAULT_TENANT }]);
    if (!result) throw new Error('enqueue produced no result');
    return result;
  }

  /** All or nothing; a concurrent duplicate key makes it retry and find the winner. */
  async function enqueueMany(contents: readonly MessageContent[], options: EnqueueOptions = {}): Promise<EnqueueResult[]> {
    if (closed) throw new StoreError('CLOSED', 'the store is closed');
    if (contents.length === 0) return [];
    const tenantId = options.tenantId ?? DEFAULT_TENANT;
    return submit(contents.map((content) => ({ content, tenantId })));
  }

  function submit(entries: readonly Entry[]): Promise<EnqueueResult[]> {
    if (closed) return Promise.reject(new StoreError('CLOSED', 'the store is closed'));
    return new Promise((resolve, reject) => {
      pending.push({ entries, resolve, reject });
      schedule();
    });
  }

  function schedule(): void {
    if (flushing) return;
    flushing = (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      while (pending.length > 0) await commitGroup(nextGroup());
    })().finally(() => {
      flushing = undefined;
      if (pending.length > 0) schedule();
    });
  }

  /** Whole calls, oldest first, up to maxGroupSize messages (a larger call goes alone). */
  function nextGroup(): Unit[] {
    let size = 0;
    let count = 0;
    for (const unit of pending) {
      if (count > 0 && size + unit.entries.length > maxGroupSize) break;
      size += unit.entries.length;
      count += 1;
    }
    return pending.splice(0, count);
  }

  /** A call that cannot be stored fails alone: the group is split (writeSplitting) down to single calls. */
  async function commitGroup(group: readonly Unit[]): Promise<void> {
    const failures = await writeSplitting(group, async (units) => {
      const results = await insertCommitted(units.flatMap((unit) => unit.entries));
      let offset = 0;
      for (const unit of units) {
        unit.resolve(results.slice(offset, offset + unit.entries.length));
        offset += unit.entries.length;
      }
    });
    for (const { item, error } of failures) await commitAlone(item, error);
  }

  /** Another process stored the same idempotency key first: the next try finds its row. */
  async function commitAlone(unit: Unit, firstError: unknown): Promise<void> {
    let error = firstError;
    for (let attempt = 2; attempt <= UNIQUE_RETRIES && isUniqueViolation(error); attempt += 1) {
      try {
        unit.resolve(await insertCommitted(unit.entries));
        return;
      } catch (next) {
        error = next;
      }
    }
    unit.reject(error);
  }

  async function insertCommitted(entries: readonly Entry[]): Promise<EnqueueResult[]> {
    const results = await ctx.raw.transaction((sql) => insertMessages(sql, entries));
    transactions += 1;
    messages += entries.length;
    if (results.some((result) => !result.duplicate)) ctx.signal.emit();
    return results;
  }

  async function insertMessages(sql: SqlRunner, entries: readonly Entry[]): Promise<EnqueueResult[]> {
    const nowMs = ctx.now();
    const now = new Date(nowMs);
    const seen = await existingKeys(sql, entries);
    const hashes = entries.map(({ content }) => (content.idempotencyKey === undefined ? null : contentHash(content)));
    const results: EnqueueResult[] = [];
    const messageRows: unknown[][] = [];
    const recipients: unknown[][] = [];
    const tags: unknown[][] = [];
    const transitions: unknown[][] = [];
    for (const [index, { content, tenantId }] of entries.entries()) {
      const key = content.idempotencyKey === undefined ? undefined : keyOf(tenantId, content.idempotencyKey);
      const earlier = key === undefined ? undefined : seen.get(key);
      const idempotencyHash = hashes[index] ?? null;
      if (earlier) {
        // A message stored before hashes were kept has none: it is taken to match.
        const same = earlier.hash === null || earlier.hash === idempotencyHash;
        results.push(
          same
            ? { id: earlier.id, status: earlier.status, duplicate: true }
            : { id: earlier.id, status: earlier.status, duplicate: false, conflict: true },
        );
        continue;
      }
      const id = uuidv7(nowMs);
      const scheduled = content.sendAt !== undefined && content.sendAt.getTime() > nowMs;
      const status: MessageStatus = scheduled ? 'scheduled' : 'queued';
      const nextAttemptAt = scheduled && content.sendAt ? content.sendAt : now;
      messageRows.push(messageValues(content, { id, tenantId, status, now, nextAttemptAt, idempotencyHash }));
      recipients.push(...recipientValues(id, content));
      tags.push(...tagValues(id, content));
      const reason = scheduled ? `accepted for ${nextAttemptAt.toISOString()}` : 'accepted';
      transitions.push([id, null, status, now, reason]);
      if (key !== undefined) seen.set(key, { id, status, hash: idempotencyHash });
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

  async function existingKeys(sql: SqlRunner, entries: readonly Entry[]): Promise<Map<string, StoredKey>> {
    const byTenant = new Map<string, Set<string>>();
    for (const { content, tenantId } of entries) {
      if (content.idempotencyKey === undefined) continue;
      const keys = byTenant.get(tenantId) ?? new Set();
      keys.add(content.idempotencyKey);
      byTenant.set(tenantId, keys);
    }
    const found = new Map<string, StoredKey>();
    for (const [tenantId, keys] of byTenant) {
      const list = [...keys];
      const marks = list.map((_, index) => ctx.raw.placeholder(index + 2)).join(', ');
      const rows = await sql.query<{ id: string; status: string; idempotency_key: string; idempotency_hash: string | null }>(
        `SELECT id, status, idempotency_key, idempotency_hash FROM message WHERE tenant_id = ${ctx.raw.placeholder(1)} AND idempotency_key IN (${marks})`,
        [tenantId, ...list],
      );
      for (const row of rows) {
        found.set(keyOf(tenantId, row.idempotency_key), { id: row.id, status: row.status as MessageStatus, hash: row.idempotency_hash });
      }
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
