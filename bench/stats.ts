/**
 * Percentiles and medians. Samples per step are a few tens of thousands, so sorting a copy is simpler and exact,
 * and cheaper to trust than a sketch.
 */
import type { Percentiles } from "./protocol.js";

/** Nearest-rank percentile of already sorted samples; NaN when there are none. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** p50, p99 and max of the samples, rounded to 0.1 ms. */
export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    p50: round(percentileOfSorted(sorted, 50)),
    p99: round(percentileOfSorted(sorted, 99)),
    max: round(percentileOfSorted(sorted, 100)),
  };
}

/** The median of the values (NaN when empty); used to summarise repeated runs on a noisy machine. */
export function median(values: readonly number[]): number {
  return percentileOfSorted(Float64Array.from(values).sort(), 50);
}
