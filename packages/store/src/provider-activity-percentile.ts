/**
 * The continuous percentile of sorted values, interpolated exactly as PostgreSQL's
 * `percentile_cont` does, so both databases give the same figure for the same rows.
 */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no values');
  const position = fraction * (sorted.length - 1);
  const lower = Math.floor(position);
  const first = sorted[lower] ?? 0;
  const second = sorted[Math.ceil(position)] ?? first;
  return first + (second - first) * (position - lower);
}
