import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { createMemorySnapshotStore } from '../../src/stores/memory/snapshots.js';
import { openPostgres } from '../../src/stores/postgres/database.js';
import { createPostgresSnapshotStore } from '../../src/stores/postgres/snapshots.js';
import { createSqliteSnapshotStore } from '../../src/stores/sqlite/snapshots.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { describeSnapshotStoreContract } from './snapshots.contract.js';

describeSnapshotStoreContract('in-memory', async () => {
  const snapshots = createMemorySnapshotStore();
  return { snapshots, cleanup: () => snapshots.close() };
});

describeSnapshotStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'snapshots-contract-'));
  const snapshots = createSqliteSnapshotStore({ path: join(dir, 'snapshots.db') });
  return {
    snapshots,
    cleanup: async () => {
      await snapshots.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe.skipIf(postgresUnavailable !== null)('PostgreSQL snapshot store', () => {
  describeSnapshotStoreContract('PostgreSQL', async () => {
    const database = await createTestDatabase('snapshots');
    const pool = openPostgres(database.url);
    const snapshots = await createPostgresSnapshotStore(pool);
    return {
      snapshots,
      cleanup: async () => {
        await snapshots.close();
        await pool.end();
        await database.drop();
      },
    };
  });
});
