import { spawn } from 'node:child_process';
import type { BenchConfig } from './config.js';
import type { LoadGenerator } from './load.js';
import type { Results } from './results.js';
import type { BenchServer } from './servers.js';
import { figure, percentile } from './stats.js';

const ROOT = new URL('..', import.meta.url).pathname;

/**
 * Scenario 11: `npm run rebuild -- users` on a live server (README "Rebuilds
 * and new projections"): the server builds the read model beside the live
 * one from the whole log, then switches. Measured: how long the command
 * takes from request to switch while the server answers `user(id:)` at full
 * load, and that query's p99 before the build and during it (the switch's
 * pause included, since it falls inside the build).
 */
export async function onlineRebuild(
  config: BenchConfig,
  load: LoadGenerator,
  ours: BenchServer,
  dataDir: string,
  events: number,
  results: Results,
  log: (text: string) => void,
): Promise<void> {
  const queryLoad = (durationMs: number) =>
    load.run({ type: 'http', url: ours.url, op: 'user', connections: config.connections, warmupMs: 0, durationMs, seededUsers: events });

  const before = await queryLoad(config.durationMs);
  const started = performance.now();
  const command = runRebuildCommand(dataDir);
  let finished = false;
  void command.finally(() => (finished = true));
  const during: number[] = [];
  let errors = before.errors;
  while (!finished) {
    const slice = await queryLoad(1_000);
    during.push(...slice.latencies);
    errors += slice.errors;
  }
  await command;
  const seconds = (performance.now() - started) / 1000;
  log(`  online rebuild of ${events} events took ${seconds.toFixed(1)} s while serving ${during.length} queries`);

  const [p99Before, p99During] = [percentile(before.latencies, 99), percentile(during, 99)];
  results.rows.push(
    {
      scenario: '11 online rebuild',
      metric: `users read model built beside the live one: ${events.toLocaleString('en')} events, serving user(id:)`,
      unit: 'events/s',
      ours: figure([events / seconds]),
      errors,
      note: `${seconds.toFixed(1)} s from request to switch`,
    },
    {
      scenario: '11 online rebuild',
      metric: 'user(id:) p99 during the build ÷ before it',
      unit: '×',
      ours: figure([p99During / p99Before]),
      errors: 0,
      note: `p99 ${p99Before.toFixed(2)} ms before, ${p99During.toFixed(2)} ms during (max ${Math.max(...during).toFixed(1)} ms)`,
    },
  );
}

/** The real command against the live server's DATA_DIR: it asks the server to build beside and returns after the switch. */
function runRebuildCommand(dataDir: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'rebuild', 'users'], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rebuild beside the live server failed (${code}): ${stderr.slice(-500)}`)))),
  );
}
