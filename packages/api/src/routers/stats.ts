import { unsentStatuses } from '@mailroute/core';
import { router, scoped } from '../trpc.js';

export const statsRouter = router({
  /** The caller's tenant: messages by status, queue depth (not yet handed to a provider) and how late the oldest is. */
  overview: scoped('read').query(async ({ ctx }) => {
    const scope = { tenantId: ctx.tenantId };
    const [counts, oldestUnsentAt] = await Promise.all([ctx.deps.store.countByStatus(scope), ctx.deps.store.oldestUnsentAt(scope)]);
    const at = ctx.now();
    return {
      at,
      counts,
      total: Object.values(counts).reduce((sum, count) => sum + count, 0),
      queueDepth: unsentStatuses.reduce((sum, status) => sum + counts[status], 0),
      ...(oldestUnsentAt === undefined ? {} : { oldestUnsentAt, oldestUnsentAgeMs: Math.max(0, at - oldestUnsentAt) }),
    };
  }),
});
