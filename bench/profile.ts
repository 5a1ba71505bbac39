/**
 * `npm run bench:profile -- OP [SECONDS]`: runs one operation against our
 * server started with `node --cpu-prof`, then prints where the server's CPU
 * time went, by package and by function (self time). The .cpuprofile is
 * kept in profiles/ for a flame graph (Chrome DevTools, speedscope).
 */
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageOf, selfTimes, type CallFrame } from './cpu-profile.js';
import { forkLoadGenerator } from './load.js';
import type { OperationName } from './operations.js';
import { seedDataDir } from './seed.js';
import { buildServers, startServer } from './servers.js';

const [op = 'createUser', seconds = '5'] = process.argv.slice(2);
const ROOT = new URL('..', import.meta.url).pathname;
const profDir = join(ROOT, 'profiles');
mkdirSync(profDir, { recursive: true });
const before = new Set(readdirSync(profDir));

let file: string;
if (op.endsWith('.cpuprofile')) {
  // Summarise an existing profile (e.g. one written by `npm run bench -- --cpu-prof DIR`).
  file = op;
} else {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-profile-'));
  await seedDataDir(dataDir, 10_000);
  await buildServers();
  const server = await startServer('ours', { dataDir, cpuProfDir: profDir });
  const load = forkLoadGenerator();
  const result = await load.run({
    type: 'http',
    url: server.url,
    op: op as OperationName,
    connections: 32,
    warmupMs: 1000,
    durationMs: Number(seconds) * 1000,
    seededUsers: 10_000,
  });
  load.close();
  await server.stop();
  process.stdout.write(`${op}: ${Math.round(result.ok / result.seconds)} req/s, ${result.errors} errors\n`);

  file = join(profDir, readdirSync(profDir).find((name) => !before.has(name) && name.endsWith('.cpuprofile'))!);
}
const self = selfTimes(file);
const total = self.reduce((sum, { micros }) => sum + micros, 0);

const where = (url: string) => {
  const pkg = packageOf(url);
  if (pkg) return pkg;
  if (url.endsWith('/dist/main.js')) return 'src (bundled in dist/main.js)';
  if (url.includes('/src/')) return `src/${url.split('/src/')[1]!.split('/')[0]}`;
  if (url.startsWith('node:')) return 'node core';
  return url === '' ? '(native / gc / idle)' : url;
};
const tally = (key: (frame: CallFrame) => string) => {
  const sums = new Map<string, number>();
  for (const { frame, micros } of self) {
    const k = key(frame);
    sums.set(k, (sums.get(k) ?? 0) + micros);
  }
  return [...sums].sort((a, b) => b[1] - a[1]);
};
const print = (title: string, rows: [string, number][], limit: number) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, time] of rows.slice(0, limit)) process.stdout.write(`${((100 * time) / total).toFixed(1).padStart(5)}%  ${name}\n`);
};
print('self time by package', tally((frame) => where(frame.url)), 15);
print('self time by function', tally((frame) => `${frame.functionName || '(anonymous)'}  ${where(frame.url)}:${frame.lineNumber + 1}`), 25);
process.stdout.write(`\nprofile: ${file}\n`);
