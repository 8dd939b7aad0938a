import type { StoreContext } from './context.js';

export interface EventCountApi {
  /**
   * Stored provider events by normalized type, ever. Event rows are never deleted, so each
   * count only grows: /metrics exposes it as a counter without coupling to ingestion.
   */
  countEventsByType(): Promise<Record<string, number>>;
}

export function createEventCountApi(ctx: StoreContext): EventCountApi {
  return {
    async countEventsByType() {
      const groups = await ctx.db.event.groupBy({ by: ['type'], _count: { _all: true } });
      return Object.fromEntries(groups.map((group) => [group.type, group._count._all]));
    },
  };
}
