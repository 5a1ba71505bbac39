/** Nearest-rank percentile of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** A figure measured over several runs: its median and the spread (min–max) of the runs. */
export type Figure = Readonly<{ median: number; min: number; max: number; runs: readonly number[] }>;

export function figure(runs: readonly number[]): Figure {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN, runs };
}

export type LatencySummary = Readonly<{ p50: number; p99: number; max: number; count: number }>;

export function summarize(latencies: readonly number[]): LatencySummary {
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100), count: latencies.length };
}
