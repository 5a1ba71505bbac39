import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openPostgres, type PgPool } from '../../src/stores/postgres/database.js';
import { modules } from '../../src/modules.js';
import { openStorage } from '../../src/storage.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { testMasterKey } from '../support/master-key.js';

describe.skipIf(postgresUnavailable !== null)('PostgreSQL migrations', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: PgPool;
  beforeEach(async () => {
    database = await createTestDatabase('migrations');
    pool = openPostgres(database.url);
  });
  afterEach(async () => {
    await pool.end();
    await database.drop();
  });

  it('migrates once when several instances start at the same moment', async () => {
    const opened = await Promise.all(Array.from({ length: 6 }, () => openStorage({ kind: 'postgres', url: database.url, poolSize: 3, masterKey: testMasterKey }, modules)));
    for (const storage of opened) await storage.close();
    const { rows } = await pool.query<{ component: string; version: number }>('SELECT component, version FROM schema_versions ORDER BY component');
    expect(rows).toEqual([
      { component: 'event-store', version: 8 },
      { component: 'projection-build-requests', version: 1 },
      { component: 'projection-checkpoints', version: 3 },
      { component: 'projection:user-search', version: 1 },
      { component: 'projection:users', version: 2 },
      { component: 'snapshots', version: 1 },
    ]);
  });

  it('refuses a database migrated by a newer build instead of misreading it', async () => {
    await migrate(pool, 'component', [{ version: 1, description: 'one', sql: 'CREATE TABLE one (x int)' }]);
    await pool.query("UPDATE schema_versions SET version = 7 WHERE component = 'component'");
    await expect(migrate(pool, 'component', [{ version: 1, description: 'one', sql: 'CREATE TABLE one (x int)' }])).rejects.toThrow(
      /schema version 7; this build knows up to 1/,
    );
  });

  it('applies only the migrations newer than the recorded version, all or nothing', async () => {
    await migrate(pool, 'component', [{ version: 1, description: 'one', sql: 'CREATE TABLE one (x int)' }]);
    const broken = [
      { version: 1, description: 'one', sql: 'CREATE TABLE one (x int)' },
      { version: 2, description: 'two', sql: 'CREATE TABLE two (x int)' },
      { version: 3, description: 'broken', sql: 'CREATE TABLE one (x int)' },
    ];
    await expect(migrate(pool, 'component', broken)).rejects.toThrow(/already exists/);
    const tables = await pool.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'two'");
    expect(tables.rowCount).toBe(0);
    const { rows } = await pool.query<{ version: number }>("SELECT version FROM schema_versions WHERE component = 'component'");
    expect(rows).toEqual([{ version: 1 }]);
  });

  it('upgrades an event store written by a build before the one-statement append, keeping its events', async () => {
    const first = await openStorage({ kind: 'postgres', url: database.url, poolSize: 2, masterKey: testMasterKey }, modules);
    // A stream as version 1 named it: the entity id alone, without a category.
    const before = await first.store.append({ streamId: 's-1', expectedVersion: 0, events: [{ type: 'Happened', data: { n: 1 }, metadata: { occurredAt: '2026-11-27T00:00:00.000Z' } }] });
    await first.close();
    // What version 1 left behind: the tables, no append functions.
    await pool.query('DROP FUNCTION cqrs_append_batch; DROP FUNCTION cqrs_append_events; DROP TABLE data_keys, master_key_check');
    await pool.query("UPDATE schema_versions SET version = 1 WHERE component = 'event-store'");

    const upgraded = await openStorage({ kind: 'postgres', url: database.url, poolSize: 2, masterKey: testMasterKey }, modules);
    try {
      // Renamed into the category of the module that adopts uncategorised streams (users).
      expect((await upgraded.store.readStream('s-1')).version).toBe(0);
      const after = await upgraded.store.append({ streamId: 'user-s-1', expectedVersion: 1, events: [{ type: 'Happened', data: { n: 2 }, metadata: { occurredAt: '2026-11-27T00:00:00.000Z' } }] });
      expect(before.ok && after.ok).toBe(true);
      const stream = await upgraded.store.readStream('user-s-1');
      expect(stream.events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    } finally {
      await upgraded.close();
    }
    const { rows } = await pool.query("SELECT version FROM schema_versions WHERE component = 'event-store'");
    expect(rows).toEqual([{ version: 8 }]);
  });
});
