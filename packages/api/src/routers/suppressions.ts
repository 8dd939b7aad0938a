import { z } from 'zod';
import { addressSchema, defined } from '../inputs.js';
import { router, scoped } from '../trpc.js';

export const suppressionsRouter = router({
  /** Newest first; an entry a provider event added (hard bounce, complaint, unsubscribe) names it as `eventId`. */
  list: scoped('admin')
    .input(
      z
        .strictObject({
          address: addressSchema.optional(),
          limit: z.number().int().min(1).max(500).optional(),
          cursor: z.string().min(1).max(100).optional(),
        })
        .optional(),
    )
    .query(({ ctx, input = {} }) => ctx.deps.store.listSuppressions({ ...defined(input), tenantId: ctx.tenantId })),

  /** Adding an address twice keeps the first entry (its reason is the one that matters). */
  add: scoped('admin')
    .input(z.strictObject({ address: addressSchema, reason: z.string().min(1).max(200) }))
    .mutation(({ ctx, input }) => ctx.deps.store.addSuppression({ ...input, source: `API key ${ctx.key.prefix}`, tenantId: ctx.tenantId })),

  remove: scoped('admin')
    .input(z.strictObject({ address: addressSchema }))
    .mutation(async ({ ctx, input }) => ({ removed: await ctx.deps.store.removeSuppression(input.address, { tenantId: ctx.tenantId }) })),
});
