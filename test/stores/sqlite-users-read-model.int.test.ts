import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '../../src/stores/sqlite/database.js';
import { createSqliteEventStore } from '../../src/stores/sqlite/event-store.js';
import { rowIdOf, sqlitePosition } from '../../src/stores/sqlite/position.js';
import { createSqliteProjectionSink, prepareReadDatabase } from '../../src/stores/sqlite/projection-sink.js';
import { createSqliteUsersReadModel, usersProjection } from '../../src/users/read-model/sqlite.js';
import { describeUsersReadModelContract } from './users-read-model.contract.js';

describeUsersReadModelContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'users-read-model-'));
  const store = createSqliteEventStore({ path: join(dir, 'events.db') });
  const db = openSqlite(join(dir, 'read.db'));
  prepareReadDatabase(db, [usersProjection]);
  return {
    store,
    sink: createSqliteProjectionSink(db, usersProjection),
    readModel: createSqliteUsersReadModel(db),
    neighbours: (position) => [rowIdOf(position) - 1, rowIdOf(position) + 1].filter((rowId) => rowId >= 0).map(sqlitePosition),
    cleanup: async () => {
      db.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
