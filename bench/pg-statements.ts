/**
 * `npm run bench:pg-statements -- OP [SECONDS]`: what one operation costs on
 * PostgreSQL, per request. A throwaway PostgreSQL with pg_stat_statements,
 * 10⁴ seeded users, our server on it, 3 s of unmeasured load and then SECONDS
 * (default 5) of OP at 32 connections. Prints requests per second, our
 * server's and PostgreSQL's CPU per request (every PostgreSQL process, from
 * /proc), and the statements PostgreSQL ran per request, nested ones
 * included (track=all): the round trips a change saves show here first.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { startThrowawayPostgres } from '../scripts/throwaway-postgres.js';
import { masterKey } from '../src/kernel/crypto/master-key.js';
import { openPostgres } from '../src/stores/postgres/database.js';
import { createPostgresEventStore } from '../src/stores/postgres/event-store.js';
import { forkLoadGenerator } from './load.js';
import { cpuSecondsOf } from './proc.js';
import type { OperationName } from './operations.js';
import { seedUsersInto } from './seed.js';
import { buildServers, startServer } from './servers.js';

const USERS = 10_000;
const [op = 'updateUser', secondsText = '5'] = process.argv.slice(2);

/** CPU seconds of every process named postgres so far (user + system), from /proc: Linux only. */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let name: string;
    try {
      name = readFileSync(`/proc/${pid}/comm`, 'utf8');
    } catch {
      continue; // The process ended between the listing and the read.
    }
    if (!name.startsWith('postgres')) continue;
    const seconds = cpuSecondsOf(Number(pid));
    if (!Number.isNaN(seconds)) total += seconds;
  }
  return total;
}

const server = await startThrowawayPostgres(['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all']);
if (!server) {
  process.stderr.write('no PostgreSQL binaries (initdb, pg_ctl) on this machine\n');
  process.exit(2);
}
const key = randomBytes(32);
const pool = openPostgres(server.url);
const store = await createPostgresEventStore({ pool, connectionString: server.url });
await seedUsersInto(store, 1, USERS, undefined, masterKey(key, 'bench'));
await store.close();
await pool.end();
await buildServers();
const ours = await startServer('ours', { env: { DATABASE_URL: server.url, MASTER_KEY: key.toString('base64') } });
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
const load = forkLoadGenerator();
try {
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const job = (durationMs: number) =>
    load.run({ type: 'http', url: ours.url, op: op as OperationName, connections: 32, warmupMs: 0, durationMs, seededUsers: USERS, serverPid: ours.pid });
  await job(3_000);
  await admin.query('SELECT pg_stat_statements_reset()');
  const before = postgresCpuSeconds();
  const result = await job(Number(secondsText) * 1000);
  const postgresMicros = ((postgresCpuSeconds() - before) * 1e6) / result.ok;
  process.stdout.write(
    `${op}: ${(result.ok / result.seconds).toFixed(0)} req/s; CPU per request: ours ${(((result.serverCpuSeconds ?? NaN) * 1e6) / result.ok).toFixed(0)} µs, PostgreSQL ${postgresMicros.toFixed(0)} µs\n\n`,
  );
  const { rows } = await admin.query<{ calls: string; ms: string; query: string }>(
    `SELECT calls, round(total_exec_time::numeric, 1) AS ms, regexp_replace(query, '\\s+', ' ', 'g') AS query
       FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC LIMIT 20`,
  );
  process.stdout.write(`${'per request'.padStart(11)} ${'ms in all'.padStart(10)}  statement\n`);
  for (const row of rows) {
    process.stdout.write(`${(Number(row.calls) / result.ok).toFixed(3).padStart(11)} ${row.ms.padStart(10)}  ${row.query.slice(0, 110)}\n`);
  }
} finally {
  load.close();
  await ours.stop();
  await admin.end();
  server.stop();
}
