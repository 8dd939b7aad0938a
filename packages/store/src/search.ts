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
export function createMessageSearchApi(ctx: StoreContext): MessageSearchApi {
  const postgres = ctx.dialect === 'postgres';
  const like = postgres ? 'ILIKE' : 'LIKE';
  const fromEmail = postgres ? `lower(m.from_address->>'email')` : `lower(json_extract(m.from_address, '$.email'))`;

  return {
    async searchMessages(request) {
      const { cursor, limit } = parseInput(pageSchema, { cursor: request.cursor, limit: request.limit }, 'page');
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
      const sql = `SELECT m.id FROM message m${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`}
        ORDER BY m.created_at DESC, m.id DESC LIMIT ${a.add(limit + 1)}`;
      const ids = (await ctx.db.$queryRawUnsafe<{ id: string }[]>(sql, ...a.args)).map((row) => row.id);
      const page = ids.slice(0, limit);
      const rows = await ctx.db.message.findMany({ where: { id: { in: page } }, select: summarySelect });
      const byId = new Map(rows.map((row) => [row.id, row]));
      const ordered = page.flatMap((id) => {
        const row = byId.get(id);
        return row ? [row] : [];
      });
      const last = ordered.at(-1);
      return {
        items: ordered.map(summaryFromRow),
        ...(ids.length > limit && last ? { nextCursor: encodeCursor(last.createdAt, last.id) } : {}),
      };
    },
  };
}
