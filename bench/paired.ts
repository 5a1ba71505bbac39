import type { BenchConfig } from './config.js';
import type { Row } from './results.js';
import type { Schedule, Throughput } from './scenarios.js';
import { figure, type Figure } from './stats.js';

/**
 * Two builds or settings of our own server compared: many short runs
 * rather than three long ones, after a common warm-up, since a few per
 * cent is the question and on this kind of machine speed drifts by more
 * than that within a minute. A multiple of three, so with the baseline
 * beside them each server leads the rotation equally often.
 */
export const fineSchedule = (config: BenchConfig): Schedule =>
  config.quick ? config : { runs: 15, warmupMs: 300, durationMs: 1_500, settleMs: 3_000 };

/**
 * The median of the runs' own ratios, a ÷ b: both ran in the same rotation
 * round, seconds apart, so the machine's drift over the scenario cancels
 * out of each pair, where it stays in a ratio of two medians.
 */
export const pairedRatio = (a: Figure, b: Figure): number => figure(a.runs.map((value, run) => value / b.runs[run]!)).median;

export type Pairing = Readonly<{
  scenario: string;
  metric: string;
  /** What the measured server is, and what it is compared with: "cache on", "cache off". */
  label: string;
  against: string;
  /** The target: req/s at least this share of the other's, CPU per request at most its inverse. */
  atLeast: number;
}>;

/** One server against another in the same runs: requests per second, and the server's CPU time per request, each judged by its paired ratio. */
export function pairedRows({ scenario, metric, label, against, atLeast }: Pairing, a: Throughput, b: Throughput): Row[] {
  const speed = pairedRatio(a.rps, b.rps);
  const cost = pairedRatio(a.cpuUs, b.cpuUs);
  return [
    {
      scenario,
      metric: `${metric}, ${label} (baseline column: ${against}, same runs)`,
      unit: 'req/s',
      ours: a.rps,
      baseline: b.rps,
      target: { text: `≥ ${atLeast}× ${against} (paired runs: ${speed.toFixed(2)}×)`, met: speed >= atLeast },
      errors: a.errors + b.errors,
    },
    {
      scenario,
      metric: `${metric}, server CPU per request, ${label} (baseline column: ${against}, same runs)`,
      unit: 'µs',
      ours: a.cpuUs,
      baseline: b.cpuUs,
      target: { text: `≤ ${(1 / atLeast).toFixed(2)}× ${against} (paired runs: ${cost.toFixed(2)}×)`, met: cost <= 1 / atLeast },
      errors: 0,
    },
  ];
}
