import type { SearchQuery, SearchTerm } from '@mailroute/core';
import type { StoreContext } from './context.js';
import { StoreError } from './errors.js';
import { encodeCursor, pageSchema, parseInput } from './filters.js';
import type { MessagePage } from './operator.js';
import { summaryFromRow, summarySelect } from './rows.js';
import { argumentList } from './sql.js';

export interface SearchRequest {
  readonly query: SearchQuery;
  /** Only this tenant's messages; all tenants when omitted. */
  readonly tenantId?: string;
  readonly cursor?: string;
  /** 1 to 500; default 50. */
  readonly limit?: number;
}

export interface MessageSearchApi {
  /** Messages matching a parsed search query (`parseSearchQuery` in core), newest first, without bodies; keyset pages. */
  searchMessages(request: SearchRequest): Promise<MessagePage>;
}

/** One page of matching ids, newest first, and the cursor after it when there is more. */
export interface SearchIds {
  readonly ids: readonly string[];
  readonly nextCursor?: string;
}

/** `%` and `_` in what the operator typed are literal. */
function likePattern(value: string, start: string, end: string): string {
  return `${start}${value.replace(/[\\%_]/g, (char) => `\\${char}`)}${end}`;
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  const [ms, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = Number(ms);
  if (!id || !Number.isSafeInteger(at)) throw new StoreError('INVALID_INPUT', 'invalid cursor: pass nextCursor from the previous page');
  return { at: new Date(at), id };
}

/**
 * One SQL statement finds the page's ids; Prisma then reads those rows' summaries. Each term
 * is written so the planner can use an index when it is the selective one: recipients
 * (`message_recipient.address`), tags (`message_tag.tag`), the idempotency key, the id, the
 * status and time (`message (tenant_id, status, created_at)`, `(tenant_id, created_at)`), and
 * attempts by message for `provider:`. Subject and bare words are substring matches (LIKE /
 * ILIKE) over messages read newest first: cheap when they match often, a scan of the range
 * when they match rarely (narrow it with `after:`); see test/bench/console.ts for the cost.
 */
export function createMessageSearchApi(
  ctx: StoreContext,
): MessageSearchApi & { searchIds(request: SearchRequest, maxLimit: number): Promise<SearchIds> } {
  const postgres = ctx.dialect === 'postgres';
  const like = postgres ? 'ILIKE' : 'LIKE';
  const fromEmail = postgres ? `lower(m.from_address->>'email')` : `lower(json_extract(m.from_address, '$.email'))`;

  async function searchIds(request: SearchRequest, maxLimit: number): Promise<SearchIds> {
    const limit = request.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
      throw new StoreError('INVALID_INPUT', `invalid page: limit must be a whole number from 1 to ${maxLimit}`, {
        issues: [{ path: 'limit', message: `from 1 to ${maxLimit}` }],
      });
    }
    const { cursor } = request;
    const a = argumentList(ctx.raw);
    const address = (column: string, value: string) =>
      value.startsWith('@') ? `${column} LIKE ${a.add(likePattern(value, '%', ''))} ESCAPE '\\'` : `${column} = ${a.add(value)}`;
    const anyOf = (values: readonly string[], one: (value: string) => string) =>
      values.length === 1 ? one(values[0] as string) : `(${values.map(one).join(' OR ')})`;

    function condition(term: SearchTerm): string {
      switch (term.field) {
        case 'to':
          return `m.id IN (SELECT r.message_id FROM message_recipient r WHERE ${anyOf(term.values, (value) => address('r.address', value))})`;
        case 'from':
          return anyOf(term.values, (value) => address(fromEmail, value));
        case 'subject':
          return anyOf(term.values, (value) => `m.subject ${like} ${a.add(likePattern(value, '%', '%'))} ESCAPE '\\'`);
        case 'text':
          return anyOf(term.values, (value) => {
            const pattern = likePattern(value.toLowerCase(), '%', '%');
            return `(m.subject ${like} ${a.add(pattern)} ESCAPE '\\' OR EXISTS (SELECT 1 FROM message_recipient r WHERE r.message_id = m.id AND r.address LIKE ${a.add(pattern)} ESCAPE '\\'))`;
          });
        case 'status':
          return `m.status IN (${a.list(term.values)})`;
        case 'provider': {
          const names = a.list(term.values);
          const again = a.list(term.values);
          return `(m.provider IN (${names}) OR EXISTS (SELECT 1 FROM attempt t WHERE t.message_id = m.id AND t.provider IN (${again})))`;
        }
        case 'tag':
          return `m.id IN (SELECT g.message_id FROM message_tag g WHERE g.tag IN (${a.list(term.values)}))`;
        case 'key':
          return `m.idempotency_key IN (${a.list(term.values)})`;
        case 'id':
          return `m.id IN (${a.list(term.values)})`;
        case 'before':
          return `m.created_at < ${a.add(new Date(term.at))}`;
        case 'after':
          return `m.created_at >= ${a.add(new Date(term.at))}`;
      }
    }

    const where: string[] = [];
    if (request.tenantId !== undefined) where.push(`m.tenant_id = ${a.add(request.tenantId)}`);
    for (const term of request.query.terms) {
      const sql = condition(term);
      // NULL columns (no provider yet, no idempotency key) must count as "not matching".
      where.push(term.negate ? `NOT COALESCE((${sql}), FALSE)` : sql);
    }
    if (cursor !== undefined) {
      const { at, id } = decodeCursor(cursor);
      where.push(`(m.created_at < ${a.add(at)} OR (m.created_at = ${a.add(at)} AND m.id < ${a.add(id)}))`);
    }
    const sql = `SELECT m.id, m.created_at FROM message m${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`}
        ORDER BY m.created_at DESC, m.id DESC LIMIT ${a.add(limit + 1)}`;
    const rows = await ctx.db.$queryRawUnsafe<{ id: string; created_at: unknown }[]>(sql, ...a.args);
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      ids: rows.slice(0, limit).map((row) => row.id),
      ...(last ? { nextCursor: encodeCursor(timeOf(last.created_at), last.id) } : {}),
    };
  }

  return {
    searchIds,
    async searchMessages(request) {
      const { limit } = parseInput(pageSchema, { limit: request.limit }, 'page');
      const page = await searchIds({ ...request, limit }, 500);
      const rows = await ctx.db.message.findMany({ where: { id: { in: [...page.ids] } }, select: summarySelect });
      const byId = new Map(rows.map((row) => [row.id, row]));
      const items = page.ids.flatMap((id) => {
        const row = byId.get(id);
        return row ? [summaryFromRow(row)] : [];
      });
      return { items, ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) };
    },
  };
}

/** A timestamp column as the driver hands it back in plain SQL: a Date, ISO text, or epoch ms. */
function timeOf(value: unknown): Date {
  return value instanceof Date ? value : new Date(typeof value === 'number' ? value : String(value));
}
