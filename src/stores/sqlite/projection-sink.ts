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
  /**
   * Bump it when what `apply` writes changes: the running server builds the
   * new version beside the live one and switches (src/stores/sqlite/blue-green.ts).
   * Its `migrations`, run on an empty database, must create every table it owns.
   * @default 1
   */
  version?: number;
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
  {
    version: 3,
    description: 'the version of the projection that built each read model',
    // NULL: built before projections had versions, which is version 1.
    up: (db) => db.exec('ALTER TABLE projection_checkpoints ADD COLUMN version INTEGER'),
  },
];

export function prepareReadDatabase(db: SqliteDatabase, projections: readonly SqliteProjection[]): void {
  migrate(db, 'projection-checkpoints', checkpointMigrations);
  for (const projection of projections) migrate(db, `projection:${projection.name}`, projection.migrations);
}

export function createSqliteProjectionSink(db: SqliteDatabase, projection: SqliteProjection): ProjectionSink {
  const { name } = projection;
  const read = db.prepare<[string], { position: Position }>('SELECT position FROM projection_checkpoints WHERE name = ?');
  const version = projection.version ?? 1;
  // A row written first by `apply` or `reset` is a read model this code builds from the start of the log.
  const write = db.prepare<[string, Position, number]>(
    `INSERT INTO projection_checkpoints (name, position, version) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
  );
  const writeVersion = db.prepare<[number, string]>('UPDATE projection_checkpoints SET version = ? WHERE name = ?');
  const current = () => read.get(name)?.position ?? LOG_START;
  const handled = eventsHandledBy(projection.eventTypes);

  const applyBatch = db.transaction((events: readonly StoredEvent[], from: Position): boolean => {
    if (current() !== from) return false;
    const relevant = handled(events);
    if (relevant.length > 0) projection.apply(db, relevant);
    write.run(name, events[events.length - 1]!.position, version);
    return true;
  });
  const resetAll = db.transaction(() => {
    projection.reset(db);
    write.run(name, LOG_START, version);
    writeVersion.run(version, name);
  });

  return {
    name,
    checkpoint: async () => current(),
    apply: async (events, from) => (events.length === 0 ? true : applyBatch.immediate(events, from)),
    reset: async () => resetAll.immediate(),
  };
}
