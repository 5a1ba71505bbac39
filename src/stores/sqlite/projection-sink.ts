import type { StoredEvent } from '../../kernel/messages.js';
import type { ProjectionSink } from '../../kernel/projector.js';
import { migrate, type Migration, type SqliteDatabase } from './database.js';

/**
 * A projection into a SQLite read database. `apply` runs synchronously inside
 * the transaction that also moves the checkpoint, so rows and checkpoint can
 * never disagree.
 */
export type SqliteProjection = Readonly<{
  name: string;
  migrations: readonly Migration[];
  apply: (db: SqliteDatabase, event: StoredEvent) => void;
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
];

export function prepareReadDatabase(db: SqliteDatabase, projections: readonly SqliteProjection[]): void {
  migrate(db, 'projection-checkpoints', checkpointMigrations);
  for (const projection of projections) migrate(db, `projection:${projection.name}`, projection.migrations);
}

export function createSqliteProjectionSink(db: SqliteDatabase, projection: SqliteProjection): ProjectionSink {
  const { name } = projection;
  const read = db.prepare<[string], { position: number }>('SELECT position FROM projection_checkpoints WHERE name = ?');
  const write = db.prepare(
    `INSERT INTO projection_checkpoints (name, position) VALUES (?, ?)
     ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
  );
  const current = () => read.get(name)?.position ?? 0;

  const applyBatch = db.transaction((events: readonly StoredEvent[], from: number): boolean => {
    if (current() !== from) return false;
    for (const event of events) projection.apply(db, event);
    write.run(name, events[events.length - 1]!.position);
    return true;
  });
  const resetAll = db.transaction(() => {
    projection.reset(db);
    write.run(name, 0);
  });

  return {
    name,
    checkpoint: async () => current(),
    apply: async (events, from) => (events.length === 0 ? true : applyBatch.immediate(events, from)),
    reset: async () => resetAll.immediate(),
  };
}
