import { cpSync } from 'node:fs';
import type { BenchConfig } from './config.js';
import type { LoadGenerator } from './load.js';
import type { OperationName } from './operations.js';
import { fineSchedule, pairedRows } from './paired.js';
import type { Results } from './results.js';
import { againstBaseline, speedRow, throughput } from './scenarios.js';
import { startServer } from './servers.js';
import { figure } from './stats.js';

/** "Within noise" for the cache's cost on misses and writes: its median at least this share of the cache-off one. */
const NO_SLOWER = 0.95;
/** The cache's memory target: peak RSS with it on, at most this many times the peak with it off. */
const RSS_AT_MOST = 1.3;

/**
 * Scenario 10: hot reads (1,000 users and 50 pages read with a Zipf
 * distribution, 1% writes), then cold (uniform) reads and updates. Two of
 * our servers, the response cache on (the default) and off, each on its own
 * copy of the data, run beside the baseline, and every run of every
 * operation goes through all three in turn: the cache's cost on misses and
 * writes, and its memory, are compared within the same runs, not across
 * two sessions of a noisy machine, and in rotating order.
 */
export async function hotReads(
  config: BenchConfig,
  load: LoadGenerator,
  small: string,
  results: Results,
  log: (text: string) => void,
  cpuProfDir: string | undefined,
): Promise<void> {
  log('scenario 10: hot reads (response cache on and off)');
  const offDir = `${small}-cache-off`;
  cpSync(small, offDir, { recursive: true });
  const prof = cpuProfDir ? { cpuProfDir } : {};
  const on = await startServer('ours', { dataDir: small, ...prof });
  const off = await startServer('ours', { dataDir: offDir, env: { RESPONSE_CACHE: 'false' }, ...prof });
  const baseline = await startServer('baseline', { env: { SEED_USERS: String(config.smallUsers) } });
  const measure = (op: OperationName, noSlower: boolean) =>
    throughput(config, load, [on, off, baseline], op, config.smallUsers, results, noSlower ? fineSchedule(config) : config);
  try {
    const rows: [string, OperationName, { text: string; ratio: number } | undefined, boolean][] = [
      ['hot user(id:), Zipf over 1,000, 1% writes', 'hotUser', { text: '≥ 2.0× baseline', ratio: 2 }, false],
      ['hot users(first: 20), Zipf over 50 pages, 1% writes', 'hotUsers', { text: '≥ 1.5× baseline', ratio: 1.5 }, false],
      [`user(id:), uniform over ${config.smallUsers.toLocaleString('en')} (all fit in the cache)`, 'user', undefined, true],
      // Random cursors over 10,000 users: nearly every ask is a miss, the cache's cost on cold reads.
      ['cold users(first: 20)', 'users', undefined, true],
      ['updateUser', 'updateUser', undefined, true],
    ];
    for (const [metric, op, target, noSlower] of rows) {
      const measured = await measure(op, noSlower);
      results.rows.push(speedRow('10 hot reads', `${metric}, cache on`, againstBaseline(measured, on, baseline), target));
      results.rows.push(speedRow('10 hot reads', `${metric}, cache off`, againstBaseline(measured, off, baseline)));
      if (noSlower) {
        const pairing = { scenario: '10 hot reads', metric, label: 'cache on', against: 'cache off', atLeast: NO_SLOWER };
        results.rows.push(...pairedRows(pairing, measured.get(on)!, measured.get(off)!));
      }
    }
  } finally {
    const [onRss, offRss, baselineRss] = [on, off, baseline].map((server) => server.peakRssMb()) as [number, number, number];
    for (const [label, rss] of [['cache on', onRss], ['cache off', offRss]] as const) {
      results.rows.push({ scenario: '7 peak memory', metric: `server RSS: hot reads, ${label}`, unit: 'MB', ours: figure([rss]), baseline: figure([baselineRss]), errors: 0 });
    }
    results.rows.push({
      scenario: '10 hot reads',
      metric: 'peak server RSS, cache on (baseline column: cache off, same runs)',
      unit: 'MB',
      ours: figure([onRss]),
      baseline: figure([offRss]),
      target: { text: `≤ ${RSS_AT_MOST}× cache off`, met: onRss <= RSS_AT_MOST * offRss },
      errors: 0,
    });
    await Promise.all([on.stop(), off.stop(), baseline.stop()]);
  }
}
