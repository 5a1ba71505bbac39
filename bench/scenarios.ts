import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import type { BenchConfig } from './config.js';
import type { LoadGenerator } from './load.js';
import type { OperationName } from './operations.js';
import type { Results, Row } from './results.js';
import type { BenchServer } from './servers.js';
import { figure, percentile, type Figure } from './stats.js';

const ROOT = new URL('..', import.meta.url).pathname;
const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

export type Throughput = Readonly<{
  rps: Figure;
  p50: Figure;
  p99: Figure;
  /** The server's CPU time per answered request over the measured window, in µs: steadier than req/s when other work shares the machine. */
  cpuUs: Figure;
  errors: number;
}>;

/** How many runs of each server, and how long each warms up and measures; the config's figures unless a scenario needs finer ones. */
export type Schedule = Readonly<{
  runs: number;
  warmupMs: number;
  durationMs: number;
  /** An unmeasured run of each server first, this long, so no server's first measured runs carry its JIT and cache warm-up. */
  settleMs?: number;
}>;

/**
 * Closed-loop requests/s of one operation against each server, runs
 * interleaved so a burst of outside load hits all of them. The order
 * rotates from run to run (A B C, B C A, C A B, …): in a fixed order the
 * first server always meets a machine that has just sat idle, or a
 * collector woken by the last one, and a few per cent of bias between two
 * of our own servers is the whole question scenario 10 asks.
 */
export async function throughput(
  config: BenchConfig,
  load: LoadGenerator,
  servers: readonly BenchServer[],
  op: OperationName,
  seededUsers: number,
  results: Results,
  schedule: Schedule = config,
): Promise<Map<BenchServer, Throughput>> {
  const runs = new Map(servers.map((server) => [server, { rps: [] as number[], p50: [] as number[], p99: [] as number[], cpuUs: [] as number[], errors: 0 }]));
  if (schedule.settleMs) {
    for (const server of servers) {
      await load.run({ type: 'http', url: server.url, op, connections: config.connections, warmupMs: 0, durationMs: schedule.settleMs, seededUsers });
    }
  }
  for (let run = 0; run < schedule.runs; run++) {
    const order = [...servers.slice(run % servers.length), ...servers.slice(0, run % servers.length)];
    for (const server of order) {
      const result = await load.run({
        type: 'http',
        url: server.url,
        op,
        connections: config.connections,
        warmupMs: schedule.warmupMs,
        durationMs: schedule.durationMs,
        seededUsers,
        serverPid: server.pid,
      });
      const own = runs.get(server)!;
      own.rps.push(result.ok / result.seconds);
      own.cpuUs.push(((result.serverCpuSeconds ?? NaN) * 1e6) / result.ok);
      own.p50.push(percentile(result.latencies, 50));
      own.p99.push(percentile(result.latencies, 99));
      own.errors += result.errors;
      for (const problem of result.problems) results.problems.push(`${server.kind} ${op}: ${problem}`);
    }
  }
  return new Map(
    [...runs].map(([server, r]) => [server, { rps: figure(r.rps), p50: figure(r.p50), p99: figure(r.p99), cpuUs: figure(r.cpuUs), errors: r.errors }]),
  );
}

/** One of our servers and the baseline, out of runs that measured more servers: what `speedRow` compares. */
export const againstBaseline = (measured: Map<BenchServer, Throughput>, server: BenchServer, baseline: BenchServer): Map<BenchServer, Throughput> =>
  new Map([
    [server, measured.get(server)!],
    [baseline, measured.get(baseline)!],
  ]);

export const oursOf = (measured: Map<BenchServer, Throughput>): Throughput =>
  [...measured].find(([server]) => server.kind === 'ours')![1];

/** A table row comparing our server with the baseline on one operation. */
export function speedRow(
  scenario: string,
  metric: string,
  measured: Map<BenchServer, Throughput>,
  target?: { text: string; ratio: number },
): Row {
  const [ours, baseline] = [...measured.entries()].sort(([a], [b]) => (a.kind === 'ours' ? -1 : b.kind === 'ours' ? 1 : 0));
  const o = ours![1];
  const b = baseline?.[1];
  const ratio = b ? o.rps.median / b.rps.median : NaN;
  return {
    scenario,
    metric,
    unit: 'req/s',
    ours: o.rps,
    ...(b ? { baseline: b.rps } : {}),
    latency: {
      ours: `${fmt(o.p50.median)} / ${fmt(o.p99.median)}`,
      ...(b ? { baseline: `${fmt(b.p50.median)} / ${fmt(b.p99.median)}` } : {}),
    },
    ...(target ? { target: { text: target.text, met: ratio >= target.ratio } } : {}),
    errors: o.errors + (b?.errors ?? 0),
  };
}

/** Runs the real `rebuild` command (its progress bar shows on this terminal); returns events/s. */
export async function rebuild(dataDir: string): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'rebuild'], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += String(chunk);
    process.stderr.write(chunk);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const rate = /\((\d+) events\/s\)/.exec(stderr)?.[1];
  if (code !== 0 || rate === undefined) throw new Error(`rebuild failed (${code}): ${stderr.slice(-500)}`);
  return Number(rate);
}

/** Samples a server's RSS until stopped: flat memory means the last samples match the first. */
export function sampleRss(server: BenchServer, everyMs = 250) {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      samples.push(server.rssMb());
      await delay(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

export { fmt };
