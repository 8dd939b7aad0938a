import { apiKeyScopes } from '@mailroute/store';
import { z } from 'zod';
import { apiError } from '../errors.js';
import { idSchema } from '../inputs.js';
import { router, scoped } from '../trpc.js';

/** A key manages the keys of its own tenant only; another tenant's key id is NOT_FOUND. */
export const keysRouter = router({
  /** The answer's `key` is the only time the secret is shown. */
  create: scoped('admin')
    .input(z.strictObject({ name: z.string().min(1).max(100), scopes: z.array(z.enum(apiKeyScopes)).min(1).max(apiKeyScopes.length) }))
    .mutation(({ ctx, input }) => ctx.deps.store.createApiKey({ ...input, tenantId: ctx.tenantId })),

  list: scoped('admin').query(({ ctx }) => ctx.deps.store.listApiKeys({ tenantId: ctx.tenantId })),

  revoke: scoped('admin')
    .input(z.strictObject({ id: idSchema }))
    .mutation(async ({ ctx, input }) => {
      const keys = await ctx.deps.store.listApiKeys({ tenantId: ctx.tenantId });
      if (!keys.some((key) => key.id === input.id)) throw apiError('NOT_FOUND', `no API key with id ${input.id}`);
      const revoked = await ctx.deps.store.revokeApiKey(input.id);
      ctx.keys.forget(input.id);
      return revoked;
    }),
});
