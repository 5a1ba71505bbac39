import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { COMMANDS_USAGE, parseCommandLine } from './cli.js';
import { rebuildProjection, type RebuildProgress } from './kernel/rebuild.js';
import { ConfigError, configHelp, loadConfig, storageOptions, type Config } from './server/config.js';
import { createLogger } from './server/logger.js';
import { startServer } from './server/server.js';
import { StartupRefusal } from './startup-refusal.js';
import { modules } from './modules.js';
import { openStorage } from './storage.js';
import { missingEventStore } from './stores/sqlite/data-dir.js';
import { lockHolderOf } from './stores/sqlite/writer-lock.js';
import { createSqliteRebuildRequests } from './stores/sqlite/rebuild-requests.js';
import { rebuildBeside } from './rebuild-beside.js';
import { unsupportedNode } from './node-version.js';
import type { SealProgress } from './kernel/seal-in-place.js';
import { sealStoreInPlace } from './stores/seal-stored-events.js';

const help = () => `cqrs-graphql: a GraphQL API on CQRS and event sourcing

${COMMANDS_USAGE}
Settings (environment variables):
${configHelp()}
`;

/** src/main.ts and the dist/main.js bundle both sit one level below package.json. */
const version = () => (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function serve(config: Config) {
  const logger = createLogger(config.LOG_LEVEL);
  const server = await startServer(config, { logger, modules });
  // The connection URL may hold a password: name the kind of store only.
  const store = config.DATABASE_URL ? 'postgres' : `sqlite:${config.DATA_DIR}`;
  let signals = 0;
  const stop = (signal: string) => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Only now: a supervisor (or a test) may signal the moment it reads this line, and a signal that
  // came before the handlers would kill the process outright instead of shutting it down.
  // The pid is what a second process on the same SQLite DATA_DIR is told holds it.
  logger.info({ url: server.url, store, pid: process.pid }, `serving GraphQL at ${server.url}`);
}

/** A rebuild inserts in id order, far from key order: its index pages are revisited at random, so they stay in memory. */
const REBUILD_CACHE_MIB = 256;

async function rebuild(config: Config, names: readonly string[]) {
  const options = { ...storageOptions(config), refuseUnsealedEvents: false };
  // Opening would create an empty store, and "rebuilt from 0 events" would hide a wrong DATA_DIR.
  const missing = options.kind === 'sqlite' ? missingEventStore(options.dataDir) : undefined;
  if (missing) throw new StartupRefusal(`nothing to rebuild: ${missing}`);
  // A server holds the SQLite store: it builds beside its live read model, asked through files in DATA_DIR.
  const server = options.kind === 'sqlite' ? lockHolderOf(options.dataDir) : null;
  if (options.kind === 'sqlite' && server !== null) {
    const known = modules.flatMap((m) => m.sqlite.projections.map((p) => p.name));
    const unknown = names.filter((name) => !known.includes(name));
    if (unknown.length > 0) throw new ConfigError(`Unknown projection ${unknown.join(', ')}; known: ${known.join(', ')}`);
    const requests = createSqliteRebuildRequests(options.dataDir);
    for (const name of names.length === 0 ? known : names) await rebuildBeside(requests, name, { server });
    return;
  }
  // The log is checked in full first (a fraction of the replay's cost): damage found half-way would leave the read model emptied.
  const { store, sinks, leases, snapshots, rebuildRequests, close } = await openStorage(
    options.kind === 'sqlite' ? { ...options, readCacheMiB: REBUILD_CACHE_MIB, fullCheck: ['events.db'] } : options,
    modules,
  );
  try {
    const unknown = names.filter((name) => !sinks.some((sink) => sink.name === name));
    if (unknown.length > 0) throw new ConfigError(`Unknown projection ${unknown.join(', ')}; known: ${sinks.map((s) => s.name).join(', ')}`);
    let rebuiltInPlace = false;
    for (const sink of sinks.filter((s) => names.length === 0 || names.includes(s.name))) {
      // Holding the lease keeps instances that start meanwhile from running the projection.
      const lease = await leases.tryAcquire(sink.name);
      if (!lease) {
        // An instance runs it: that one builds beside the live read model, asked through the store.
        if (!rebuildRequests || !sink.blueGreen) throw new ConfigError(`${sink.name} is running on a server instance: stop the servers on this store first`);
        await rebuildBeside(rebuildRequests, sink.name, { server: 'the PostgreSQL instance leading it' });
        continue;
      }
      rebuiltInPlace = true;
      const started = performance.now();
      const done = await rebuildProjection(store, sink, { onProgress: progressBar(sink.name) }).finally(() => lease.release());
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write(
        `\n${sink.name}: ${done.applied} events in ${seconds.toFixed(2)} s (${Math.round(done.applied / Math.max(seconds, 1e-9))} events/s)\n`,
      );
    }
    // After a power cut under DURABILITY=process, snapshots.db may hold states of events events.db lost:
    // the rebuild that repairs the read model then empties this cache too (commands and time travel refill it).
    // Not beside running servers: they use it, and nothing was lost under them.
    if (rebuiltInPlace) await snapshots.deleteSnapshots();
  } finally {
    await close();
  }
}

async function migrate(config: Config, batchSize: number | undefined) {
  const options = { ...storageOptions(config), refuseUnsealedEvents: false };
  const created = options.kind === 'sqlite' && missingEventStore(options.dataDir) !== undefined;
  // Opening the store applies its migrations (under a lock on PostgreSQL, so running instances are safe).
  // An operator's command, run seldom: it can afford to read every page of both files (README: Operations).
  const storage = await openStorage(options.kind === 'sqlite' ? { ...options, fullCheck: ['events.db', 'read.db'] } : options, modules);
  await storage.close();
  {
    // Events stored before sealing are rewritten here, and nowhere else (src/kernel/seal-in-place.ts).
    const sealed = await sealStoreInPlace(options, modules, { ...(batchSize ? { batch: batchSize } : {}), onProgress: sealingProgress() });
    if (sealed.type === 'Sealed') {
      process.stderr.write(
        `sealed ${sealed.events} events in ${sealed.seconds.toFixed(2)} s; hashed ${sealed.claims} email claims, ` +
          `removed personal fields from ${sealed.outcomes} stored command outcomes, deleted ${sealed.snapshots} snapshots\n`,
      );
    }
  }
  if (options.kind === 'postgres') process.stdout.write('store migrated (PostgreSQL)\n');
  else if (created) process.stdout.write(`created a new, empty store: SQLite in ${resolve(options.dataDir)}\n`);
  else process.stdout.write(`store migrated (SQLite in ${resolve(options.dataDir)})\n`);
}

/** Whole lines (for logs as much as for terminals): at the start, after the first batch, then at most every half second, and at the end. */
function sealingProgress() {
  let last = -Infinity;
  let calls = 0;
  return ({ sealed, total, seconds }: SealProgress) => {
    const now = performance.now();
    calls++;
    if (total === 0 || (calls > 2 && now - last < 500 && sealed < total)) return;
    last = now;
    const rate = Math.round(sealed / Math.max(seconds, 1e-9));
    process.stderr.write(`sealing events: ${sealed}/${total} (${((sealed / total) * 100).toFixed(1)}%), ${rate} events/s\n`);
  };
}

function progressBar(name: string) {
  let last = 0;
  return ({ applied, total }: RebuildProgress) => {
    const now = performance.now();
    if (now - last < 100 && applied < total) return;
    last = now;
    const ratio = total === 0 ? 1 : Math.min(1, applied / total);
    const width = 30;
    const bar = '#'.repeat(Math.round(ratio * width)).padEnd(width, '.');
    process.stderr.write(`\r${name} [${bar}] ${(ratio * 100).toFixed(1).padStart(5)}%  ${applied} events`);
  };
}

async function main(argv: readonly string[]) {
  const invocation = parseCommandLine(argv);
  const oldNode = unsupportedNode(process.versions.node);
  if (oldNode && ['serve', 'rebuild', 'migrate'].includes(invocation.type)) throw new StartupRefusal(oldNode);
  switch (invocation.type) {
    case 'help':
      return void process.stdout.write(help());
    case 'version':
      return void process.stdout.write(`cqrs-graphql ${version()}\n`);
    case 'usage-error':
      process.stderr.write(`${invocation.message}\n\n${COMMANDS_USAGE}`);
      return void (process.exitCode = 2);
    case 'serve':
      return serve(loadConfig());
    case 'rebuild':
      return rebuild(loadConfig(), invocation.projections);
    case 'migrate':
      return migrate(loadConfig(), invocation.batchSize);
    default:
      return invocation satisfies never;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  // A damaged event log is one too (DamagedEventLog).
  if (error instanceof StartupRefusal) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
