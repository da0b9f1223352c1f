/**
 * Percentiles of timing samples, nearest-rank, as the benchmarks report them.
 *
 * @module
 */

/**
 * The `p`-th percentile (0..100) of `samples` by nearest rank; 0 for no samples.
 *
 * @example
 * percentile([5, 1, 3], 50); // 3
 */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((x, y) => x - y);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

/** Rounds to a fixed number of decimals, for JSON that stays readable. */
export function round(value: number, decimals = 2): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
