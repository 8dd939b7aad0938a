import { cancellableStatuses, type MessageStatus, messageStatuses, requeueableStatuses, unsentStatuses } from '@mailroute/core';
import { z } from 'zod';
import type { StoreContext } from './context.js';
import type { Prisma } from './database.js';
import { StoreError } from './errors.js';
import {
  cursorWhere,
  encodeCursor,
  filterWhere,
  isCancellable,
  isRequeueable,
  type MessageFilter,
  type PageRequest,
  type ProviderState,
  pageSchema,
  parseFilter,
  parseInput,
  providerStates,
} from './filters.js';
import { notifyInTransaction } from './notify.js';
import { type ProviderActor, recordProviderAudit } from './provider-audit.js';
import {
  attemptFromRow,
  eventFromRow,
  eventViewSelect,
  type MessageDetail,
  type MessageSummary,
  messageFromRow,
  requeuedFields,
  type SuppressedRecipientView,
  summaryFromRow,
  summarySelect,
  transitionFromRow,
  transitionRow,
} from './rows.js';

export interface TenantScope {
  /** Only this tenant's messages; all tenants when omitted (operators). */
  readonly tenantId?: string;
}

export interface MessagePage {
  readonly items: readonly MessageSummary[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: string;
}

export type RequeueTarget = { readonly ids: readonly string[] } | { readonly filter: MessageFilter };

export interface RequeueOptions {
  /** Count what would be requeued and change nothing. */
  readonly dryRun?: boolean;
  /** Recorded on each transition (who asked, why). */
  readonly reason?: string;
}

export interface RequeueResult {
  readonly count: number;
  readonly dryRun: boolean;
}

export interface ProviderStateRecord {
  readonly provider: string;
  readonly state: ProviderState;
  readonly note?: string;
  readonly updatedAt: number;
}

const idsSchema = z.array(z.string().min(1)).min(1).max(10_000);
const providerStateSchema = z.strictObject({
  provider: z.string().min(1).max(200),
  state: z.enum(providerStates),
  note: z.string().max(1000).optional(),
});

/** What operators (dashboard, CLI, api) do with messages. */
export function createOperatorApi(ctx: StoreContext) {
  const { db } = ctx;

  async function getMessage(id: string, scope: TenantScope = {}): Promise<MessageDetail | undefined> {
    const row = await db.message.findUnique({
      where: { id },
      include: {
        attempts: { orderBy: [{ startedAt: 'asc' }, { id: 'asc' }] },
        transitions: { orderBy: [{ at: 'asc' }, { id: 'asc' }] },
        events: { select: eventViewSelect, orderBy: [{ occurredAt: 'asc' }, { id: 'asc' }] },
        recipients: { where: { suppressedAt: { not: null } }, orderBy: { id: 'asc' } },
      },
    });
    if (!row || (scope.tenantId !== undefined && row.tenantId !== scope.tenantId)) return undefined;
    return {
      ...summaryFromRow(row),
      message: messageFromRow(row),
      attempts: row.attempts.map(attemptFromRow),
      transitions: row.transitions.map(transitionFromRow),
      events: row.events.map(eventFromRow),
      suppressedRecipients: row.recipients.map((recipient) => ({
        address: recipient.address,
        kind: recipient.kind as SuppressedRecipientView['kind'],
        reason: recipient.suppressedReason ?? '',
        at: recipient.suppressedAt?.getTime() ?? 0,
      })),
    };
  }

  /** Which of these message ids belong to the tenant, in one query (to show a tenant only its own failures). */
  async function ownedMessageIds(ids: readonly string[], tenantId: string): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await db.message.findMany({ where: { id: { in: [...new Set(ids)] }, tenantId }, select: { id: true } });
    return new Set(rows.map((row) => row.id));
  }

  async function listMessages(filter: MessageFilter = {}, page: PageRequest = {}): Promise<MessagePage> {
    const where = filterWhere(parseFilter(filter));
    const { cursor, limit } = parseInput(pageSchema, page, 'page');
    const rows = await db.message.findMany({
      where: cursor === undefined ? where : { AND: [where, cursorWhere(cursor)] },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
      select: summarySelect,
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(summaryFromRow),
      ...(rows.length > limit && last ? { nextCursor: encodeCursor(last.createdAt, last.id) } : {}),
    };
  }

  /**
   * Failed, dead or cancelled mail back to `queued` (rounds reset, due now), in one
   * transaction. By ids, every id must exist and be requeueable, or nothing changes.
   */
  async function requeue(target: RequeueTarget, options: RequeueOptions = {}): Promise<RequeueResult> {
    const dryRun = options.dryRun ?? false;
    const where = 'ids' in target ? { id: { in: parseInput(idsSchema, target.ids, 'ids') } } : requeueFilterWhere(target.filter);
    const result = await db.$transaction(async (tx): Promise<RequeueResult> => {
      if ('ids' in target) await checkRequeueable(tx, [...new Set(target.ids)]);
      if (dryRun)
        return { count: await tx.message.count({ where: { AND: [where, { status: { in: [...requeueableStatuses] } }] } }), dryRun };
      const now = new Date(ctx.now());
      let count = 0;
      for (const from of requeueableStatuses) {
        const rows = await tx.message.updateManyAndReturn({
          where: { AND: [where, { status: from }] },
          data: requeuedFields(now),
          select: { id: true },
        });
        if (rows.length === 0) continue;
        const reason = options.reason ? `requeued: ${options.reason}` : 'requeued by an operator';
        await tx.messageTransition.createMany({ data: rows.map((row) => transitionRow(row.id, from, 'queued', now, reason)) });
        count += rows.length;
      }
      if (count > 0) await notifyInTransaction(tx, ctx);
      return { count, dryRun };
    });
    // Requeued mail is due now: wake the workers rather than leave it to their idle poll.
    if (result.count > 0 && !result.dryRun) ctx.signal.emit();
    return result;
  }

  function requeueFilterWhere(filter: MessageFilter): Prisma.MessageWhereInput {
    const parsed = parseFilter(filter);
    const wrong = (parsed.status ?? []).filter((status) => !isRequeueable(status));
    if (wrong.length > 0) {
      throw new StoreError(
        'INVALID_INPUT',
        `only ${requeueableStatuses.join(', ')} messages can be requeued; the filter asks for ${wrong.join(', ')}`,
        { statuses: wrong },
      );
    }
    return filterWhere(parsed);
  }

  async function checkRequeueable(tx: Prisma.TransactionClient, ids: readonly string[]): Promise<void> {
    const rows = await tx.message.findMany({ where: { id: { in: [...ids] } }, select: { id: true, status: true } });
    const found = new Map(rows.map((row) => [row.id, row.status]));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw new StoreError('NOT_FOUND', `no message with id ${missing.join(', ')}`, { ids: missing });
    const refused = rows.filter((row) => !isRequeueable(row.status));
    if (refused.length > 0) {
      throw new StoreError(
        'INVALID_STATE',
        `only ${requeueableStatuses.join(', ')} messages can be requeued: ${refused.map((row) => `${row.id} is ${row.status}`).join(', ')}`,
        { messages: refused },
      );
    }
  }

  /** Stops a message that no provider has been handed yet. */
  async function cancel(
    id: string,
    options: TenantScope & { readonly reason?: string } = {},
  ): Promise<{ id: string; previous: MessageStatus }> {
    return db.$transaction(async (tx) => {
      // The status guard makes the update lose cleanly to a concurrent claim; then look again.
      for (;;) {
        const row = await tx.message.findUnique({ where: { id }, select: { status: true, tenantId: true } });
        if (!row || (options.tenantId !== undefined && row.tenantId !== options.tenantId)) {
          throw new StoreError('NOT_FOUND', `no message with id ${id}`, { ids: [id] });
        }
        if (!isCancellable(row.status)) {
          throw new StoreError(
            'INVALID_STATE',
            `message ${id} is ${row.status}; only ${cancellableStatuses.join(', ')} messages can be cancelled`,
            { id, status: row.status },
          );
        }
        const now = new Date(ctx.now());
        const { count } = await tx.message.updateMany({
          where: { id, status: row.status },
          data: { status: 'cancelled', nextAttemptAt: null, finishedAt: now, updatedAt: now },
        });
        if (count === 1) {
          await tx.messageTransition.create({
            data: transitionRow(
              id,
              row.status,
              'cancelled',
              now,
              options.reason ? `cancelled: ${options.reason}` : 'cancelled by an operator',
            ),
          });
          return { id, previous: row.status as MessageStatus };
        }
      }
    });
  }

  /** Every status counted (0 when none); with `only`, only those are read (the others stay 0): an index range, not the whole table. */
  async function countByStatus(scope: TenantScope = {}, only?: readonly MessageStatus[]): Promise<Record<MessageStatus, number>> {
    const groups = await db.message.groupBy({
      by: ['status'],
      where: {
        ...(scope.tenantId === undefined ? {} : { tenantId: scope.tenantId }),
        ...(only === undefined ? {} : { status: { in: [...only] } }),
      },
      _count: { _all: true },
    });
    const counts = Object.fromEntries(messageStatuses.map((status) => [status, 0])) as Record<MessageStatus, number>;
    for (const group of groups) {
      if (group.status in counts) counts[group.status as MessageStatus] = group._count._all;
    }
    return counts;
  }

  /**
   * When the longest-waiting undelivered message became due (accepted, its sendAt, or an
   * operator's requeue): what the "mail is late" alert watches. Scheduled mail not yet due
   * does not count; resent mail is not late for the time it lay dead.
   */
  async function oldestUnsentAt(scope: TenantScope = {}): Promise<number | undefined> {
    const now = new Date(ctx.now());
    const base = { status: { in: [...unsentStatuses] }, ...(scope.tenantId === undefined ? {} : { tenantId: scope.tenantId }) };
    const [immediate, scheduled, requeued] = await Promise.all([
      db.message.aggregate({ where: { ...base, sendAt: null, requeuedAt: null }, _min: { createdAt: true } }),
      db.message.aggregate({ where: { ...base, sendAt: { lte: now }, requeuedAt: null }, _min: { sendAt: true } }),
      db.message.aggregate({ where: { ...base, requeuedAt: { not: null } }, _min: { requeuedAt: true } }),
    ]);
    const times = [immediate._min.createdAt, scheduled._min.sendAt, requeued._min.requeuedAt].flatMap((date) =>
      date ? [date.getTime()] : [],
    );
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /** Stores the state and its audit entry (who, note, before and after) in one transaction. */
  async function setProviderState(
    provider: string,
    state: ProviderState,
    note?: string,
    actor?: ProviderActor,
  ): Promise<ProviderStateRecord> {
    const input = parseInput(providerStateSchema, note === undefined ? { provider, state } : { provider, state, note }, 'provider state');
    const updatedAt = new Date(ctx.now());
    const data = { state: input.state, note: input.note ?? null, updatedAt };
    const row = await db.$transaction(async (tx) => {
      const before = await tx.providerOverride.findUnique({ where: { provider: input.provider }, select: { state: true, note: true } });
      await recordProviderAudit(tx, {
        provider: input.provider,
        at: updatedAt,
        actor,
        note: input.note,
        before: before ?? { state: 'enabled', note: null },
        after: input.state,
      });
      return tx.providerOverride.upsert({
        where: { provider: input.provider },
        create: { provider: input.provider, ...data },
        update: data,
      });
    });
    return providerStateFromRow(row);
  }

  /** Plain SQL: every worker reads this on a timer, and Prisma's query compiler would cost it tens of MB. */
  async function listProviderStates(): Promise<ProviderStateRecord[]> {
    const rows = await ctx.raw.transaction((sql) =>
      sql.query<{ provider: string; state: string; note: string | null; updated_at: unknown }>(
        'SELECT provider, state, note, updated_at FROM provider_override ORDER BY provider',
      ),
    );
    return rows.map((row) => providerStateFromRow({ ...row, updatedAt: new Date(String(row.updated_at)) }));
  }

  return {
    getMessage,
    ownedMessageIds,
    listMessages,
    requeue,
    cancel,
    countByStatus,
    oldestUnsentAt,
    setProviderState,
    listProviderStates,
  };
}

function providerStateFromRow(row: { provider: string; state: string; note: string | null; updatedAt: Date }): ProviderStateRecord {
  return {
    provider: row.provider,
    state: row.state as ProviderState,
    ...(row.note === null ? {} : { note: row.note }),
    updatedAt: row.updatedAt.getTime(),
  };
}
