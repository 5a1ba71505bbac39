import { setTimeout as delay } from 'node:timers/promises';
import { modules } from '../src/modules.js';
import { loadConfig } from '../src/server/config.js';
import { createLogger } from '../src/server/logger.js';
import { startServer as startInProcess } from '../src/server/server.js';
import type { BenchConfig } from './config.js';
import { forkLoadGenerator, type LoadGenerator } from './load.js';
import { operation } from './operations.js';
import type { Results, Row } from './results.js';
import { fmt, sampleRss } from './scenarios.js';
import { startServer } from './servers.js';
import { figure, percentile, type Figure } from './stats.js';
import { laterPosition } from './positions.js';

/**
 * Scenario 3's count: read-model queries for one request with 50 `user(id:)`
 * aliases. Counted in-process through the server's `onReadModelQuery` hook
 * (the same one the tests use); the child-process server has no such counter.
 */
export async function readModelQueriesPerRequest(dataDir: string): Promise<Row> {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', GRAPHIQL: 'false' });
  let queries = 0;
  const server = await startInProcess(config, { logger: createLogger('silent'), modules, onReadModelQuery: () => (queries += 1) });
  try {
    const op = operation('user50', { seededUsers: 1000, runId: 'count' });
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(op.make(0, 0)),
    });
    const problem = op.check((await response.json()) as never);
    return {
      scenario: '3 batching',
      metric: 'read-model queries for 50 user(id:) aliases',
      unit: 'queries',
      ours: figure([queries]),
      target: { text: '1', met: queries === 1 && problem === null },
      errors: problem === null ? 0 : 1,
    };
  } finally {
    await server.close();
  }
}

/** Appends one event (a createUser) and returns its position: subscribers start right after it. */
export async function appendOne(url: string): Promise<string> {
  const op = operation('createUser', { seededUsers: 1, runId: `p${Math.random().toString(36).slice(2, 8)}` });
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(op.make(0, 0)) });
  const json = (await response.json()) as { data?: { createUser?: { position?: string } } };
  const position = json.data?.createUser?.position;
  if (!position) throw new Error(`priming createUser failed: ${JSON.stringify(json)}`);
  return position;
}

/**
 * Scenario 4. The wait is measured inside the server: each mutation logs (at
 * debug) how long it waited, after its commit, for every projection's
 * checkpoint to pass its position. Mutations arrive open-loop at a fixed rate.
 */
export async function readYourWrites(config: BenchConfig, load: LoadGenerator, dataDir: string, results: Results): Promise<Row[]> {
  const server = await startServer('ours', { dataDir, keepLogs: true, env: { LOG_LEVEL: 'debug' } });
  const p50: number[] = [];
  const p99: number[] = [];
  const rates: number[] = [];
  let errors = 0;
  let fallbacks = 0;
  let peakRss = NaN;
  try {
    for (let run = 0; run < config.runs; run++) {
      const from = server.logs.length;
      const result = await load.run({
        type: 'rate',
        url: server.url,
        op: 'updateUser',
        rate: config.rywRate,
        connections: 64,
        durationMs: config.rywDurationMs,
        seededUsers: config.smallUsers,
      });
      errors += result.errors;
      results.problems.push(...result.problems.map((p) => `ours rate updateUser: ${p}`));
      rates.push(result.ok / result.seconds);
      const logged = () => server.logs.slice(from).filter((entry) => entry['msg'] === 'read-your-writes wait');
      // The last log lines may still be in the pipe.
      for (let tries = 0; logged().length < result.ok && tries < 50; tries++) await delay(100);
      const waits = logged();
      fallbacks += waits.filter((entry) => entry['reached'] !== true).length;
      const ms = waits.map((entry) => Number(entry['waitedMs']));
      if (ms.length < result.ok) {
        errors += 1;
        results.problems.push(`read-your-writes: ${ms.length} wait lines logged for ${result.ok} mutations`);
      }
      p50.push(percentile(ms, 50));
      p99.push(percentile(ms, 99));
    }
  } finally {
    peakRss = server.peakRssMb();
    await server.stop();
  }
  const p99Figure = figure(p99);
  return [
    {
      scenario: '4 read-your-writes',
      metric: `commit → checkpoint wait at ${config.rywRate} mutations/s (achieved ${Math.round(figure(rates).median)}/s)`,
      unit: 'ms p99',
      ours: p99Figure,
      latency: { ours: `${fmt(figure(p50).median)} / ${fmt(p99Figure.median)}` },
      target: { text: 'p99 < 5 ms', met: p99Figure.median < 5 && fallbacks === 0 },
      errors,
      ...(fallbacks > 0 ? { note: `${fallbacks} mutations timed out waiting and answered from the stream` } : {}),
    },
    {
      scenario: '7 peak memory',
      metric: 'server RSS: read-your-writes',
      unit: 'MB',
      ours: figure([peakRss]),
      errors: 0,
    },
  ];
}

/**
 * Scenario 5. Subscribers run in their own process; a second process appends
 * events at a fixed rate through createUser. Delivery latency is from the
 * event's occurredAt (stamped by the server before the append) to arrival.
 */
export type SubscriptionRun = Readonly<{ rows: Row[]; cpuPerMessage: Figure; achievedRate: number; label: string }>;

export async function subscriptions(
  config: BenchConfig,
  load: LoadGenerator,
  dataDir: string,
  results: Results,
  /** Distinct operations the subscribers are spread over (see bench/load-worker.ts). */
  operations = 1,
): Promise<SubscriptionRun> {
  const server = await startServer('ours', { dataDir, ...(config.cpuProfDir ? { cpuProfDir: config.cpuProfDir } : {}) });
  const listeners = forkLoadGenerator();
  const p50: number[] = [];
  const p99: number[] = [];
  const lost: number[] = [];
  const rates: number[] = [];
  const cpuPerMessage: number[] = [];
  const memory: { start: number; end: number; peak: number }[] = [];
  let errors = 0;
  try {
    for (let run = 0; run < config.runs; run++) {
      const after = await appendOne(server.url);
      await listeners.run({ type: 'subscribe', url: server.url, count: config.subscribers, after, operations });
      process.stderr.write(`  run ${run + 1}: ${config.subscribers} subscribers connected\n`);
      const rss = sampleRss(server);
      const cpuBefore = server.cpuSeconds();
      const driver = await load.run({
        type: 'rate',
        url: server.url,
        op: 'createUser',
        rate: config.eventRate,
        connections: 8,
        durationMs: config.subscriptionDurationMs,
        seededUsers: 1,
      });
      const last = driver.positions.reduce(laterPosition, after);
      const received = await listeners.run({ type: 'finish', expected: driver.positions.length, lastPosition: last, graceMs: 30_000 });
      const samples = await rss.stop();
      // Includes the appends themselves, a small share next to a thousand deliveries each.
      cpuPerMessage.push(((server.cpuSeconds() - cpuBefore) * 1e6) / Math.max(1, driver.positions.length * config.subscribers));
      rates.push(driver.ok / driver.seconds);
      process.stderr.write(`  run ${run + 1}: ${driver.positions.length} events at ${Math.round(rates.at(-1)!)}/s, ${cpuPerMessage.at(-1)!.toFixed(1)} µs CPU per message, p99 ${received.latency.p99} ms, lost ${received.lost}\n`);
      memory.push({ start: samples[0]!, end: samples.at(-1)!, peak: Math.max(...samples) });
      errors += driver.errors + received.errors + received.outOfOrder;
      results.problems.push(...driver.problems, ...received.problems);
      p50.push(received.latency.p50);
      p99.push(received.latency.p99);
      lost.push(received.lost);
    }
  } finally {
    listeners.close();
    await server.stop();
  }
  const p99Figure = figure(p99);
  const lostFigure = figure(lost);
  // Flat means no growth from run to run. The first run starts from the idle server and V8
  // grows its heap to a working size during it, so its start is not the reference: its end is.
  const first = memory[0]!;
  const lastRun = memory.at(-1)!;
  const flat = lastRun.end <= first.end * 1.2 + 20;
  const spread = operations === 1 ? 'one shared operation' : `${operations} distinct operations`;
  const label = `${config.subscribers} subscribers on ${spread}, ${config.eventRate} events/s (achieved ${Math.round(figure(rates).median)}/s)`;
  const rows: Row[] = [
    {
      scenario: '5 subscriptions',
      metric: `delivery latency, ${label}`,
      unit: 'ms p99',
      ours: p99Figure,
      latency: { ours: `${fmt(figure(p50).median)} / ${fmt(p99Figure.median)}` },
      target: { text: 'p99 < 100 ms', met: p99Figure.median < 100 },
      errors,
    },
    {
      scenario: '5 subscriptions',
      metric: `events lost, ${label}`,
      unit: 'events',
      ours: lostFigure,
      target: { text: '0', met: lostFigure.max === 0 },
      errors: 0,
    },
    {
      scenario: '5 subscriptions',
      metric: `server RSS with subscribers on ${spread}, each run's end (peak)`,
      unit: 'MB',
      ours: figure(memory.map((m) => m.peak)),
      target: { text: 'flat', met: flat },
      errors: 0,
      note: `idle ${first.start.toFixed(0)}, then ${memory.map((m) => m.end.toFixed(0)).join(' → ')} MB`,
    },
  ];
  return { rows, cpuPerMessage: figure(cpuPerMessage), achievedRate: figure(rates).median, label };
}
