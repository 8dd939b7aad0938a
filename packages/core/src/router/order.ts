export type RoutingStrategy = 'priority' | 'weighted';

export interface Weighted {
  readonly weight: number;
}

/**
 * The order in which to try providers for one message. `priority` keeps configuration
 * order. `weighted` draws a weighted random permutation (Efraimidis-Spirakis: smallest
 * -ln(U)/w first), so the first choice is proportional to weight and the rest stay in
 * reach as failover; weight 0 providers come last, as pure standbys.
 */
export function routeOrder<T extends Weighted>(entries: readonly T[], strategy: RoutingStrategy, random: () => number): T[] {
  if (strategy === 'priority' || entries.length < 2) return [...entries];
  const active: { entry: T; key: number }[] = [];
  const standby: T[] = [];
  for (const entry of entries) {
    if (entry.weight > 0) active.push({ entry, key: -Math.log(1 - random()) / entry.weight });
    else standby.push(entry);
  }
  active.sort((a, b) => a.key - b.key);
  return [...active.map((item) => item.entry), ...standby];
}
