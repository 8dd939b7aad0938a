import { requeueableStatuses } from '@mailroute/core';
import { z } from 'zod';
import type { StoreContext } from './context.js';
import type { Prisma } from './database.js';
import { StoreError } from './errors.js';
import { filterWhere, isRequeueable, type MessageFilter, parseFilter, parseInput } from './filters.js';
import type { RequeueTarget } from './operator.js';
import { requeuedFields, transitionRow } from './rows.js';

export interface RetryRequest {
  readonly target: RequeueTarget;
  /** Only this tenant's messages (an id of another tenant is reported as not found); all when omitted. */
  readonly tenantId?: string;
  /** Count and report, change nothing. */
  readonly dryRun?: boolean;
  /** Recorded on each transition (who asked, why). */
  readonly reason?: string;
}

export interface SuppressedMessage {
  readonly id: string;
  /** The recipients of the message that are on its tenant's suppression list (lower-cased). */
  readonly addresses: readonly string[];
}

export interface RetryReport {
  readonly dryRun: boolean;
  /** Failed, dead or cancelled messages the target matched. */
  readonly matched: number;
  /** Moved back to `queued` (in a dry run: would be). */
  readonly requeued: number;
  /** Matched but kept as they are: a recipient has been suppressed since. */
  readonly suppressedCount: number;
  /** The first of those, with the addresses at fault. */
  readonly suppressed: readonly SuppressedMessage[];
}

/** Most suppressed messages listed one by one in a report; the count covers all. */
export const RETRY_REPORT_LIMIT = 1000;
const CHUNK = 500;
const idsSchema = z.array(z.string().min(1)).min(1).max(10_000);

/**
 * Bulk retry as operators mean it: requeue failed, dead or cancelled mail, except mail to an
 * address suppressed since it was accepted (resending a hard bounce hurts the sender's
 * reputation). The check and the requeue happen in one transaction.
 */
export function createRetryApi(ctx: StoreContext) {
  const { db } = ctx;

  async function retryMessages(request: RetryRequest): Promise<RetryReport> {
    const dryRun = request.dryRun ?? false;
    const { target, tenantId } = request;
    const ids = 'ids' in target ? [...new Set(parseInput(idsSchema, target.ids, 'ids'))] : undefined;
    const where = 'filter' in target ? requeueFilterWhere(target.filter, tenantId) : { id: { in: ids ?? [] } };
    return db.$transaction(async (tx) => {
      if (ids) await checkIds(tx, ids, tenantId);
      const candidates = await tx.message.findMany({
        where: { AND: [where, { status: { in: [...requeueableStatuses] } }] },
        select: { id: true },
        orderBy: { id: 'asc' },
      });
      const suppressed = await suppressedRecipients(
        tx,
        candidates.map((row) => row.id),
      );
      const eligible = candidates.map((row) => row.id).filter((id) => !suppressed.has(id));
      const requeued = dryRun ? eligible.length : await requeue(tx, eligible, request.reason);
      return {
        dryRun,
        matched: candidates.length,
        requeued,
        suppressedCount: suppressed.size,
        suppressed: [...suppressed].slice(0, RETRY_REPORT_LIMIT).map(([id, addresses]) => ({ id, addresses: [...addresses].sort() })),
      };
    });
  }

  function requeueFilterWhere(filter: MessageFilter, tenantId: string | undefined): Prisma.MessageWhereInput {
    const parsed = parseFilter(tenantId === undefined ? filter : { ...filter, tenantId });
    const wrong = (parsed.status ?? []).filter((status) => !isRequeueable(status));
    if (wrong.length > 0) {
      throw new StoreError(
        'INVALID_INPUT',
        `only ${requeueableStatuses.join(', ')} messages can be retried; the filter asks for ${wrong.join(', ')}`,
        { issues: [{ path: 'filter.status', message: `not retryable: ${wrong.join(', ')}` }] },
      );
    }
    return filterWhere(parsed);
  }

  /** Every id must be this tenant's and retryable, or nothing changes. */
  async function checkIds(tx: Prisma.TransactionClient, ids: readonly string[], tenantId: string | undefined): Promise<void> {
    const rows = await tx.message.findMany({ where: { id: { in: [...ids] } }, select: { id: true, status: true, tenantId: true } });
    const visible = rows.filter((row) => tenantId === undefined || row.tenantId === tenantId);
    const found = new Set(visible.map((row) => row.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw new StoreError('NOT_FOUND', `no message with id ${missing.join(', ')}`, { ids: missing });
    const refused = visible.filter((row) => !isRequeueable(row.status));
    if (refused.length > 0) {
      throw new StoreError(
        'INVALID_STATE',
        `only ${requeueableStatuses.join(', ')} messages can be retried: ${refused.map((row) => `${row.id} is ${row.status}`).join(', ')}`,
        { messages: refused.map((row) => ({ id: row.id, status: row.status })) },
      );
    }
  }

  /** Message id -> its suppressed recipients, matched against the message's own tenant's list. */
  async function suppressedRecipients(tx: Prisma.TransactionClient, ids: readonly string[]): Promise<Map<string, Set<string>>> {
    const found = new Map<string, Set<string>>();
    const p = ctx.raw.placeholder;
    for (let start = 0; start < ids.length; start += CHUNK) {
      const chunk = ids.slice(start, start + CHUNK);
      const rows = await tx.$queryRawUnsafe<{ message_id: string; address: string }[]>(
        `SELECT r.message_id, r.address FROM message_recipient r
           JOIN message m ON m.id = r.message_id
           JOIN suppression s ON s.tenant_id = m.tenant_id AND s.address = r.address
          WHERE r.message_id IN (${chunk.map((_, index) => p(index + 1)).join(', ')})`,
        ...chunk,
      );
      for (const row of rows) {
        const addresses = found.get(row.message_id) ?? new Set();
        addresses.add(row.address);
        found.set(row.message_id, addresses);
      }
    }
    return found;
  }

  async function requeue(tx: Prisma.TransactionClient, ids: readonly string[], reason: string | undefined): Promise<number> {
    const now = new Date(ctx.now());
    const why = reason ? `requeued: ${reason}` : 'requeued by an operator';
    let count = 0;
    for (let start = 0; start < ids.length; start += CHUNK) {
      const chunk = ids.slice(start, start + CHUNK);
      for (const from of requeueableStatuses) {
        const rows = await tx.message.updateManyAndReturn({
          where: { id: { in: chunk }, status: from },
          data: requeuedFields(now),
          select: { id: true },
        });
        if (rows.length === 0) continue;
        await tx.messageTransition.createMany({ data: rows.map((row) => transitionRow(row.id, from, 'queued', now, why)) });
        count += rows.length;
      }
    }
    return count;
  }

  return { retryMessages };
}
