import type { EventStore } from '../../kernel/event-store.js';
import type { ProjectionSink } from '../../kernel/projector.js';
import { rebuildProjection } from '../../kernel/rebuild.js';
import { closeSqlite, type SqliteDatabase } from './database.js';
import { isDamage, setAside } from './integrity.js';

/** What happens to a damaged read.db, for the log (the server) or the terminal (the commands). */
export type ReadModelRepair =
  | Readonly<{ type: 'set-aside'; file: string; movedTo: string; reason: string; when: 'open' | 'running' }>
  | Readonly<{ type: 'rebuilding'; projection: string; applied: number; total: number }>
  | Readonly<{ type: 'rebuilt'; projection: string; applied: number; seconds: number }>;

export type ReadDatabaseOptions<Built> = Readonly<{
  path: string;
  /** Opens and migrates a connection to `path` (a fresh file when the old one was set aside). */
  connect: (path: string) => SqliteDatabase;
  /** The sinks and read models on a connection; built again on the fresh file after a repair. */
  build: (db: SqliteDatabase) => Built;
  report: (repair: ReadModelRepair) => void;
}>;

export type ReadDatabase<Built> = Readonly<{
  /** The file was damaged at open and set aside: the fresh one is empty until rebuilt. */
  setAsideAtOpen: boolean;
  /**
   * A stand-in for one object `build` made (a sink, a read model) that always
   * calls the current one. A call that meets a damaged file sets it aside,
   * starts a fresh one and runs once more there: a query then answers from the
   * read model being refilled, and the projector, whose checkpoint no longer
   * matches, starts over from the beginning of the log on its own.
   */
  guarded: <T extends object>(pick: (built: Built) => T) => T;
  /** A guarded sink that also tells the projector when its read model was replaced by an empty one. */
  sink: (pick: (built: Built) => ProjectionSink) => ProjectionSink;
  current: () => SqliteDatabase;
  close: () => void;
}>;

/**
 * The read database is a projection of the event log and so disposable: a
 * damaged one is never fatal. Damage found at open (a truncated file, a
 * garbled schema) or by any later statement (garbled data pages) moves the
 * file aside and starts a fresh one; the caller refills it from the log.
 */
export function openReadDatabase<Built>(options: ReadDatabaseOptions<Built>): ReadDatabase<Built> {
  const { path, report } = options;
  let db: SqliteDatabase;
  let built: Built;
  const attach = () => {
    const connection = options.connect(path);
    try {
      built = options.build(connection);
    } catch (error) {
      connection.close();
      throw error;
    }
    db = connection;
  };
  const replaced = new Set<() => void>();
  const replace = (reason: Error, when: 'open' | 'running') => {
    const movedTo = setAside(path);
    report({ type: 'set-aside', file: path, movedTo, reason: reason.message, when });
    attach();
    for (const listener of replaced) listener();
  };

  let setAsideAtOpen = false;
  try {
    attach();
  } catch (error) {
    if (!isDamage(error)) throw error;
    replace(error, 'open');
    setAsideAtOpen = true;
  }

  const repairAfter = (failed: SqliteDatabase, error: Error) => {
    if (failed !== db) return; // another call repaired it already
    try {
      db.close();
    } catch {
      // A connection to a damaged file may fail to close cleanly; the file is set aside either way.
    }
    replace(error, 'running');
  };

  // Wrappers made once, not a Proxy: a read-model query is a hot path.
  const guarded = <T extends object>(pick: (built: Built) => T): T => {
    const wrapped: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(pick(built))) {
      if (typeof value !== 'function') {
        wrapped[key] = value;
        continue;
      }
      const call = (args: unknown[]) => (pick(built) as Record<string, (...a: unknown[]) => unknown>)[key]!(...args);
      wrapped[key] = async (...args: unknown[]) => {
        const on = db;
        try {
          return await call(args);
        } catch (error) {
          if (!isDamage(error)) throw error;
          repairAfter(on, error);
          return await call(args);
        }
      };
    }
    return wrapped as T;
  };

  const sink = (pick: (built: Built) => ProjectionSink): ProjectionSink => {
    const current = guarded(pick);
    return {
      name: pick(built).name,
      checkpoint: () => current.checkpoint(),
      apply: (events, from) => current.apply(events, from),
      reset: () => current.reset(),
      onRestart: (listener) => {
        replaced.add(listener);
        return () => replaced.delete(listener);
      },
    };
  };

  return { setAsideAtOpen, guarded, sink, current: () => db, close: () => closeSqlite(db) };
}

/** Refills a read database set aside at open, before anything reads it, reporting progress about every 2 s. */
export async function rebuildReadModel(store: EventStore, sinks: readonly ProjectionSink[], report: (repair: ReadModelRepair) => void) {
  for (const sink of sinks) {
    const started = performance.now();
    let lastReport = started;
    const done = await rebuildProjection(store, sink, {
      onProgress: ({ applied, total }) => {
        if (performance.now() - lastReport < 2000) return;
        lastReport = performance.now();
        report({ type: 'rebuilding', projection: sink.name, applied, total });
      },
    });
    report({ type: 'rebuilt', projection: sink.name, applied: done.applied, seconds: (performance.now() - started) / 1000 });
  }
}

/** For the commands (`rebuild`, `migrate`): one plain line per step on stderr. */
export function reportOnStderr(repair: ReadModelRepair): void {
  process.stderr.write(`${describeRepair(repair)}\n`);
}

export function describeRepair(repair: ReadModelRepair): string {
  switch (repair.type) {
    case 'set-aside':
      return (
        `${repair.file} is damaged (${repair.reason}): moved it to ${repair.movedTo}; ` +
        (repair.when === 'open'
          ? 'rebuilding the read model from events.db'
          : 'a fresh one is being filled from the start of events.db')
      );
    case 'rebuilding':
      return `rebuilding ${repair.projection}: ${repair.applied} of about ${repair.total} events`;
    case 'rebuilt':
      return `rebuilt ${repair.projection}: ${repair.applied} events in ${repair.seconds.toFixed(2)} s`;
    default:
      return repair satisfies never;
  }
}
