/**
 * `npm run bench:memory -- OPS [SECONDS] [NAME=VALUE...]`: where our server's
 * memory goes under load. Runs each operation of OPS (comma-separated;
 * `op@rate` holds a fixed rate instead of full speed) against our server with
 * NAME=VALUE settings, and prints after each: RSS, the V8 heap's used and
 * total size, and the response cache's own estimate. Then it writes a heap
 * snapshot (which first collects all garbage) and prints what the heap still
 * holds, by kind. RSS under load is mostly garbage not yet collected and
 * heap V8 grew for it, so it moves with the request rate; the heap after the
 * snapshot is what the server keeps.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { forkLoadGenerator } from './load.js';
import type { OperationName } from './operations.js';
import { seedDataDir } from './seed.js';
import { buildServers, startServer } from './servers.js';

const USERS = 10_000;
const [ops = 'hotUser', seconds = '5', ...assignments] = process.argv.slice(2);
const env = Object.fromEntries(assignments.map((assignment) => assignment.split('=', 2) as [string, string]));
const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-memory-'));
const snapshotDir = join(dataDir, 'snapshots');
mkdirSync(snapshotDir);
await seedDataDir(dataDir, USERS);
await buildServers();
const server = await startServer('ours', {
  dataDir,
  env: { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshotDir}`, ...env },
});
const load = forkLoadGenerator();

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
async function report(label: string): Promise<void> {
  const text = await (await fetch(new URL('/metrics', server.url))).text();
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  const cache = Number.isNaN(value('cqrs_response_cache_bytes'))
    ? 'cache off'
    : `cache ${megabytes(value('cqrs_response_cache_bytes'))} in ${value('cqrs_response_cache_entries')} answers`;
  process.stdout.write(
    `${label}: RSS ${server.rssMb().toFixed(0)} MB (peak ${server.peakRssMb().toFixed(0)}); heap ${megabytes(value('nodejs_heap_size_used_bytes'))} used of ${megabytes(value('nodejs_heap_size_total_bytes'))}; ${cache}\n`,
  );
}

await report('idle');
for (const op of ops.split(',')) {
  const [name, rate] = op.split('@') as [OperationName, string | undefined];
  const job = { url: server.url, op: name, connections: 32, durationMs: Number(seconds) * 1000, seededUsers: USERS, serverPid: server.pid };
  const result = rate ? await load.run({ type: 'rate', ...job, rate: Number(rate) }) : await load.run({ type: 'http', ...job, warmupMs: 1000 });
  const cpuUs = ((result.serverCpuSeconds ?? NaN) * 1e6) / result.ok;
  process.stdout.write(`${op}: ${Math.round(result.ok / result.seconds)} req/s, ${cpuUs.toFixed(0)} µs of server CPU per request, ${result.errors} errors\n`);
  await report(`after ${op}`);
}
load.close();

process.kill(server.pid, 'SIGUSR2');
let snapshot: string | undefined;
for (let waited = 0; !snapshot && waited < 60_000; waited += 500) {
  await sleep(500);
  const written = readdirSync(snapshotDir, { withFileTypes: true }).find((entry) => entry.name.endsWith('.heapsnapshot'));
  // The file is complete once the server answers again (writing it blocks the event loop).
  if (written && (await fetch(new URL('/health', server.url)).then((r) => r.ok, () => false))) snapshot = join(snapshotDir, written.name);
}
await report('after a full collection');
await server.stop();
if (snapshot) printHeldByKind(snapshot);
rmSync(dataDir, { recursive: true, force: true });

type HeapSnapshot = { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };

/** The heap that survived the collection, summed by kind (strings, arrays, code, objects by constructor). */
function printHeldByKind(file: string): void {
  const { snapshot: meta, nodes, strings } = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  const fields = meta.meta.node_fields;
  const [types] = meta.meta.node_types;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [number, number, number];
  const sums = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt]!]!;
    const kind = type === 'object' ? `object ${strings[nodes[i + nameAt]!]}` : type;
    const sum = sums.get(kind) ?? { bytes: 0, count: 0 };
    sum.bytes += nodes[i + sizeAt]!;
    sum.count += 1;
    sums.set(kind, sum);
    total += nodes[i + sizeAt]!;
  }
  process.stdout.write(`\nheap held after the collection: ${megabytes(total)}\n`);
  for (const [kind, { bytes, count }] of [...sums].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 12)) {
    process.stdout.write(`${megabytes(bytes).padStart(9)}  ${String(count).padStart(8)}  ${kind.slice(0, 70)}\n`);
  }
}
