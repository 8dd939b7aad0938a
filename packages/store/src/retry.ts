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
  /** Report what would happen, change nothing. */
  readonly dryRun?: boolean;
  /** Recorded on each transition (who asked, why). */
  readonly reason?: string;
  /**
   * Whether the message's tenant may still send from this address (the API's sender policy);
   * a message whose sender is no longer allowed is kept back. Every sender passes when omitted.
   */
  readonly senderAllowed?: (from: string, tenantId: string) => boolean;
}

/**
 * Why a matched message is left as it is:
 * - `suppressed`: a recipient has been put on the tenant's suppression list since (resending
 *   a hard bounce or a complaint hurts the sender's reputation);
 * - `provider_has_it`: a provider accepted it or sent webhook events about it (delivered,
 *   processed, bounced, ...) although it ended failed or dead, e.g. events that came while a
 *   timed-out send was being failed over: resending would deliver it twice;
 * - `sender_not_allowed`: its `from` is no longer among its tenant's allowed senders (the list
 *   changed since it was accepted): mail.send would refuse it now, so a retry does too;
 * - `not_retryable`: named by id but no longer failed, dead or cancelled (most often requeued
 *   by an earlier retry), so a repeated retry of the same ids does nothing.
 * A second message with the same idempotency key cannot exist (unique per tenant), so there
 * is no duplicate of that kind to look for.
 */
export const keptBackReasons = ['suppressed', 'sender_not_allowed', 'provider_has_it', 'not_retryable'] as const;
export type KeptBackReason = (typeof keptBackReasons)[number];

export interface KeptBackMessage {
  readonly id: string;
  readonly reason: KeptBackReason;
  /** `suppressed`: the recipients on the suppression list (lower-cased). */
  readonly addresses?: readonly string[];
  /** `sender_not_allowed`: the message's `from` address. */
  readonly sender?: string;
  /** `provider_has_it`: what shows it, e.g. `delivered event from sendgrid`. */
  readonly evidence?: readonly string[];
  /** `not_retryable`: the status the message has now. */
  readonly status?: string;
}

export interface RetryReport {
  readonly dryRun: boolean;
  /** Messages the target matched: for a filter its failed, dead or cancelled ones; for ids every id. */
  readonly matched: number;
  /** Moved back to `queued` (in a dry run: would be). */
  readonly requeued: number;
  /** The first of those, by id. */
  readonly requeuedIds: readonly string[];
  /** Matched but left as they are, counted by reason. */
  readonly keptBackCount: Readonly<Record<KeptBackReason, number>>;
  /** The first of those, with the reason and what shows it. */
  readonly keptBack: readonly KeptBackMessage[];
}

/** Most messages listed one by one in a report (per list); the counts cover all. */
export const RETRY_REPORT_LIMIT = 1000;
const CHUNK = 500;
const idsSchema = z.array(z.string().min(1)).min(1).max(10_000);

/**
 * Bulk retry as operators mean it: requeue failed, dead or cancelled mail, except what must
 * not be sent again (see `KeptBackReason`). The checks and the requeue happen in one
 * transaction, and the requeue is guarded by the status, so two operators retrying the same
 * mail at once requeue each message once.
 */
export function createRetryApi(ctx: StoreContext) {
  const { db } = ctx;

  async function retryMessages(request: RetryRequest): Promise<RetryReport> {
    const dryRun = request.dryRun ?? false;
    const { target, tenantId } = request;
    const ids = 'ids' in target ? [...new Set(parseInput(idsSchema, target.ids, 'ids'))] : undefined;
    const where = 'filter' in target ? requeueFilterWhere(target.filter, tenantId) : { id: { in: ids ?? [] } };
    return db.$transaction(async (tx) => {
      const moved = ids ? await checkIds(tx, ids, tenantId) : [];
      const candidates = (
        await tx.message.findMany({
          where: { AND: [where, { status: { in: [...requeueableStatuses] } }] },
          select: { id: true },
          orderBy: { id: 'asc' },
        })
      ).map((row) => row.id);
      const suppressed = await suppressedRecipients(tx, candidates);
      const refusedSenders = request.senderAllowed
        ? await sendersRefused(
            tx,
            candidates.filter((id) => !suppressed.has(id)),
            request.senderAllowed,
          )
        : new Map<string, string>();
      const taken = await providerEvidence(
        tx,
        candidates.filter((id) => !suppressed.has(id) && !refusedSenders.has(id)),
      );
      const eligible = candidates.filter((id) => !suppressed.has(id) && !refusedSenders.has(id) && !taken.has(id));
      const requeued = dryRun ? eligible.length : await requeue(tx, eligible, request.reason);
      const keptBack: KeptBackMessage[] = [
        ...[...suppressed].map(([id, addresses]) => ({ id, reason: 'suppressed' as const, addresses: [...addresses].sort() })),
        ...[...refusedSenders].map(([id, sender]) => ({ id, reason: 'sender_not_allowed' as const, sender })),
        ...[...taken].map(([id, evidence]) => ({ id, reason: 'provider_has_it' as const, evidence: [...evidence].sort() })),
        ...moved,
      ];
      return {
        dryRun,
        matched: candidates.length + moved.length,
        requeued,
        requeuedIds: eligible.slice(0, RETRY_REPORT_LIMIT),
        keptBackCount: {
          suppressed: suppressed.size,
          sender_not_allowed: refusedSenders.size,
          provider_has_it: taken.size,
          not_retryable: moved.length,
        },
        keptBack: keptBack.slice(0, RETRY_REPORT_LIMIT),
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

  /** Every id must be this tenant's, or nothing changes; the ones that moved on are reported, not refused. */
  async function checkIds(tx: Prisma.TransactionClient, ids: readonly string[], tenantId: string | undefined): Promise<KeptBackMessage[]> {
    const rows = await tx.message.findMany({ where: { id: { in: [...ids] } }, select: { id: true, status: true, tenantId: true } });
    const visible = rows.filter((row) => tenantId === undefined || row.tenantId === tenantId);
    const found = new Set(visible.map((row) => row.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw new StoreError('NOT_FOUND', `no message with id ${missing.join(', ')}`, { ids: missing });
    return visible
      .filter((row) => !isRequeueable(row.status))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((row) => ({ id: row.id, reason: 'not_retryable', status: row.status }));
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
      for (const row of rows) addTo(found, row.message_id, row.address);
    }
    return found;
  }

  /** Message id -> its `from` address, for the messages whose sender the policy refuses now. */
  async function sendersRefused(
    tx: Prisma.TransactionClient,
    ids: readonly string[],
    allowed: NonNullable<RetryRequest['senderAllowed']>,
  ): Promise<Map<string, string>> {
    const refused = new Map<string, string>();
    for (let start = 0; start < ids.length; start += CHUNK) {
      const rows = await tx.message.findMany({
        where: { id: { in: ids.slice(start, start + CHUNK) } },
        select: { id: true, tenantId: true, from: true },
      });
      for (const row of rows) {
        const email = (row.from as { email?: unknown } | null)?.email;
        if (typeof email === 'string' && !allowed(email, row.tenantId)) refused.set(row.id, email);
      }
    }
    return refused;
  }

  /** Message id -> what shows a provider has it: an accepted attempt or any webhook event tied to it. */
  async function providerEvidence(tx: Prisma.TransactionClient, ids: readonly string[]): Promise<Map<string, Set<string>>> {
    const found = new Map<string, Set<string>>();
    for (let start = 0; start < ids.length; start += CHUNK) {
      const chunk = ids.slice(start, start + CHUNK);
      const attempts = await tx.attempt.findMany({
        where: { messageId: { in: chunk }, outcome: 'accepted' },
        select: { messageId: true, provider: true },
      });
      const events = await tx.event.findMany({
        where: { messageId: { in: chunk } },
        select: { messageId: true, provider: true, type: true },
      });
      for (const row of attempts) addTo(found, row.messageId, `accepted by ${row.provider}`);
      for (const row of events) if (row.messageId !== null) addTo(found, row.messageId, `${row.type} event from ${row.provider}`);
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

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const values = map.get(key) ?? new Set();
  values.add(value);
  map.set(key, values);
}
