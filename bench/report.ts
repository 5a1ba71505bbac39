import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { headlineSvg, toPng } from './chart.js';
import type { BenchConfig } from './config.js';
import { describeMachine } from './machine.js';
import { ratioOf, type Results, type Row } from './results.js';
import type { Figure } from './stats.js';

const ROOT = new URL('..', import.meta.url).pathname;
const START = '<!-- results:start (written by npm run bench) -->';
const END = '<!-- results:end -->';

const number = (value: number) =>
  !Number.isFinite(value) ? '–' : Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en') : value.toFixed(value >= 10 ? 1 : 2);
const spread = (f: Figure) => (f.runs.length > 1 ? `${number(f.median)} (${number(f.min)}–${number(f.max)})` : number(f.median));

function cells(row: Row): string[] {
  const ratio = ratioOf(row);
  return [
    row.scenario,
    row.metric,
    row.errors > 0 ? `VOID (${row.errors} wrong answers)` : `${spread(row.ours)} ${row.unit}`,
    row.baseline ? `${spread(row.baseline)} ${row.unit}` : '',
    ratio === undefined ? '' : `${ratio.toFixed(2)}×`,
    row.latency ? `${row.latency.ours}${row.latency.baseline ? ` vs ${row.latency.baseline}` : ''}` : (row.note ?? ''),
    row.target ? `${row.target.met ? 'met' : 'MISSED'}: ${row.target.text}` : '',
  ];
}

const HEADERS = ['scenario', 'figure', 'ours: median (min–max)', 'baseline', 'ratio', 'p50 / p99 ms (ours vs baseline)', 'target'];

function markdownTable(rows: readonly Row[]): string {
  const lines = [HEADERS, HEADERS.map(() => '---'), ...rows.map(cells)];
  return lines.map((line) => `| ${line.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`).join('\n');
}

function consoleTable(rows: readonly Row[]): string {
  const lines = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...lines.map((line) => line[i]!.length)));
  return lines.map((line) => line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
}

/** Prints the table; writes BENCHMARKS.md (the results section only) and the chart. Quick runs write to a temp dir. */
export async function writeReport(config: BenchConfig, results: Results): Promise<void> {
  const rows = [...results.rows].sort((a, b) => a.scenario.localeCompare(b.scenario, 'en', { numeric: true }));
  const machine = describeMachine();
  process.stdout.write(`\n${consoleTable(rows)}\n`);

  // Smoke runs and partial runs (--only) never overwrite the published report.
  const scratch = config.quick || config.only !== undefined;
  const outDir = scratch ? join(tmpdir(), config.quick ? 'cqrs-bench-quick' : 'cqrs-bench-partial') : ROOT;
  const chartDir = scratch ? outDir : join(ROOT, 'docs', 'benchmarks');
  mkdirSync(chartDir, { recursive: true });
  const svg = headlineSvg(rows, `cqrs-graphql vs bare graphql-yoga — ${machine.cpus} cores, Node ${machine.node}`);
  writeFileSync(join(chartDir, 'headline.svg'), svg);
  const png = await toPng(svg);
  if (png) writeFileSync(join(chartDir, 'headline.png'), png);
  writeFileSync(join(chartDir, 'results.json'), JSON.stringify({ machine, config, rows }, null, 2));

  const section = [
    START,
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench${config.quick ? ' -- --quick' : ''}\`` +
      ` (${config.runs} runs of ${config.durationMs / 1000} s per figure after ${config.warmupMs / 1000} s warm-up, ${config.connections} connections).`,
    '',
    `Machine: ${machine.cpus} CPUs (${machine.cpu}), ${machine.memoryGb} GB memory, Node ${machine.node}; load average when the report was written: ${machine.loadavg}.`,
    '',
    markdownTable(rows),
    '',
    `![Headline figures as ratios of the baseline](${scratch ? 'headline' : 'docs/benchmarks/headline'}.${png ? 'png' : 'svg'})`,
    END,
  ].join('\n');
  const file = join(outDir, 'BENCHMARKS.md');
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`;
  const [before, rest] = previous.includes(START) ? previous.split(START) : [`${previous}\n`, END];
  const after = rest!.includes(END) ? rest!.slice(rest!.indexOf(END) + END.length) : '';
  writeFileSync(file, `${before}${section}${after}`);
  process.stderr.write(`\nwrote ${file} and ${join(chartDir, png ? 'headline.png' : 'headline.svg')}\n`);
}
