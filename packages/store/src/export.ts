import type { MailError } from '@mailroute/core';
import { z } from 'zod';
import type { StoreContext } from './context.js';
import type { Prisma } from './database.js';
import { cursorWhere, encodeCursor, filterWhere, type MessageFilter, parseFilter, parseInput } from './filters.js';
import { UNKNOWN_OUTCOME } from './lease-recovery.js';
import { createMessageSearchApi, type SearchRequest } from './search.js';
import { argumentList } from './sql.js';

/** One message as customer support needs it: who, what, where it went, how it ended. */
export interface ExportRow {
  readonly id: string;
  readonly tenantId: string;
  readonly status: string;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
  readonly subject: string;
  readonly provider?: string;
  readonly providerMessageId?: string;
  /** Provider calls made for it, across every round and worker (an `unknown` outcome included). */
  readonly attempts: number;
  /**
   * A worker died while it held the message (an attempt with outcome `unknown`): the provider
   * may have accepted that copy too, so the recipient may have it twice.
   */
  readonly possibleDuplicate: boolean;
  readonly lastErrorCode?: string;
  readonly lastError?: string;
  readonly createdAt: number;
  readonly sentAt?: number;
  readonly finishedAt?: number;
  readonly deliveredAt?: number;
}

export interface ExportPage {
  readonly rows: readonly ExportRow[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: string;
}

/** Rows per page: large enough that 100k rows are 20 round trips, small enough that a page is a few MB at most. */
export const EXPORT_PAGE_DEFAULT = 1000;
export const EXPORT_PAGE_MAX = 5000;

const exportPageSchema = z.strictObject({
  cursor: z.string().min(1).optional(),
  limit: z.number().int().min(1).max(EXPORT_PAGE_MAX).default(EXPORT_PAGE_DEFAULT),
});

const exportSelect = {
  id: true,
  tenantId: true,
  status: true,
  to: true,
  cc: true,
  bcc: true,
  subject: true,
  provider: true,
  providerMessageId: true,
  lastErrorCode: true,
  lastError: true,
  createdAt: true,
  sentAt: true,
  finishedAt: true,
  deliveredAt: true,
  _count: { select: { attempts: true } },
} as const;

/** Ids per statement when looking up a page's unknown outcomes (a page may hold 5,000). */
const IDS_PER_QUERY = 500;

/**
 * The messages a filter (the same as `listMessages`) matches, page by page on the same
 * keyset cursor, newest first: an export of any size holds one page in memory at a time and
 * never skips or repeats a row while new mail arrives.
 */
export function createExportApi(ctx: StoreContext) {
  const { db } = ctx;
  const search = createMessageSearchApi(ctx);

  async function exportMessages(filter: MessageFilter = {}, page: { cursor?: string; limit?: number } = {}): Promise<ExportPage> {
    const where = filterWhere(parseFilter(filter));
    const { cursor, limit } = parseInput(exportPageSchema, page, 'page');
    const rows = await db.message.findMany({
      where: cursor === undefined ? where : { AND: [where, cursorWhere(cursor)] },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
      select: exportSelect,
    });
    const kept = rows.slice(0, limit);
    const last = kept.at(-1);
    const unknown = await withUnknownOutcome(kept.map((row) => row.id));
    return {
      rows: kept.map((row) => exportRowOf(row, unknown)),
      ...(rows.length > limit && last ? { nextCursor: encodeCursor(last.createdAt, last.id) } : {}),
    };
  }

  /** The messages among `ids` with an attempt whose outcome nobody saw (a worker died holding them). */
  async function withUnknownOutcome(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
      const a = argumentList(ctx.raw);
      const chunk = ids.slice(start, start + IDS_PER_QUERY);
      const rows = await ctx.raw.query<{ message_id: string }>(
        `SELECT DISTINCT message_id FROM attempt WHERE message_id IN (${a.list(chunk)}) AND outcome = ${a.add(UNKNOWN_OUTCOME)}`,
        a.args,
      );
      for (const row of rows) found.add(row.message_id);
    }
    return found;
  }

  /** What a search query matches (the language of `mail.search`), as export rows, on the search's keyset cursor. */
  async function exportSearch(request: SearchRequest): Promise<ExportPage> {
    const page = await search.searchIds({ ...request, limit: request.limit ?? EXPORT_PAGE_DEFAULT }, EXPORT_PAGE_MAX);
    const rows = await db.message.findMany({ where: { id: { in: [...page.ids] } }, select: exportSelect });
    const byId = new Map(rows.map((row) => [row.id, row]));
    const unknown = await withUnknownOutcome(page.ids);
    return {
      rows: page.ids.flatMap((id) => {
        const row = byId.get(id);
        return row ? [exportRowOf(row, unknown)] : [];
      }),
      ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
    };
  }

  return { exportMessages, exportSearch };
}

export type ExportApi = ReturnType<typeof createExportApi>;

type ExportSelected = Prisma.MessageGetPayload<{ select: typeof exportSelect }>;

function exportRowOf(row: ExportSelected, unknown: ReadonlySet<string>): ExportRow {
  return {
    id: row.id,
    tenantId: row.tenantId,
    status: row.status,
    to: emails(row.to),
    cc: emails(row.cc),
    bcc: emails(row.bcc),
    subject: row.subject,
    ...(row.provider === null ? {} : { provider: row.provider }),
    ...(row.providerMessageId === null ? {} : { providerMessageId: row.providerMessageId }),
    attempts: row._count.attempts,
    possibleDuplicate: unknown.has(row.id),
    ...(row.lastErrorCode === null ? {} : { lastErrorCode: row.lastErrorCode }),
    ...(row.lastError === null ? {} : { lastError: (row.lastError as unknown as MailError).message }),
    createdAt: row.createdAt.getTime(),
    ...(row.sentAt === null ? {} : { sentAt: row.sentAt.getTime() }),
    ...(row.finishedAt === null ? {} : { finishedAt: row.finishedAt.getTime() }),
    ...(row.deliveredAt === null ? {} : { deliveredAt: row.deliveredAt.getTime() }),
  };
}

function emails(json: unknown): string[] {
  return Array.isArray(json) ? json.map((address) => (address as { email: string }).email) : [];
}
