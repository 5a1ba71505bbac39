/**
 * The sealing step of `npm run migrate` (src/kernel/seal-in-place.ts), in
 * process, on SQLite and PostgreSQL: a stream erased before its events were
 * sealed keeps its fields unreadable (a tombstone, never a fresh key), a
 * second run does nothing, and the store then opens as `serve` opens it.
 * On SQLite its closing VACUUM is done again by the next run if a run
 * was killed before it ended. (Killed part-way as a real process:
 * test/cli/seal-in-place.e2e.test.ts.)
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/kernel/event-store.js';
import { modules } from '../../src/modules.js';
import { openStorage } from '../../src/storage.js';
import { createPostgresEventStore } from '../../src/stores/postgres/event-store.js';
import { sealStoreInPlace, type SealTarget } from '../../src/stores/seal-stored-events.js';
import { createSqliteEventStore } from '../../src/stores/sqlite/event-store.js';
import { testMasterKey } from '../support/master-key.js';
import { createTestDatabase, openTestPool, postgresUnavailable } from '../support/postgres.js';

const metadata = { occurredAt: '2026-01-01T00:00:00.000Z' };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function writeOldStore(store: EventStore) {
  const append = async (streamId: string, expectedVersion: number, type: string, schemaVersion: number, data: object) => {
    const done = await store.append({ streamId, expectedVersion, events: [{ type, schemaVersion, data, metadata }] });
    if (!done.ok) throw new Error(JSON.stringify(done.error));
  };
  await append('user-kept', 0, 'UserCreated', 3, { userId: 'kept', username: 'keptname', email: 'kept@old.example', createdBy: null });
  await append('user-gone', 0, 'UserCreated', 3, { userId: 'gone', username: 'gonename', email: 'gone@old.example', createdBy: null });
  await append('user-gone', 1, 'UserErased', 1, { userId: 'gone', erasedBy: null });
  await store.close();
}

type Target = Readonly<{ target: SealTarget & Parameters<typeof openStorage>[0] }>;

async function sqliteTarget(): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-seal-int-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  await writeOldStore(createSqliteEventStore({ path: join(dataDir, 'events.db') }));
  return { target: { kind: 'sqlite', dataDir, durability: 'process', masterKey: testMasterKey } };
}

async function postgresTarget(): Promise<Target> {
  const database = await createTestDatabase('seal_int');
  cleanups.push(database.drop);
  const pool = openTestPool({ connectionString: database.url });
  await writeOldStore(await createPostgresEventStore({ pool, connectionString: database.url }));
  await pool.end();
  return { target: { kind: 'postgres', url: database.url, poolSize: 2, masterKey: testMasterKey } };
}

function describeSealing(open: () => Promise<Target>) {
  it('seals a stream erased before sealing under no key it keeps: its fields read null, the kept user reads whole', async () => {
    const { target } = await open();
    await (await openStorage(target, modules)).close();
    expect(await sealStoreInPlace(target, modules)).toMatchObject({ type: 'Sealed', events: 2 });
    expect(await sealStoreInPlace(target, modules)).toEqual({ type: 'AlreadySealed' });

    const storage = await openStorage({ ...target, refuseUnsealedEvents: true }, modules);
    try {
      expect((await storage.store.readDataKeys(['user-gone'])).get('user-gone')).toBe('destroyed');
      const [gone] = (await storage.store.readStream('user-gone')).events;
      expect(gone!.data).toMatchObject({ userId: 'gone', username: null, email: null });
      const [kept] = (await storage.store.readStream('user-kept')).events;
      expect(kept!.data).toMatchObject({ userId: 'kept', username: 'keptname', email: 'kept@old.example' });
    } finally {
      await storage.close();
    }
  });
}

describe('sealing a SQLite store in place', () => {
  describeSealing(sqliteTarget);

  it('leaves no free page behind, and a run killed before its closing VACUUM ended does it on the next run', async () => {
    const { target } = await sqliteTarget();
    if (target.kind !== 'sqlite') throw new Error('a SQLite target');
    const file = join(target.dataDir, 'events.db');
    const freePages = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.pragma('freelist_count', { simple: true }) as number;
      } finally {
        db.close();
      }
    };
    /** Pages a dropped table leaves free: where bytes of deleted rows could sit if nothing rewrote the file. */
    const freeSomePages = () => {
      const db = new Database(file);
      try {
        db.exec(`CREATE TABLE scratch (v TEXT);
          WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) INSERT INTO scratch SELECT hex(randomblob(500)) FROM n;
          DROP TABLE scratch;`);
      } finally {
        db.close();
      }
    };
    await (await openStorage(target, modules)).close();
    freeSomePages();
    expect(freePages()).toBeGreaterThan(0);
    expect(await sealStoreInPlace(target, modules)).toMatchObject({ type: 'Sealed' });
    expect(freePages()).toBe(0);
    expect(existsSync(join(target.dataDir, 'events.db.vacuum-due'))).toBe(false);

    // Sealed, then killed during its VACUUM: the store reads as sealed, and the flag is still there.
    freeSomePages();
    writeFileSync(join(target.dataDir, 'events.db.vacuum-due'), '');
    expect(await sealStoreInPlace(target, modules)).toEqual({ type: 'AlreadySealed' });
    expect(freePages()).toBe(0);
    expect(existsSync(join(target.dataDir, 'events.db.vacuum-due'))).toBe(false);

    // Without the flag, a sealed store's file is left as it is.
    freeSomePages();
    expect(await sealStoreInPlace(target, modules)).toEqual({ type: 'AlreadySealed' });
    expect(freePages()).toBeGreaterThan(0);
  });
});
describe.skipIf(postgresUnavailable !== null)('sealing a PostgreSQL store in place', () => describeSealing(postgresTarget));
