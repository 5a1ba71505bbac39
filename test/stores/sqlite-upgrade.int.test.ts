/**
 * A data directory written before positions became text (schema version 1 of
 * every component) opens under this build: integer positions in checkpoints,
 * the users table and stored command outcomes become the text positions, and
 * the bare stream ids of that time get the users' category (`u2` → `user-u2`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { LOG_START } from '../../src/kernel/position.js';
import { modules } from '../../src/modules.js';
import { openStorage } from '../../src/storage.js';
import { sqlitePosition } from '../../src/stores/sqlite/position.js';
import { usersQueriesOf } from '../support/storage.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const KEEP_FOR_A_CENTURY = { windowMs: 100 * 365 * 86_400_000, clock: () => new Date() };

function writeVersionOneDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cqrs-upgrade-'));
  dirs.push(dir);
  const events = new Database(join(dir, 'events.db'));
  events.exec(`
    CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT;
    INSERT INTO schema_versions VALUES ('event-store', 1);
    CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, stream_id TEXT NOT NULL, stream_version INTEGER NOT NULL,
      type TEXT NOT NULL, schema_version INTEGER NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, UNIQUE (stream_id, stream_version)) STRICT;
    CREATE TABLE unique_values (scope TEXT NOT NULL, value TEXT NOT NULL, stream_id TEXT NOT NULL, PRIMARY KEY (scope, value)) STRICT, WITHOUT ROWID;
    CREATE TABLE idempotency_records (key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, outcome TEXT NOT NULL, recorded_at TEXT NOT NULL) STRICT, WITHOUT ROWID;
    INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata) VALUES
      ('u1', 1, 'UserCreated', 1, '{"userId":"u1","username":"one","email":"one@example.com"}', '{"occurredAt":"2026-01-01T00:00:00.000Z"}'),
      ('u2', 1, 'UserCreated', 1, '{"userId":"u2","username":"two","email":"two@example.com"}', '{"occurredAt":"2026-01-01T00:00:01.000Z"}');
    INSERT INTO unique_values VALUES ('email', 'one@example.com', 'u1'), ('email', 'two@example.com', 'u2');
    INSERT INTO idempotency_records VALUES
      ('k2', 'h', '{"ok":true,"value":{"streamId":"u2","version":1,"position":2,"changed":true}}', '2026-01-01T00:00:01.000Z'),
      ('rejected', 'h', '{"ok":false,"error":{"type":"EmailTaken"}}', '2026-01-01T00:00:02.000Z');
  `);
  events.close();
  const read = new Database(join(dir, 'read.db'));
  read.exec(`
    CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT;
    INSERT INTO schema_versions VALUES ('projection-checkpoints', 1), ('projection:users', 1);
    CREATE TABLE projection_checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL) STRICT, WITHOUT ROWID;
    INSERT INTO projection_checkpoints VALUES ('users', 2);
    CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT NOT NULL, email TEXT NOT NULL, version INTEGER NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL, created_position INTEGER NOT NULL UNIQUE) STRICT, WITHOUT ROWID;
    CREATE TABLE users_count (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), total INTEGER NOT NULL) STRICT;
    INSERT INTO users_count VALUES (1, 2);
    INSERT INTO users VALUES
      ('u1', 'one', 'one@example.com', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 1),
      ('u2', 'two', 'two@example.com', 1, '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:01.000Z', 2);
  `);
  read.close();
  return dir;
}

it('upgrades a schema-version-1 data directory to text positions without losing anything', async () => {
  const dataDir = writeVersionOneDataDir();
  // Its records are from long before this run: kept answering, so the test can read them back.
  const storage = await openStorage({ kind: 'sqlite', dataDir, durability: 'process' }, modules, { idempotencyRetention: KEEP_FOR_A_CENTURY });
  try {
    const { store, sinks } = storage;
    const users = usersQueriesOf(storage);
    expect((await store.readAll({ after: LOG_START, limit: 10 })).map((e) => [e.position, e.streamId])).toEqual([
      [sqlitePosition(1), 'user-u1'],
      [sqlitePosition(2), 'user-u2'],
    ]);
    expect((await store.readStream('user-u2')).version).toBe(1);
    expect((await store.readStream('u2')).version).toBe(0);
    expect((await store.getIdempotencyRecord('k2'))?.outcome).toEqual({
      ok: true,
      value: { streamId: 'user-u2', version: 1, position: sqlitePosition(2), changed: true },
    });
    expect((await store.getIdempotencyRecord('rejected'))?.outcome).toEqual({ ok: false, error: { type: 'EmailTaken' } });
    expect(await sinks[0]!.checkpoint()).toBe(sqlitePosition(2));
    const found = await Promise.all(['u1', 'u2'].map((id) => users.user(id)));
    expect(found.map((u) => [u?.id, u?.createdPosition])).toEqual([
      ['u1', sqlitePosition(1)],
      ['u2', sqlitePosition(2)],
    ]);
    // The erasure migration (users schema 4) keeps every row, none erased.
    expect(found.map((u) => [u?.username, u?.email, u?.erased])).toEqual([
      ['one', 'one@example.com', false],
      ['two', 'two@example.com', false],
    ]);
    // Paging after the first user's cursor: the cursor wraps the converted creation position.
    const first = await users.users({ first: 1 });
    if (!first.ok) throw new Error(first.error.message);
    expect(first.value.edges.map((edge) => edge.node.id)).toEqual(['u1']);
    const page = await users.users({ first: 1, after: first.value.pageInfo.endCursor });
    if (!page.ok) throw new Error(page.error.message);
    expect(page.value.edges.map((edge) => edge.node.id)).toEqual(['u2']);
    expect(page.value.pageInfo.hasPreviousPage).toBe(true);
    expect(await users.count()).toBe(2);
    // The log goes on after the old rows.
    const next = await store.append({ streamId: 'note-u3', expectedVersion: 0, events: [{ type: 'Noted', data: {}, metadata: { occurredAt: 'x' } }] });
    expect(next.ok && next.value.position).toBe(sqlitePosition(3));
  } finally {
    await storage.close();
  }
});
