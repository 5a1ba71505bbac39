import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

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
  const child = spawn(process.execPath, [...entry, 'serve'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
