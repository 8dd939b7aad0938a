import { z } from 'zod';
import type { StoreContext } from './context.js';
import type { Prisma } from './database.js';
import { type ProviderState, parseInput } from './filters.js';
import { uuidv7 } from './ids.js';

/** Who changed a provider's state: the API key (name kept as it was then, the key may be renamed or revoked later). */
export interface ProviderActor {
  readonly keyId: string;
  readonly keyName: string;
}

/** One `setProviderState`: who, when, why, and the state before and after. */
export interface ProviderAuditRecord {
  readonly id: string;
  readonly provider: string;
  /** Absent for a change made without an API key (the command line on the database). */
  readonly actor?: ProviderActor;
  readonly at: number;
  readonly note?: string;
  readonly before: { readonly state: ProviderState; readonly note?: string };
  readonly after: { readonly state: ProviderState };
}

export interface ProviderAuditRequest {
  readonly provider?: string;
  /** Entries at or after (epoch ms). */
  readonly since?: number;
  /** Newest first, at most this many (default 50, at most 1,000). */
  readonly limit?: number;
}

export interface ProviderAuditApi {
  listProviderAudit(request?: ProviderAuditRequest): Promise<ProviderAuditRecord[]>;
}

const requestSchema = z.strictObject({
  provider: z.string().min(1).max(200).optional(),
  since: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(1_000).default(50),
});

interface AuditRow {
  id: string;
  provider: string;
  keyId: string | null;
  keyName: string | null;
  at: Date;
  note: string | null;
  beforeState: string;
  beforeNote: string | null;
  afterState: string;
}

function fromRow(row: AuditRow): ProviderAuditRecord {
  return {
    id: row.id,
    provider: row.provider,
    ...(row.keyId === null ? {} : { actor: { keyId: row.keyId, keyName: row.keyName ?? '' } }),
    at: row.at.getTime(),
    ...(row.note === null ? {} : { note: row.note }),
    before: { state: row.beforeState as ProviderState, ...(row.beforeNote === null ? {} : { note: row.beforeNote }) },
    after: { state: row.afterState as ProviderState },
  };
}

/** Written in the transaction that changes the state, so no change goes unrecorded. */
export async function recordProviderAudit(
  tx: Prisma.TransactionClient,
  entry: {
    provider: string;
    at: Date;
    actor: ProviderActor | undefined;
    note: string | undefined;
    before: { state: string; note: string | null };
    after: string;
  },
): Promise<void> {
  await tx.providerAudit.create({
    data: {
      id: uuidv7(entry.at.getTime()),
      provider: entry.provider,
      keyId: entry.actor?.keyId ?? null,
      keyName: entry.actor?.keyName ?? null,
      at: entry.at,
      note: entry.note ?? null,
      beforeState: entry.before.state,
      beforeNote: entry.before.note,
      afterState: entry.after,
    },
  });
}

export function createProviderAuditApi(ctx: StoreContext): ProviderAuditApi {
  return {
    async listProviderAudit(request = {}) {
      const { provider, since, limit } = parseInput(requestSchema, request, 'audit request');
      const rows = await ctx.db.providerAudit.findMany({
        where: {
          ...(provider === undefined ? {} : { provider }),
          ...(since === undefined ? {} : { at: { gte: new Date(since) } }),
        },
        orderBy: [{ at: 'desc' }, { id: 'desc' }],
        take: limit,
      });
      return rows.map(fromRow);
    },
  };
}
