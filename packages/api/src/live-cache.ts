import type { LiveOverview } from './routers/live.js';

/** Snapshots younger than this are shared: every console of one tenant costs one set of queries per second. */
const SHARE_MS = 900;

/**
 * Counting every status reads all of a tenant's messages (about a second for a million on
 * SQLite, test/bench/console.ts): the full counts are taken this often, the unsent ones (an
 * index range) every check.
 */
export const FULL_COUNTS_EVERY_MS = 15_000;

export interface LiveCache {
  overview(tenantId: string, operator: boolean, compute: () => Promise<LiveOverview>): Promise<LiveOverview>;
  /** The tenant's full counts by status, taken at most every FULL_COUNTS_EVERY_MS. */
  fullCounts(tenantId: string, compute: () => Promise<LiveOverview['counts']>): Promise<LiveOverview['counts']>;
}

/** Shared by every request one context factory serves. */
export function createLiveCache(): LiveCache {
  const entries = new Map<string, { readonly at: number; readonly value: Promise<LiveOverview> }>();
  const counts = new Map<string, { readonly at: number; readonly value: Promise<LiveOverview['counts']> }>();
  return {
    fullCounts(tenantId, compute) {
      const now = performance.now();
      const hit = counts.get(tenantId);
      if (hit && now - hit.at < FULL_COUNTS_EVERY_MS) return hit.value;
      const value = compute();
      counts.set(tenantId, { at: now, value });
      value.catch(() => counts.delete(tenantId));
      if (counts.size > 1_000) counts.clear();
      return value;
    },
    overview(tenantId, operator, compute) {
      const key = `${operator ? 'operator' : 'tenant'}|${tenantId}`;
      const now = performance.now();
      const hit = entries.get(key);
      if (hit && now - hit.at < SHARE_MS) return hit.value;
      const value = compute();
      entries.set(key, { at: now, value });
      // A failed read is not shared: the next subscriber asks again.
      value.catch(() => entries.delete(key));
      if (entries.size > 1_000) entries.clear();
      return value;
    },
  };
}
