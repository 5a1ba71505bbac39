/**
 * A throwaway PostgreSQL server for tests and benchmarks: `initdb` into a
 * temporary directory, `pg_ctl start` on a free loopback port, and a `stop`
 * that removes everything. Uses the machine's PostgreSQL binaries (any
 * version under /usr/lib/postgresql, PG_BIN_DIR, or pg_ctl on the PATH) and,
 * because PostgreSQL refuses to run as root, the `postgres` account when run
 * as root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ThrowawayPostgres = Readonly<{ url: string; stop: () => void }>;

function findPostgresBinDir(): string | null {
  const candidates = [
    ...(process.env['PG_BIN_DIR'] ? [process.env['PG_BIN_DIR']] : []),
    ...(existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort().reverse().map((v) => `/usr/lib/postgresql/${v}/bin`) : []),
  ];
  const fromPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' }).stdout.trim();
  if (fromPath) candidates.push(fromPath.replace(/\/pg_ctl$/, ''));
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) ?? null;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * Starts a server; `settings` are extra `-c` options (tests turn fsync off,
 * benchmarks keep the defaults). Null when no binaries are found.
 */
export async function startThrowawayPostgres(settings: readonly string[] = []): Promise<ThrowawayPostgres | null> {
  const binDir = findPostgresBinDir();
  if (!binDir) return null;
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(binDir, command), ...args], { stdio: 'pipe' })
      : execFileSync(join(binDir, command), args, { stdio: 'pipe' });

  const dir = mkdtempSync(join(tmpdir(), 'cqrs-pg-'));
  chmodSync(dir, 0o777);
  const dataDir = join(dir, 'data');
  const port = await freePort();
  run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const options = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c max_connections=300', ...settings.map((s) => `-c ${s}`)];
  run('pg_ctl', ['-D', dataDir, '-l', join(dir, 'server.log'), '-w', '-o', options.join(' '), 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
