import type { SqliteDatabase } from '../../../../src/stores/sqlite/database.js';
import type { SqliteProjection } from '../../../../src/stores/sqlite/projection-sink.js';
import { tallyEventTypes, tallyIdOf } from '../tally.js';
import { evolveTallyView, type TalliesReadModel, type TallyView } from './read-model.js';

const select = (db: SqliteDatabase) => db.prepare<[string], TallyView>('SELECT id, total, version FROM tallies WHERE id = ?');

export const talliesSqliteProjection: SqliteProjection = {
  name: 'tallies',
  eventTypes: tallyEventTypes,
  migrations: [
    {
      version: 1,
      description: "each tally's running total",
      up: (db) => db.exec('CREATE TABLE tallies (id TEXT PRIMARY KEY, total INTEGER NOT NULL, version INTEGER NOT NULL) STRICT, WITHOUT ROWID'),
    },
  ],
  apply: (db, events) => {
    const byId = select(db);
    const upsert = db.prepare<[TallyView]>(
      `INSERT INTO tallies (id, total, version) VALUES (@id, @total, @version)
       ON CONFLICT (id) DO UPDATE SET total = excluded.total, version = excluded.version`,
    );
    for (const event of events) {
      const after = evolveTallyView(byId.get(tallyIdOf(event)) ?? null, event);
      if (after !== null) upsert.run(after);
    }
  },
  reset: (db) => {
    db.exec('DELETE FROM tallies');
  },
};

export function createSqliteTalliesReadModel(db: SqliteDatabase, onQuery: () => void = () => {}): TalliesReadModel {
  const byId = select(db);
  return {
    byId: async (tallyId) => {
      onQuery();
      return byId.get(tallyId) ?? null;
    },
  };
}
