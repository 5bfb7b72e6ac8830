/** Order statistics for the benchmark's samples. */

/** The q-quantile (0 ≤ q ≤ 1) by linear interpolation between closest ranks; NaN when empty. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const median = (values: ArrayLike<number>) => quantile(values, 0.5);

/** Median of the finite values; NaN when there are none. */
export function medianOf(values: number[]): number {
  return median(values.filter((v) => Number.isFinite(v)));
}
