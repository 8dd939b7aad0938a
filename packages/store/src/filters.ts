import { cancellableStatuses, type MessageStatus, messageStatuses, requeueableStatuses } from '@mailroute/core';
import { z } from 'zod';
import type { Prisma } from './database.js';
import { StoreError } from './errors.js';

/** What operators filter messages by. All given conditions must hold. */
export const messageFilterSchema = z.strictObject({
  status: z.array(z.enum(messageStatuses)).min(1).optional(),
  /** Sent through, or attempted on, this provider (instance name). */
  provider: z.string().min(1).optional(),
  /** Any of to, cc, bcc; compared case-insensitively. */
  recipient: z.string().min(1).optional(),
  tag: z.string().min(1).optional(),
  /** Accepted at or after (epoch ms, ISO string or Date). */
  createdFrom: z.coerce.date().optional(),
  /** Accepted before. */
  createdTo: z.coerce.date().optional(),
  tenantId: z.string().min(1).optional(),
});

export type MessageFilter = z.input<typeof messageFilterSchema>;
type ParsedFilter = z.output<typeof messageFilterSchema>;

export const pageSchema = z.strictObject({
  cursor: z.string().min(1).optional(),
  limit: z.number().int().min(1).max(500).default(50),
});

export type PageRequest = z.input<typeof pageSchema>;

/**
 * An operator's decision about one provider, stored so every process obeys it (each re-reads
 * it every `worker.overridesRefreshMs`, and at start, so it survives restarts):
 * - `enabled`: normal routing; the breaker decides on its own.
 * - `drained`: no new mail goes to it; sends already in flight finish there and their results
 *   count. For taking a provider out of rotation on purpose (maintenance, leaving it).
 * - `disabled`: no new mail goes to it and sends in flight to it are cut at once (their
 *   signal aborts): one not yet written fails over to the next provider, one already written
 *   is ambiguous and follows `routing.ambiguousPolicy`. For a provider that must not get one
 *   more message (leaked key, wrong account).
 * - `forced_open`: its breaker is held open in every process, as if it were failing: health,
 *   metrics and alerts show an open breaker with the operator's note, sends in flight finish,
 *   and no half-open probe goes out until the state is undone (then the breaker closes and
 *   counts failures again). For a provider known to be down before the breakers see it.
 */
export const providerStates = ['enabled', 'disabled', 'drained', 'forced_open'] as const;
export type ProviderState = (typeof providerStates)[number];

/** Parses with zod; a bad value becomes one INVALID_INPUT error naming every field at fault. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || what, message: issue.message }));
  throw new StoreError('INVALID_INPUT', `invalid ${what}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, {
    issues,
  });
}

export function filterWhere(filter: ParsedFilter): Prisma.MessageWhereInput {
  const and: Prisma.MessageWhereInput[] = [];
  if (filter.tenantId !== undefined) and.push({ tenantId: filter.tenantId });
  if (filter.status !== undefined) and.push({ status: { in: filter.status } });
  if (filter.createdFrom !== undefined) and.push({ createdAt: { gte: filter.createdFrom } });
  if (filter.createdTo !== undefined) and.push({ createdAt: { lt: filter.createdTo } });
  if (filter.recipient !== undefined) and.push({ recipients: { some: { address: filter.recipient.trim().toLowerCase() } } });
  if (filter.tag !== undefined) and.push({ tagRows: { some: { tag: filter.tag } } });
  if (filter.provider !== undefined) {
    and.push({ OR: [{ provider: filter.provider }, { attempts: { some: { provider: filter.provider } } }] });
  }
  return and.length === 0 ? {} : { AND: and };
}

export function parseFilter(filter: MessageFilter): ParsedFilter {
  return parseInput(messageFilterSchema, filter, 'filter');
}

/** Keyset cursor on (createdAt, id), newest first: pages stay stable while mail keeps arriving. */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.getTime()}|${id}`).toString('base64url');
}

export function cursorWhere(cursor: string): Prisma.MessageWhereInput {
  const [ms, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = Number(ms);
  if (!id || !Number.isSafeInteger(at)) throw new StoreError('INVALID_INPUT', 'invalid cursor: pass nextCursor from the previous page');
  const createdAt = new Date(at);
  return { OR: [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }] };
}

export function isRequeueable(status: string): status is (typeof requeueableStatuses)[number] {
  return (requeueableStatuses as readonly string[]).includes(status);
}

export function isCancellable(status: string): status is (typeof cancellableStatuses)[number] {
  return (cancellableStatuses as readonly string[]).includes(status);
}

export type { MessageStatus };
