import type { Figure } from './stats.js';

/** One line of the results table. Speed figures carry the baseline measured in the same run. */
export type Row = Readonly<{
  scenario: string;
  metric: string;
  unit: string;
  ours: Figure;
  baseline?: Figure;
  /** Latency percentiles (ms) as "p50 / p99", ours and baseline. */
  latency?: Readonly<{ ours: string; baseline?: string }>;
  target?: Readonly<{ text: string; met: boolean }>;
  /** Wrong answers seen while measuring; any makes the figure void. */
  errors: number;
  note?: string;
}>;

export type Results = {
  rows: Row[];
  problems: string[];
};

export const ratioOf = (row: Row): number | undefined => (row.baseline ? row.ours.median / row.baseline.median : undefined);
