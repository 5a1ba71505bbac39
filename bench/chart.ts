import type { Row } from './results.js';
import { ratioOf } from './results.js';

/** Scenario 8 repeats scenario 1's operations on PostgreSQL: say so on its bars. */
const labelOf = (row: Row) => (row.scenario.includes('PostgreSQL') ? `PostgreSQL: ${row.metric}` : row.metric);

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The headline chart: each speed figure as a ratio of the baseline measured
 * in the same run (1.0 = as fast as a bare graphql-yoga server over a Map),
 * with its target marked. Plain SVG, no library.
 */
export function headlineSvg(rows: readonly Row[], title: string): string {
  const bars = rows.filter((row) => row.unit === 'req/s' && ratioOf(row) !== undefined);
  const width = 900;
  const labelWidth = 330;
  const barArea = width - labelWidth - 90;
  const rowHeight = 34;
  const top = 60;
  const height = top + bars.length * rowHeight + 50;
  const max = Math.max(1.2, ...bars.map((row) => ratioOf(row)!)) * 1.05;
  const x = (ratio: number) => labelWidth + (ratio / max) * barArea;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escape(title)}</text>`,
    `<text x="${width / 2}" y="44" text-anchor="middle" fill="#555">requests/s as a ratio of the bare graphql-yoga baseline, same run (median of runs; whiskers: min–max)</text>`,
  ];
  bars.forEach((row, i) => {
    const ratio = ratioOf(row)!;
    const y = top + i * rowHeight;
    const met = row.target ? row.target.met : true;
    const low = row.ours.min / row.baseline!.median;
    const high = row.ours.max / row.baseline!.median;
    parts.push(
      `<text x="${labelWidth - 10}" y="${y + 19}" text-anchor="end">${escape(labelOf(row))}</text>`,
      `<rect x="${labelWidth}" y="${y + 6}" width="${Math.max(1, x(ratio) - labelWidth)}" height="20" fill="${met ? '#2e7d32' : '#c62828'}"/>`,
      `<line x1="${x(low)}" x2="${x(high)}" y1="${y + 16}" y2="${y + 16}" stroke="#000" stroke-width="1.5"/>`,
      `<text x="${x(Math.max(ratio, high)) + 6}" y="${y + 21}">${ratio.toFixed(2)}×</text>`,
    );
    const target = /([0-9.]+)×/.exec(row.target?.text ?? '')?.[1];
    if (target) {
      parts.push(`<line x1="${x(Number(target))}" x2="${x(Number(target))}" y1="${y + 2}" y2="${y + 30}" stroke="#ff9800" stroke-width="2.5"/>`);
    }
  });
  const axisY = top + bars.length * rowHeight + 8;
  parts.push(`<line x1="${labelWidth}" x2="${labelWidth + barArea}" y1="${axisY}" y2="${axisY}" stroke="#333"/>`);
  for (let tick = 0; tick <= max; tick += 0.25) {
    parts.push(
      `<line x1="${x(tick)}" x2="${x(tick)}" y1="${axisY}" y2="${axisY + 5}" stroke="#333"/>`,
      `<text x="${x(tick)}" y="${axisY + 19}" text-anchor="middle" fill="#333">${tick.toFixed(2)}</text>`,
    );
  }
  parts.push(
    `<line x1="${x(1)}" x2="${x(1)}" y1="${top}" y2="${axisY}" stroke="#333" stroke-dasharray="4 3"/>`,
    `<text x="${labelWidth}" y="${height - 8}" fill="#555">green: target met · red: missed · orange mark: the target ratio · dashed: baseline (1.0)</text>`,
    '</svg>',
  );
  return parts.join('\n');
}

/** PNG through resvg (a prebuilt binary inside its npm package); null when it is not installed. */
export async function toPng(svg: string): Promise<Buffer | null> {
  try {
    const { Resvg } = await import('@resvg/resvg-js');
    return Buffer.from(new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng());
  } catch {
    return null;
  }
}
