/**
 * `npm run bench:paired -- PAIR OP [RUNS] [SECONDS]`: where the CPU time
 * between two builds or settings of our server goes. PAIR is `sealing`
 * (shipped ÷ nothing declared personal, scenario 12) or `cache` (response
 * cache on ÷ off, scenario 10). Both servers run under `--cpu-prof`, each on
 * its own copy of 10⁴ seeded users, and take turns under the same load, so
 * both profiles cover the same minutes of a machine whose speed drifts; two
 * profiles taken one after the other differ by the drift more than by the
 * code. Prints the paired CPU per request, then the functions whose self
 * time per request differs most.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageOf, selfTimes } from './cpu-profile.js';
import { forkLoadGenerator } from './load.js';
import type { OperationName } from './operations.js';
import { pairedRatio } from './paired.js';
import { seedDataDir } from './seed.js';
import { buildServers, startServer, type SpawnOptions } from './servers.js';
import { figure } from './stats.js';

const PAIRS: Record<string, readonly [label: string, options: SpawnOptions][]> = {
  sealing: [['sealed', {}], ['nothing sealed', { unsealed: true }]],
  cache: [['cache on', {}], ['cache off', { env: { RESPONSE_CACHE: 'false' } }]],
};
const USERS = 10_000;
const SETTLE_MS = 3_000;

const [pairName = '', op = 'createUser', runsText = '12', secondsText = '2'] = process.argv.slice(2);
const pair = PAIRS[pairName];
if (!pair) {
  process.stderr.write(`usage: npm run bench:paired -- ${Object.keys(PAIRS).join('|')} OP [RUNS] [SECONDS]\n`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'cqrs-paired-'));
const seeded = join(work, 'seeded');
mkdirSync(seeded);
await seedDataDir(seeded, USERS);
await buildServers();
const sides = await Promise.all(
  pair.map(async ([label, options], i) => {
    const dataDir = join(work, `data-${i}`);
    cpSync(seeded, dataDir, { recursive: true });
    const profDir = join(work, `profile-${i}`);
    const server = await startServer('ours', { ...options, dataDir, cpuProfDir: profDir });
    return { label, server, profDir, requests: 0, cpuUs: [] as number[] };
  }),
);
const load = forkLoadGenerator();
const job = (side: (typeof sides)[number], durationMs: number) =>
  load.run({ type: 'http', url: side.server.url, op: op as OperationName, connections: 32, warmupMs: 0, durationMs, seededUsers: USERS, serverPid: side.server.pid });
// Every request a server answers is in its profile, the settling ones too: all are counted.
for (const side of sides) side.requests += (await job(side, SETTLE_MS)).ok;
for (let run = 0; run < Number(runsText); run++) {
  for (const side of run % 2 === 0 ? sides : [...sides].reverse()) {
    const result = await job(side, Number(secondsText) * 1000);
    side.requests += result.ok;
    side.cpuUs.push(((result.serverCpuSeconds ?? NaN) * 1e6) / result.ok);
  }
}
load.close();
await Promise.all(sides.map((side) => side.server.stop()));

const [a, b] = sides as [(typeof sides)[number], (typeof sides)[number]];
process.stdout.write(
  `${op}: server CPU per request ${a.label} ${figure(a.cpuUs).median.toFixed(0)} µs, ${b.label} ${figure(b.cpuUs).median.toFixed(0)} µs; ` +
    `paired ratio ${pairedRatio(figure(a.cpuUs), figure(b.cpuUs)).toFixed(2)}×\n`,
);

/** Self time per request by function, idle left out; bundled functions by name alone, since the two bundles' lines differ. */
function perRequest(profDir: string, requests: number): { busy: number; byFunction: Map<string, number> } {
  const file = readdirSync(profDir).find((name) => name.endsWith('.cpuprofile'))!;
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const { frame, micros } of selfTimes(join(profDir, file))) {
    const { functionName, url, lineNumber } = frame;
    if (functionName === '(idle)') continue;
    busy += micros;
    const where = packageOf(url) ?? (url.includes('/dist/') ? 'ours' : url || 'native');
    const key = where === 'ours' ? `${functionName || '(anonymous)'} [ours]` : `${functionName || '(anonymous)'} [${where}:${lineNumber + 1}]`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  }
  for (const [key, micros] of byFunction) byFunction.set(key, micros / requests);
  return { busy: busy / requests, byFunction };
}

const [ofA, ofB] = [perRequest(a.profDir, a.requests), perRequest(b.profDir, b.requests)];
process.stdout.write(`busy CPU per request in the profiles: ${a.label} ${ofA.busy.toFixed(0)} µs, ${b.label} ${ofB.busy.toFixed(0)} µs\n\n`);
process.stdout.write(`${'difference'.padStart(10)} ${a.label.padStart(14)} ${b.label.padStart(14)}  µs per request, self time\n`);
const rows = [...new Set([...ofA.byFunction.keys(), ...ofB.byFunction.keys()])]
  .map((key) => [key, ofA.byFunction.get(key) ?? 0, ofB.byFunction.get(key) ?? 0] as const)
  .sort((x, y) => Math.abs(y[1] - y[2]) - Math.abs(x[1] - x[2]));
for (const [key, inA, inB] of rows.slice(0, 25)) {
  process.stdout.write(`${(inA - inB).toFixed(1).padStart(10)} ${inA.toFixed(1).padStart(14)} ${inB.toFixed(1).padStart(14)}  ${key.slice(0, 90)}\n`);
}
process.stdout.write(`\nprofiles: ${a.profDir}, ${b.profDir}\n`);
