import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export type NpmRun = Readonly<{ code: number | null; stdout: string; stderr: string }>;

/** Runs `npm run <script> [-- args]` in the repository as a user types it, and waits for it to end. */
export function runNpm(script: string, env: Record<string, string>, args: readonly string[] = []): Promise<NpmRun> {
  const child = spawn('npm', ['run', script, ...(args.length > 0 ? ['--', ...args] : [])], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export type NpmServer = Readonly<{
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  output: () => string;
  /** Resolves with the URL once the server listens, or with null when `npm start` ended without listening. */
  listening: Promise<string | null>;
  /** npm's exit code, or the signal that ended it. */
  exited: Promise<number | string>;
  /** SIGTERM to npm and the server under it (one process group), then waits until both have ended. */
  stop: () => Promise<number | string>;
}>;

/** `npm start` (build, then serve) on an ephemeral loopback port. */
export function npmStart(dataDir: string, env: Record<string, string> = {}): NpmServer {
  const child = spawn('npm', ['start'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const logs: Record<string, unknown>[] = [];
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<number | string>((resolve) => child.once('close', (code, signal) => resolve(code ?? signal ?? -1)));
  const listening = new Promise<string | null>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (typeof entry['url'] === 'string') resolve(entry['url']);
      } catch {
        // npm's own lines
      }
    });
    void exited.then(() => resolve(null));
  });
  return {
    logs,
    output: () => [...lines, stderr].join('\n'),
    listening,
    exited,
    stop: async () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      return exited;
    },
  };
}
