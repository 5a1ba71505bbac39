import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Plugin } from 'esbuild';
import { bundle } from '../scripts/build.js';
import { cpuSecondsOf } from './proc.js';

export type ServerKind = 'ours' | 'baseline';

export type BenchServer = Readonly<{
  kind: ServerKind;
  url: string;
  pid: number;
  /** Every stdout line that parsed as JSON (our server's pino logs). */
  logs: Record<string, unknown>[];
  rssMb: () => number;
  /** The kernel's high-water mark of the process's resident set (VmHWM). */
  peakRssMb: () => number;
  /** CPU time the process has used so far, user and system, in seconds (from /proc). */
  cpuSeconds: () => number;
  stop: () => Promise<void>;
}>;

export type SpawnOptions = Readonly<{
  dataDir?: string;
  env?: Record<string, string>;
  /** Writes a V8 CPU profile of the server into this directory on exit. */
  cpuProfDir?: string;
  /** Keep every JSON log line (for the read-your-writes histogram). */
  keepLogs?: boolean;
  /** Our server with nothing declared personal (UNSEALED_BUNDLE), to measure what sealing costs. */
  unsealed?: boolean;
}>;

const ROOT = new URL('..', import.meta.url).pathname;
const ENTRY_POINTS = { ours: 'src/main.ts', baseline: 'bench/baseline-server.ts' } as const;
const BUNDLES = { ours: 'dist/main.js', baseline: 'dist/bench/baseline-server.js' } as const;
/** Our server built with bench/unsealed-modules.ts for src/modules.ts: nothing declared personal (scenario 12). */
const UNSEALED_BUNDLE = 'dist/bench/main-unsealed.js';

/** Points src/main.ts's import of the module list at bench/unsealed-modules.ts. */
const unsealedModules: Plugin = {
  name: 'unsealed-modules',
  setup(build) {
    build.onResolve({ filter: /^\.\/modules\.js$/ }, (args) =>
      args.importer.endsWith('/src/main.ts') ? { path: `${ROOT}bench/unsealed-modules.ts` } : undefined,
    );
  },
};

/**
 * Bundles the servers the way `npm start` runs ours (`npm run build`): compiled
 * ahead of time, so none pays tsx's loader in memory and they differ only
 * in what they do per request.
 */
export async function buildServers(): Promise<void> {
  await Promise.all([
    ...(['ours', 'baseline'] as const).map((kind) => bundle(ENTRY_POINTS[kind], BUNDLES[kind])),
    bundle(ENTRY_POINTS.ours, UNSEALED_BUNDLE, [unsealedModules]),
  ]);
}

/** Starts our real server (`dist/main.js serve`, built by `buildServers`) or the baseline as a child process on loopback. */
export async function startServer(kind: ServerKind, options: SpawnOptions = {}): Promise<BenchServer> {
  const script = kind === 'ours' ? [options.unsealed ? UNSEALED_BUNDLE : BUNDLES.ours, 'serve'] : [BUNDLES.baseline];
  const prof = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
  const child = spawn(process.execPath, [...prof, '--enable-source-maps', ...script], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      GRAPHIQL: 'false',
      ...(options.dataDir ? { DATA_DIR: options.dataDir } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof entry['url'] === 'string' && !options.keepLogs) {
        // From here on only drain the pipe: parsing a log line per request would load the
        // CPU the server shares with the bench, a cost the silent baseline never causes.
        lines.close();
        child.stdout!.resume();
        resolve(entry['url']);
      } else if (typeof entry['url'] === 'string') resolve(entry['url']);
      else if (options.keepLogs) logs.push(entry);
    });
    void exited.then(() => reject(new Error(`${kind} server exited before listening: ${stderr}`)));
  });
  return {
    kind,
    url,
    pid: child.pid!,
    logs,
    rssMb: () => statusKb(child, 'VmRSS') / 1024,
    peakRssMb: () => statusKb(child, 'VmHWM') / 1024,
    cpuSeconds: () => cpuSecondsOf(child.pid!),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function statusKb(child: ChildProcess, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}
