/**
 * `npm run bench [-- --quick] [-- --cpu-prof DIR]`: starts the real server and
 * the baseline as child processes on loopback, drives them from a separate
 * load-generator process, prints the table and writes the report.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchConfig } from './config.js';
import { forkLoadGenerator } from './load.js';
import { writeReport } from './report.js';
import type { Results } from './results.js';
import { oursOf, rebuild, speedRow, throughput } from './scenarios.js';
import { readYourWrites, readModelQueriesPerRequest } from './scenarios-live.js';
import { fanOut } from './scenarios-fanout.js';
import { longStreams } from './scenarios-long-streams.js';
import { onlineRebuild } from './scenarios-online-rebuild.js';
import { hotReads } from './scenarios-hot-reads.js';
import { sealingCost } from './scenarios-sealing.js';
import { startThrowawayPostgres } from '../scripts/throwaway-postgres.js';
import { openPostgres } from '../src/stores/postgres/database.js';
import { createPostgresEventStore } from '../src/stores/postgres/event-store.js';
import { randomBytes } from 'node:crypto';
import { masterKey } from '../src/kernel/crypto/master-key.js';
import { seedUsers, seedUsersInto } from './seed.js';
import { buildServers, startServer, type BenchServer } from './servers.js';
import { figure } from './stats.js';

const config = benchConfig(process.argv.slice(2));
const results: Results = { rows: [], problems: [] };
const work = mkdtempSync(join(tmpdir(), 'cqrs-bench-'));
const load = forkLoadGenerator();
const log = (text: string) => process.stderr.write(`${text}\n`);
const n = (count: number) => (count >= 1e6 ? `10⁶` : count >= 1e4 && count % 1e4 === 0 && count < 1e5 ? `10⁴` : count.toLocaleString('en'));

/** Starts ours and the baseline, runs `body`, records each server's peak RSS (scenario 7), stops both. */
async function withServers<T>(
  label: string,
  dataDir: string,
  seeded: number,
  body: (ours: BenchServer, baseline: BenchServer) => Promise<T>,
  oursEnv: Record<string, string> = {},
): Promise<T> {
  const ours = await startServer('ours', { dataDir, env: oursEnv, ...(config.cpuProfDir ? { cpuProfDir: config.cpuProfDir } : {}) });
  const baseline = await startServer('baseline', { env: { SEED_USERS: String(seeded) } });
  try {
    return await body(ours, baseline);
  } finally {
    results.rows.push({
      scenario: '7 peak memory',
      metric: `server RSS: ${label}`,
      unit: 'MB',
      ours: figure([ours.peakRssMb()]),
      baseline: figure([baseline.peakRssMb()]),
      errors: 0,
    });
    await Promise.all([ours.stop(), baseline.stop()]);
  }
}

async function seeded(name: string, users: number): Promise<string> {
  const dir = join(work, name);
  mkdirSync(dir);
  const started = performance.now();
  await seedUsers(join(dir, 'events.db'), 1, users, (done) => process.stderr.write(`\rseeding ${name}: ${done} users`));
  log(`\rseeded ${users} users in ${((performance.now() - started) / 1000).toFixed(1)} s (events.db, through the store adapter)`);
  return dir;
}

async function queries(dir: string, users: number) {
  const measured = await withServers(`queries, ${n(users)} users`, dir, users, async (ours, baseline) => ({
    user: await throughput(config, load, [ours, baseline], 'user', users, results),
    users: await throughput(config, load, [ours, baseline], 'users', users, results),
  }));
  const target = { text: '≥ 0.8× baseline', ratio: 0.8 };
  results.rows.push(speedRow('2 queries', `user(id:), ${n(users)} users`, measured.user, target));
  results.rows.push(speedRow('2 queries', `users(first: 20), ${n(users)} users`, measured.users, target));
  return measured;
}

const wanted = (scenario: number) => !config.only || config.only.has(scenario);

async function main() {
  log(`bench (${config.quick ? 'quick' : 'full'}) in ${work}`);
  await buildServers();
  const small = await seeded('small', config.smallUsers);
  await rebuild(small);

  log('scenario 2/3: queries, small');
  const smallQueries = wanted(2) ? await queries(small, config.smallUsers) : undefined;
  if (wanted(3)) await batching(small);
  if (wanted(1)) await mutations(small);
  if (wanted(4)) {
    log('scenario 4: read-your-writes');
    results.rows.push(...(await readYourWrites(config, load, small, results)));
  }
  if (wanted(5)) {
    log('scenario 5: subscriptions, the ws floor, stalled subscribers');
    await fanOut(config, load, small, results, log);
  }
  if (wanted(8)) await postgres();
  if (wanted(10)) await hotReads(config, load, small, results, log, config.cpuProfDir);
  if (wanted(12)) await sealingCost(config, load, small, results, log);
  if (wanted(9)) {
    log('scenario 9: long streams (snapshots)');
    const dir = join(work, 'long-streams');
    mkdirSync(dir);
    await longStreams(config, dir, rebuild, results, log);
  }
  if (!wanted(2) && !wanted(6) && !wanted(11)) return;
  const large = await seeded('large', config.largeUsers);
  if (wanted(2) || wanted(6)) {
    log('scenario 6: rebuild');
    const rates: number[] = [];
    for (let run = 0; run < config.runs; run++) rates.push(await rebuild(large));
    const rebuildRate = figure(rates);
    results.rows.push({
      scenario: '6 rebuild',
      metric: `read model from ${n(config.largeUsers)} events`,
      unit: 'events/s',
      ours: rebuildRate,
      target: { text: '≥ 100,000 events/s', met: rebuildRate.median >= 100_000 },
      errors: 0,
    });
  }
  if (smallQueries) await largeQueries(large, smallQueries);
  if (wanted(11)) {
    log('scenario 11: rebuild beside the live read model, under query load');
    const ours = await startServer('ours', { dataDir: large });
    try {
      await onlineRebuild(config, load, ours, large, config.largeUsers, results, log);
    } finally {
      await ours.stop();
    }
  }
}

async function batching(small: string) {
  const fifty = await withServers('50 aliases', small, config.smallUsers, (ours, baseline) =>
    throughput(config, load, [ours, baseline], 'user50', config.smallUsers, results),
  );
  results.rows.push(speedRow('3 batching', 'request with 50 user(id:) aliases', fifty));
  results.rows.push(await readModelQueriesPerRequest(small));
}

async function mutations(small: string) {
  log('scenario 1: mutations');
  await withServers('mutations', small, config.smallUsers, async (ours, baseline) => {
    const target = { text: '≥ 0.5× baseline', ratio: 0.5 };
    const create = await throughput(config, load, [ours, baseline], 'createUser', config.smallUsers, results);
    results.rows.push(speedRow('1 mutations', 'createUser', create, target));
    const update = await throughput(config, load, [ours, baseline], 'updateUser', config.smallUsers, results);
    results.rows.push(speedRow('1 mutations', 'updateUser', update, target));
  });
}

/**
 * Scenario 8: the same mutations and lookups with the server on PostgreSQL
 * (a throwaway server with its default, durable settings), against the same
 * in-memory baseline in the same run. Skipped when PostgreSQL is not installed.
 */
async function postgres() {
  log('scenario 8: PostgreSQL');
  const server = await startThrowawayPostgres();
  if (!server) {
    log('  skipped: no PostgreSQL binaries (initdb, pg_ctl) on this machine');
    return;
  }
  try {
    const pool = openPostgres(server.url);
    const store = await createPostgresEventStore({ pool, connectionString: server.url });
    const benchKey = randomBytes(32);
    await seedUsersInto(store, 1, config.smallUsers, (done) => process.stderr.write(`\rseeding PostgreSQL: ${done} users`), masterKey(benchKey, 'bench'));
    log('');
    await store.close();
    await pool.end();
    const ours = await startServer('ours', { env: { DATABASE_URL: server.url, MASTER_KEY: benchKey.toString('base64') } });
    const baseline = await startServer('baseline', { env: { SEED_USERS: String(config.smallUsers) } });
    try {
      for (const [op, metric, target] of [
        ['createUser', 'createUser', { text: '≥ 0.5× baseline', ratio: 0.5 }],
        ['updateUser', 'updateUser', { text: '≥ 0.5× baseline', ratio: 0.5 }],
        ['user', `user(id:), ${n(config.smallUsers)} users`, { text: '≥ 0.8× baseline', ratio: 0.8 }],
      ] as const) {
        results.rows.push(speedRow('8 PostgreSQL', metric, await throughput(config, load, [ours, baseline], op, config.smallUsers, results), target));
      }
    } finally {
      results.rows.push({
        scenario: '8 PostgreSQL',
        metric: 'server RSS',
        unit: 'MB',
        ours: figure([ours.peakRssMb()]),
        baseline: figure([baseline.peakRssMb()]),
        errors: 0,
      });
      await Promise.all([ours.stop(), baseline.stop()]);
    }
  } finally {
    server.stop();
  }
}

async function largeQueries(large: string, smallQueries: Awaited<ReturnType<typeof queries>>) {
  log('scenario 2: queries, large');
  const largeQueries = await queries(large, config.largeUsers);
  for (const op of ['user', 'users'] as const) {
    const growth = oursOf(largeQueries[op]).p50.median / oursOf(smallQueries[op]).p50.median;
    results.rows.push({
      scenario: '2 queries',
      metric: `${op}: p50 latency at ${n(config.largeUsers)} ÷ at ${n(config.smallUsers)} users`,
      unit: '×',
      ours: figure([growth]),
      target: { text: '≤ 1.2×', met: growth <= 1.2 },
      errors: 0,
    });
  }
  const largeRss = results.rows.find((row) => row.metric === `server RSS: queries, ${n(config.largeUsers)} users`)!;
  results.rows.push({
    ...largeRss,
    scenario: '2 queries',
    target: { text: '< 300 MB', met: largeRss.ours.median < 300 },
  });
}

main()
  .then(async () => {
    const wrong = results.rows.filter((row) => row.errors > 0);
    await writeReport(config, results);
    if (wrong.length > 0) {
      log(`\n${wrong.length} figure(s) void: wrong answers while measuring:\n${results.problems.join('\n')}`);
      process.exitCode = 1;
    }
  })
  .catch((error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  })
  .finally(() => {
    load.close();
    rmSync(work, { recursive: true, force: true });
  });
