import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '../../src/stores/sqlite/database.js';
import { createSqliteEventStore } from '../../src/stores/sqlite/event-store.js';
import { createSqliteProjectionSink, prepareReadDatabase, type SqliteProjection } from '../../src/stores/sqlite/projection-sink.js';
import { describeProjectionSinkContract, isPoison, SEEN_EVENT_TYPES, SEEN_PROJECTION, type SeenRow } from './projection-sink.contract.js';

/** `seen` in SQLite: the table's CHECK refuses a poisoned row, after the batch's earlier rows went in. */
const seenProjection: SqliteProjection = {
  name: SEEN_PROJECTION,
  eventTypes: SEEN_EVENT_TYPES,
  migrations: [
    {
      version: 1,
      description: 'seen events',
      up: (db) => db.exec('CREATE TABLE seen (position TEXT PRIMARY KEY, type TEXT NOT NULL, poison INTEGER NOT NULL CHECK (poison = 0)) STRICT'),
    },
  ],
  apply: (db, events) => {
    const insert = db.prepare('INSERT INTO seen (position, type, poison) VALUES (?, ?, ?)');
    for (const event of events) insert.run(event.position, event.type, isPoison(event) ? 1 : 0);
  },
  reset: (db) => db.exec('DELETE FROM seen'),
};

describeProjectionSinkContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'projection-sink-'));
  const store = createSqliteEventStore({ path: join(dir, 'events.db') });
  const db = openSqlite(join(dir, 'read.db'));
  prepareReadDatabase(db, [seenProjection]);
  const select = db.prepare<[], SeenRow>('SELECT position, type FROM seen ORDER BY position');
  return {
    store,
    sink: createSqliteProjectionSink(db, seenProjection),
    rows: async () => select.all(),
    cleanup: async () => {
      db.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
