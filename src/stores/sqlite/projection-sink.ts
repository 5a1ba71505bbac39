import type { StoredEvent } from '../../kernel/messages.js';
import { LOG_START, type Position } from '../../kernel/position.js';
import { eventsHandledBy, type ProjectionSink } from '../../kernel/projector.js';
import { positionTextOf } from './position.js';
import { migrate, type Migration, type SqliteDatabase } from './database.js';

/**
 * A projection into a SQLite read database. `apply` gets a whole batch and
 * runs synchronously inside the transaction that also moves the checkpoint,
 * so rows and checkpoint can never disagree, and a running total can be
 * written once per batch rather than once per event.
 */
export type SqliteProjection = Readonly<{
  name: string;
  /** The only events `apply` is given; the checkpoint still moves past the others. */
  eventTypes: readonly string[];
  migrations: readonly Migration[];
  apply: (db: SqliteDatabase, events: readonly StoredEvent[]) => void;
  /** Deletes every row this projection owns. */
  reset: (db: SqliteDatabase) => void;
}>;

const checkpointMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'projection checkpoints',
    up: (db) =>
      db.exec(`CREATE TABLE projection_checkpoints (
        name     TEXT PRIMARY KEY,
        position INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID`),
  },
  {
    version: 2,
    description: 'checkpoints as fixed-width position text',
    up: (db) =>
      db.exec(`
        CREATE TABLE projection_checkpoints_v2 (name TEXT PRIMARY KEY, position TEXT NOT NULL) STRICT, WITHOUT ROWID;
        INSERT INTO projection_checkpoints_v2 (name, position)
          SELECT name, ${positionTextOf('position')} FROM projection_checkpoints;
        DROP TABLE projection_checkpoints;
        ALTER TABLE projection_checkpoints_v2 RENAME TO projection_checkpoints;`),
  },
];

export function prepareReadDatabase(db: SqliteDatabase, projections: readonly SqliteProjection[]): void {
  migrate(db, 'projection-checkpoints', checkpointMigrations);
  for (const projection of projections) migrate(db, `projection:${projection.name}`, projection.migrations);
}

export function createSqliteProjectionSink(db: SqliteDatabase, projection: SqliteProjection): ProjectionSink {
  const { name } = projection;
  const read = db.prepare<[string], { position: Position }>('SELECT position FROM projection_checkpoints WHERE name = ?');
  const write = db.prepare(
    `INSERT INTO projection_checkpoints (name, position) VALUES (?, ?)
     ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
  );
  const current = () => read.get(name)?.position ?? LOG_START;
  const handled = eventsHandledBy(projection.eventTypes);

  const applyBatch = db.transaction((events: readonly StoredEvent[], from: Position): boolean => {
    if (current() !== from) return false;
    const relevant = handled(events);
    if (relevant.length > 0) projection.apply(db, relevant);
    write.run(name, events[events.length - 1]!.position);
    return true;
  });
  const resetAll = db.transaction(() => {
    projection.reset(db);
    write.run(name, LOG_START);
  });

  return {
    name,
    checkpoint: async () => current(),
    apply: async (events, from) => (events.length === 0 ? true : applyBatch.immediate(events, from)),
    reset: async () => resetAll.immediate(),
  };
}
