import { z } from 'zod';
import { tenantIdSchema } from '../inputs.js';
import { senderPolicy } from '../sender-check.js';
import { missingScope, router, scoped } from '../trpc.js';

/** A tenant's senders with what they mean: `listed` (only those), `any` (the default tenant without a list) or `none`. */
export interface TenantSenders {
  readonly tenantId: string;
  readonly senders: readonly string[];
  readonly policy: 'listed' | 'any' | 'none';
}

const toView = (tenantId: string, senders: readonly string[]): TenantSenders => ({
  tenantId,
  senders,
  policy: senderPolicy(tenantId, senders).kind,
});

/**
 * The senders each tenant may put in `from` (see sender-check.ts for the rule). A tenant's keys
 * read their own; operators read and set any tenant's, so a tenant cannot widen its own list.
 */
export const sendersRouter = router({
  list: scoped('read')
    .input(z.strictObject({ tenantId: tenantIdSchema.optional() }).optional())
    .query(async ({ ctx, input = {} }) => {
      const tenantId = input.tenantId ?? ctx.tenantId;
      if (tenantId !== ctx.tenantId && !ctx.operator) {
        throw missingScope(ctx.key, 'operator', "only an operator key reads another tenant's senders");
      }
      return toView(tenantId, await ctx.deps.store.listSenders(tenantId));
    }),

  /** Replaces the tenant's list: domains (`hotel.example`) and addresses; `[]` removes them all. */
  set: scoped('operator')
    .input(z.strictObject({ tenantId: tenantIdSchema, senders: z.array(z.string().max(320)).max(1000) }))
    .mutation(async ({ ctx, input }) => {
      const senders = await ctx.deps.store.setSenders(input.tenantId, input.senders);
      ctx.senders.forget(input.tenantId);
      return toView(input.tenantId, senders);
    }),
});
