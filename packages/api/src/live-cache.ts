import type { LiveOverview } from './routers/live.js';

/** Snapshots younger than this are shared: every console of one tenant costs one set of queries per second. */
const SHARE_MS = 900;

export interface LiveCache {
  overview(tenantId: string, operator: boolean, compute: () => Promise<LiveOverview>): Promise<LiveOverview>;
}

/** Shared by every request one context factory serves. */
export function createLiveCache(): LiveCache {
  const entries = new Map<string, { readonly at: number; readonly value: Promise<LiveOverview> }>();
  return {
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
