import { type ApiKeyRecord, apiKeyScopes } from '@mailroute/store';
import { z } from 'zod';
import { apiError } from '../errors.js';
import { idSchema, tenantIdSchema } from '../inputs.js';
import { missingScope, router, scoped } from '../trpc.js';

/**
 * An `admin` key manages the keys of its own tenant, except operator keys; another tenant's key
 * id is NOT_FOUND. An `operator` key manages every tenant's keys, operator keys included.
 */
export const keysRouter = router({
  /** The answer's `key` is the only time the secret is shown. `tenantId` (operators only) makes the key for another tenant. */
  create: scoped('admin')
    .input(
      z.strictObject({
        name: z.string().min(1).max(100),
        scopes: z.array(z.enum(apiKeyScopes)).min(1).max(apiKeyScopes.length),
        tenantId: tenantIdSchema.optional(),
      }),
    )
    .mutation(({ ctx, input }) => {
      const tenantId = input.tenantId ?? ctx.tenantId;
      if (!ctx.operator && input.scopes.includes('operator')) {
        throw missingScope(ctx.key, 'operator', 'only an operator key creates operator keys');
      }
      if (!ctx.operator && tenantId !== ctx.tenantId) {
        throw missingScope(ctx.key, 'operator', 'only an operator key creates keys for another tenant');
      }
      return ctx.deps.store.createApiKey({ name: input.name, scopes: input.scopes, tenantId });
    }),

  /** The caller's tenant's keys; an operator may name another tenant (`tenantId`) or ask for every tenant (`allTenants`). */
  list: scoped('admin')
    .input(z.strictObject({ tenantId: tenantIdSchema.optional(), allTenants: z.boolean().optional() }).optional())
    .query(({ ctx, input = {} }): Promise<ApiKeyRecord[]> => {
      const wide = input.allTenants === true || (input.tenantId !== undefined && input.tenantId !== ctx.tenantId);
      if (wide && !ctx.operator) throw missingScope(ctx.key, 'operator', "only an operator key lists another tenant's keys");
      if (input.allTenants) return ctx.deps.store.listApiKeys();
      return ctx.deps.store.listApiKeys({ tenantId: input.tenantId ?? ctx.tenantId });
    }),

  revoke: scoped('admin')
    .input(z.strictObject({ id: idSchema }))
    .mutation(async ({ ctx, input }) => {
      const keys = await ctx.deps.store.listApiKeys(ctx.operator ? {} : { tenantId: ctx.tenantId });
      const target = keys.find((key) => key.id === input.id);
      if (!target) throw apiError('NOT_FOUND', `no API key with id ${input.id}`);
      if (!ctx.operator && target.scopes.includes('operator')) {
        throw missingScope(ctx.key, 'operator', 'only an operator key revokes an operator key');
      }
      const revoked = await ctx.deps.store.revokeApiKey(input.id);
      ctx.keys.forget(input.id);
      return revoked;
    }),
});
