import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Position } from '../../src/kernel/position.js';
import { createMemorySnapshotStore } from '../../src/stores/memory/snapshots.js';
import { openPostgres } from '../../src/stores/postgres/database.js';
import { createPostgresSnapshotStore } from '../../src/stores/postgres/snapshots.js';
import { createSqliteSnapshotStore, openSqliteSnapshotCache, type SnapshotsSetAside } from '../../src/stores/sqlite/snapshots.js';
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

describe('SQLite snapshots.db', () => {
  it('is set aside and started afresh when damaged: a cache never keeps the server from starting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snapshots-damaged-'));
    try {
      const path = join(dir, 'snapshots.db');
      writeFileSync(path, 'not a database '.repeat(400));
      const reports: SnapshotsSetAside[] = [];
      const snapshots = openSqliteSnapshotCache({ path, report: (setAside) => reports.push(setAside) });
      try {
        expect(reports).toEqual([{ file: path, movedTo: expect.stringMatching(/snapshots\.db\.damaged-/), reason: expect.any(String) }]);
        expect(readFileSync(reports[0]!.movedTo, 'utf8')).toContain('not a database');
        const snapshot = { streamId: 's', fold: 'f@1', version: 3, position: '0000000000000003' as Position, time: '2026-01-01T00:00:00.000Z', state: { ok: true } };
        await snapshots.saveSnapshots([snapshot]);
        expect(await snapshots.loadSnapshot('s', 'f@1')).toEqual(snapshot);
      } finally {
        await snapshots.close();
      }
      // A sound file is opened as it is.
      const again = openSqliteSnapshotCache({ path, report: (setAside) => reports.push(setAside) });
      expect((await again.loadSnapshot('s', 'f@1'))?.version).toBe(3);
      await again.close();
      expect(reports).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
