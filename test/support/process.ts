import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { TEST_MASTER_KEY_BASE64 } from './master-key.js';

export type ServerProcess = Readonly<{
  child: ChildProcess;
  url: string;
  /** Every JSON log line the process has printed so far. */
  logs: Record<string, unknown>[];
  /** Everything the process printed so far, as text: stdout lines (JSON or not) and stderr. */
  output: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}>;

/** How the server is run from source; `['dist/main.js']` runs the bundle `npm start` builds. */
const FROM_SOURCE = ['--import', 'tsx', 'src/main.ts'];

/** Starts `src/main.ts serve` (or `entry`) as a real child process on an ephemeral port and waits until it listens. */
export async function spawnServer(dataDir: string, env: Record<string, string> = {}, entry: readonly string[] = FROM_SOURCE): Promise<ServerProcess> {
  return untilListening(spawn(process.execPath, [...entry, 'serve'], { env: serverEnv(dataDir, env), stdio: ['ignore', 'pipe', 'pipe'] }));
}

/**
 * Runs `npm start` as a user types it (a build, then `dist/main.js serve`) and waits until it listens.
 * `child` is npm, in a process group of its own; the server is its grandchild, whose pid the
 * "serving" log line gives. `stop` sends SIGTERM to the server, or to the whole group without that pid.
 */
export async function spawnNpmStart(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<ServerProcess & { pid: number | undefined; stop: () => void }> {
  const child = spawn('npm', ['start'], { env: serverEnv(dataDir, env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const server = await untilListening(child);
  const logged = server.logs.find((line) => typeof line.url === 'string')?.pid;
  const pid = typeof logged === 'number' ? logged : undefined;
  return { ...server, pid, stop: () => process.kill(pid ?? -child.pid!, 'SIGTERM') };
}

export type Finished = Readonly<{ code: number | string; stdout: string; stderr: string }>;

/**
 * Runs a command to its end (`npm run migrate`, `node dist/main.js --version`...) and returns its exit
 * status and output. One still running after `timeoutMs` (a server that should have refused to start)
 * is killed with its children, and its status is 'timeout'.
 */
export async function runToExit(command: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Finished> {
  // Its own process group, so that the timeout reaches the server npm started too.
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    process.kill(-child.pid!, 'SIGKILL');
  }, timeoutMs);
  const code = await new Promise<number | string>((resolve) => child.once('close', (exit, signal) => resolve(exit ?? signal ?? -1)));
  clearTimeout(timer);
  return { code: timedOut ? 'timeout' : code, stdout, stderr };
}

function serverEnv(dataDir: string, env: Record<string, string>) {
  // PostgreSQL has no default master key: servers on it get the tests' fixed one unless the test names a key.
  const key = env['DATABASE_URL'] && !env['MASTER_KEY'] && !env['MASTER_KEY_FILE'] ? { MASTER_KEY: TEST_MASTER_KEY_BASE64 } : {};
  return { ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...key, ...env };
}

async function untilListening(child: ChildProcess): Promise<ServerProcess> {
  const logs: Record<string, unknown>[] = [];
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (typeof entry.url === 'string') resolve(entry.url);
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
  return { child, url, logs, output: () => [...lines, stderr].join('\n'), exited };
}
