import type { EventStore } from '../../kernel/event-store.js';
import type { ProjectionSink } from '../../kernel/projector.js';
import { rebuildProjection } from '../../kernel/rebuild.js';
import { closeSqlite, type SqliteDatabase } from './database.js';
import { isDamage, setAside } from './integrity.js';
import type { VacuumDue } from './vacuum-due.js';

/** What happens to a damaged read.db, for the log (the server) or the terminal (the commands). */
export type ReadModelRepair =
  | Readonly<{ type: 'set-aside'; file: string; movedTo: string; reason: string; when: 'open' | 'running' }>
  | Readonly<{ type: 'rebuilding'; projection: string; applied: number; total: number }>
  | Readonly<{ type: 'rebuilt'; projection: string; applied: number; seconds: number }>
  | Readonly<{ type: 'vacuumed'; file: string; seconds: number }>
  | Readonly<{ type: 'vacuum-deferred'; file: string; reason: string }>;

export type ReadDatabaseOptions<Built> = Readonly<{
  path: string;
  /** Opens and migrates a connection to `path` (a fresh file when the old one was set aside). */
  connect: (path: string) => SqliteDatabase;
  /** The sinks and read models on a connection; built again on the fresh file after a repair. */
  build: (db: SqliteDatabase) => Built;
  report: (repair: ReadModelRepair) => void;
  /**
   * Erasures leave no bytes behind: `secure_delete` zeroes a deleted row, but
   * not the copies a b-tree balance leaves in a page's unallocated space when
   * it moves rows between pages (an erased user's old username can survive
   * there). Once a sink is handed an event of one of `types`, VACUUM is due,
   * remembered in `due` until a clean close has run it: the file is then
   * written afresh from its live rows.
   */
  erasures?: Readonly<{ types: ReadonlySet<string>; due: VacuumDue }>;
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

  const { erasures } = options;
  let vacuumDue = erasures?.due.isSet() ?? false;
  const noteErasures = (events: Parameters<ProjectionSink['apply']>[0]) => {
    if (vacuumDue || !erasures || !events.some((event) => erasures.types.has(event.type))) return;
    // Before the rows go: a crash after them still leaves the VACUUM due.
    erasures.due.set();
    vacuumDue = true;
  };
  const vacuumAfterErasures = () => {
    const started = performance.now();
    try {
      db.exec('VACUUM');
      erasures?.due.clear();
      vacuumDue = false;
      report({ type: 'vacuumed', file: path, seconds: (performance.now() - started) / 1000 });
    } catch (error) {
      report({ type: 'vacuum-deferred', file: path, reason: error instanceof Error ? error.message : String(error) });
    }
  };

  const sink = (pick: (built: Built) => ProjectionSink): ProjectionSink => {
    const current = guarded(pick);
    return {
      name: pick(built).name,
      checkpoint: () => current.checkpoint(),
      apply: (events, from) => {
        noteErasures(events);
        return current.apply(events, from);
      },
      reset: () => current.reset(),
      onRestart: (listener) => {
        replaced.add(listener);
        return () => replaced.delete(listener);
      },
    };
  };

  return {
    setAsideAtOpen,
    guarded,
    sink,
    current: () => db,
    close: () => {
      if (vacuumDue) vacuumAfterErasures();
      closeSqlite(db);
    },
  };
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
    case 'vacuumed':
      return `VACUUMed ${repair.file} after erasures in ${repair.seconds.toFixed(2)} s: no copy of an erased user's rows is left in its pages`;
    case 'vacuum-deferred':
      return `could not VACUUM ${repair.file} after erasures (${repair.reason}): the next clean stop tries again`;
    default:
      return repair satisfies never;
  }
}
