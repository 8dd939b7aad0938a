import { z } from 'zod';
import type { StoreContext } from './context.js';
import { parseInput } from './filters.js';

/**
 * The senders a tenant may put in `from`: a domain (`hotel.example`: any address at exactly that
 * domain, not its subdomains) or one address. Stored lower-cased. What an empty list means is
 * the API's policy (packages/api/src/sender-check.ts), not the store's.
 */
export interface SenderApi {
  /** One tenant's senders, sorted. */
  listSenders(tenantId: string): Promise<string[]>;
  /** Every tenant that has senders, with them (sorted by tenant, then sender). */
  listAllSenders(): Promise<{ tenantId: string; senders: string[] }[]>;
  /** Replaces a tenant's senders in one transaction; an empty list removes them all. Answers the new list. */
  setSenders(tenantId: string, senders: readonly string[]): Promise<string[]>;
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const senderSchema = z
  .string()
  .trim()
  .toLowerCase()
  .refine((value) => {
    const at = value.lastIndexOf('@');
    if (at < 0) return DOMAIN.test(value);
    return at > 0 && at < 64 && !/[\s"<>(),;:\\[\]]/.test(value.slice(0, at)) && DOMAIN.test(value.slice(at + 1));
  }, 'must be a domain (hotel.example) or an address (desk@hotel.example)');

const setSchema = z.strictObject({
  tenantId: z.string().min(1).max(100),
  senders: z.array(senderSchema).max(1000),
});

export function createSenderApi(ctx: StoreContext): SenderApi {
  const { db } = ctx;
  return {
    async listSenders(tenantId) {
      const rows = await db.tenantSender.findMany({ where: { tenantId }, orderBy: { sender: 'asc' }, select: { sender: true } });
      return rows.map((row) => row.sender);
    },
    async listAllSenders() {
      const rows = await db.tenantSender.findMany({ orderBy: [{ tenantId: 'asc' }, { sender: 'asc' }] });
      const byTenant = new Map<string, string[]>();
      for (const row of rows) byTenant.set(row.tenantId, [...(byTenant.get(row.tenantId) ?? []), row.sender]);
      return [...byTenant].map(([tenantId, senders]) => ({ tenantId, senders }));
    },
    async setSenders(tenantId, senders) {
      const parsed = parseInput(setSchema, { tenantId, senders }, 'senders');
      const unique = [...new Set(parsed.senders)].sort();
      const createdAt = new Date(ctx.now());
      await db.$transaction([
        db.tenantSender.deleteMany({ where: { tenantId: parsed.tenantId } }),
        db.tenantSender.createMany({ data: unique.map((sender) => ({ tenantId: parsed.tenantId, sender, createdAt })) }),
      ]);
      return unique;
    },
  };
}
