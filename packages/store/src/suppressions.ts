import { z } from 'zod';
import { DEFAULT_TENANT, type StoreContext } from './context.js';
import { StoreError } from './errors.js';
import { parseInput } from './filters.js';
import { uuidv7 } from './ids.js';

/**
 * The suppression list: addresses no provider may send to (hard bounces, complaints,
 * unsubscribes, operator entries). Shared by every provider; addresses are compared lower-cased.
 */
export interface SuppressionRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly address: string;
  readonly reason: string;
  readonly source: string;
  /** The provider event that put the address here (hard bounce, complaint, unsubscribe); absent for entries added by hand. */
  readonly eventId?: string;
  readonly createdAt: number;
}

export interface SuppressionApi {
  addSuppression(input: { address: string; reason: string; source: string; tenantId?: string }): Promise<SuppressionRecord>;
  removeSuppression(address: string, scope?: { tenantId?: string }): Promise<boolean>;
  listSuppressions(options?: { tenantId?: string; address?: string; limit?: number; cursor?: string }): Promise<{
    items: SuppressionRecord[];
    nextCursor?: string;
  }>;
  /** Which of these addresses are suppressed (lower-cased), in one query. */
  suppressedAmong(addresses: readonly string[], scope?: { tenantId?: string }): Promise<Set<string>>;
}

const addSchema = z.strictObject({
  address: z.email({ message: 'must be a valid e-mail address' }),
  reason: z.string().min(1).max(200),
  source: z.string().min(1).max(200),
  tenantId: z.string().min(1).default(DEFAULT_TENANT),
});

const listSchema = z.strictObject({
  tenantId: z.string().min(1).default(DEFAULT_TENANT),
  address: z.string().min(1).optional(),
  limit: z.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).optional(),
});

interface SuppressionRow {
  id: string;
  tenantId: string;
  address: string;
  reason: string;
  source: string;
  eventId: string | null;
  createdAt: Date;
}

function toRecord(row: SuppressionRow): SuppressionRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    address: row.address,
    reason: row.reason,
    source: row.source,
    ...(row.eventId === null ? {} : { eventId: row.eventId }),
    createdAt: row.createdAt.getTime(),
  };
}

export function createSuppressionApi(ctx: StoreContext): SuppressionApi {
  return {
    async addSuppression(input) {
      const parsed = parseInput(addSchema, input, 'suppression');
      const address = parsed.address.trim().toLowerCase();
      // Adding an address twice keeps the first entry: its reason is the one that matters.
      const row = await ctx.db.suppression.upsert({
        where: { tenantId_address: { tenantId: parsed.tenantId, address } },
        create: {
          id: uuidv7(ctx.now()),
          tenantId: parsed.tenantId,
          address,
          reason: parsed.reason,
          source: parsed.source,
          createdAt: new Date(ctx.now()),
        },
        update: {},
      });
      return toRecord(row);
    },
    async removeSuppression(address, scope = {}) {
      const tenantId = scope.tenantId ?? DEFAULT_TENANT;
      const result = await ctx.db.suppression.deleteMany({ where: { tenantId, address: address.trim().toLowerCase() } });
      return result.count > 0;
    },
    async listSuppressions(options = {}) {
      const parsed = parseInput(listSchema, options, 'suppression query');
      const rows = await ctx.db.suppression.findMany({
        where: {
          tenantId: parsed.tenantId,
          ...(parsed.address ? { address: parsed.address.trim().toLowerCase() } : {}),
          ...(parsed.cursor ? { id: { lt: parsed.cursor } } : {}),
        },
        orderBy: { id: 'desc' },
        take: parsed.limit + 1,
      });
      const items = rows.slice(0, parsed.limit).map(toRecord);
      const last = items.at(-1);
      return rows.length > parsed.limit && last ? { items, nextCursor: last.id } : { items };
    },
    async suppressedAmong(addresses, scope = {}) {
      if (addresses.length === 0) return new Set();
      if (addresses.length > 10_000) throw new StoreError('INVALID_INPUT', 'at most 10000 addresses per suppression check');
      const wanted = [...new Set(addresses.map((address) => address.trim().toLowerCase()))];
      // Every send asks this: plain SQL with one statement text for any number of addresses
      // (prepared once), not the query compiler and an IN list per size.
      const sqlite = ctx.raw.dialect === 'sqlite';
      const rows = await ctx.raw.query<{ address: string }>(
        `SELECT address FROM suppression WHERE tenant_id = ${ctx.raw.placeholder(1)} AND address ${sqlite ? 'IN (SELECT value FROM json_each(?))' : '= ANY($2::text[])'}`,
        [scope.tenantId ?? DEFAULT_TENANT, sqlite ? JSON.stringify(wanted) : wanted],
      );
      return new Set(rows.map((row) => row.address));
    },
  };
}
