import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Durability } from '../src/stores/sqlite/database.js';
import { createSqliteEventStore } from '../src/stores/sqlite/event-store.js';
import { modules } from '../src/modules.js';
import { loadConfig } from '../src/server/config.js';
import { createLogger } from '../src/server/logger.js';
import { startServer } from '../src/server/server.js';

/**
 * What DURABILITY=fsync costs against the default, on this machine's disk:
 *   npm run bench:durability [-- --dir DIR --appends N --mutations N --rounds N]
 * Rounds alternate the two settings so that other load on a shared machine
 * hits both alike; the median round is reported.
 */
const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: tmpdir() },
    appends: { type: 'string', default: '2000' },
    mutations: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
  },
});
const appends = Number(values.appends);
const mutations = Number(values.mutations);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);

type Round = { appendsPerSecond: number; p50: number; p99: number; mutationsPerSecond: number };

/** Single-event appends, one transaction (one commit) each, one after another. */
async function appendThroughput(dir: string, durability: Durability): Promise<number> {
  const store = createSqliteEventStore({ path: join(dir, 'events.db'), durability });
  const started = performance.now();
  for (let i = 0; i < appends; i++) {
    const result = await store.append({
      streamId: `s${i}`,
      expectedVersion: 0,
      events: [{ type: 'Benchmarked', data: { i }, metadata: { occurredAt: new Date().toISOString() } }],
    });
    if (!result.ok) throw new Error(JSON.stringify(result.error));
  }
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  return appends / seconds;
}

/** createUser through the real server: latency one at a time, then throughput with concurrent clients. */
async function mutationCost(dir: string, durability: Durability) {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: dir, DURABILITY: durability, LOG_LEVEL: 'silent' });
  const server = await startServer(config, { logger: createLogger('silent'), modules });
  let n = 0;
  const createUser = async () => {
    const i = ++n;
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename } }`,
        variables: { input: { username: `bench_${i}`, email: `bench${i}@example.com` } },
      }),
    });
    const body = (await response.json()) as { data?: { createUser: { __typename: string } } };
    if (body.data?.createUser.__typename !== 'CreateUserSuccess') throw new Error(JSON.stringify(body));
  };
  try {
    const latencies: number[] = [];
    for (let i = 0; i < mutations; i++) {
      const started = performance.now();
      await createUser();
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    const started = performance.now();
    let left = mutations;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left-- > 0) await createUser();
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
    return { p50: at(0.5), p99: at(0.99), mutationsPerSecond: mutations / seconds };
  } finally {
    await server.close();
  }
}

async function round(durability: Durability): Promise<Round> {
  const dir = mkdtempSync(join(values.dir, 'bench-durability-'));
  try {
    const appendsPerSecond = await appendThroughput(dir, durability);
    for (const file of ['events.db', 'events.db-wal', 'events.db-shm']) rmSync(join(dir, file), { force: true });
    return { appendsPerSecond, ...(await mutationCost(dir, durability)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function filesystem(dir: string): string {
  try {
    const [, line] = execFileSync('df', ['-T', dir], { encoding: 'utf8' }).trim().split('\n');
    const [device, type] = line!.split(/\s+/);
    return `${type} on ${device}`;
  } catch {
    return 'unknown filesystem';
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const results: Record<Durability, Round[]> = { process: [], fsync: [] };
for (let r = 0; r < rounds; r++) {
  for (const durability of ['process', 'fsync'] as const) {
    results[durability].push(await round(durability));
    process.stderr.write('.');
  }
}
process.stderr.write('\n');

const cpu = cpus();
process.stdout.write(
  `machine: ${cpu.length} × ${cpu[0]?.model.trim()}, Linux ${release()}, Node ${process.version}; ${values.dir} is ${filesystem(values.dir)}\n` +
    `median of ${rounds} alternating rounds; ${appends} appends, ${mutations} createUser (sequential, then ${concurrency} concurrent clients)\n\n` +
    `| DURABILITY | appends/s (1 event, 1 commit each) | createUser p50 | createUser p99 | createUser/s, ${concurrency} clients |\n` +
    '|---|---|---|---|---|\n',
);
for (const durability of ['process', 'fsync'] as const) {
  const rs = results[durability];
  const pick = (key: keyof Round) => median(rs.map((r) => r[key]));
  process.stdout.write(
    `| \`${durability}\` | ${Math.round(pick('appendsPerSecond'))} | ${pick('p50').toFixed(2)} ms | ${pick('p99').toFixed(2)} ms | ${Math.round(pick('mutationsPerSecond'))} |\n`,
  );
}
