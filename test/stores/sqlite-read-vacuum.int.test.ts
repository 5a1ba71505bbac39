/**
 * read.db after erasures (README "Bytes on disk"): `secure_delete` zeroes a
 * deleted row but not the copies a b-tree balance leaves in a page's
 * unallocated space, so once a projection applied an erasure, a clean close
 * VACUUMs read.db; a flag file keeps it due across a crash. Free pages are the
 * witness that the file was written afresh.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createProjector } from '../../src/kernel/projector.js';
import { modules } from '../../src/modules.js';
import { openStorage } from '../../src/storage.js';
import type { ReadModelRepair } from '../../src/stores/sqlite/read-database.js';
import { waitUntil } from '../support/wait.js';

const USERS = 400;
const occurredAt = new Date().toISOString();

describe('read.db VACUUMed at a clean close after erasures', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Opens the store, appends `users` users and erases `erase` of them, projects it all, closes; returns what was reported. */
  async function run(dataDir: string, users: number, erase: number, beforeClose?: () => void) {
    const reports: ReadModelRepair[] = [];
    const storage = await openStorage({ kind: 'sqlite', dataDir, durability: 'process', reportRepair: (repair) => reports.push(repair) }, modules);
    try {
      for (let i = 0; i < users; i++) {
        const data = { userId: `u${i}`, username: `user${i}-${'x'.repeat(60)}`, email: `u${i}@example.com` };
        expect((await storage.store.append({ streamId: `user-u${i}`, expectedVersion: 0, events: [{ type: 'UserCreated', data, metadata: { occurredAt } }] })).ok).toBe(true);
      }
      for (let i = 0; i < erase; i++) {
        const erased = await storage.store.append({ streamId: `user-u${i}`, expectedVersion: 1, events: [{ type: 'UserErased', data: { userId: `u${i}` }, metadata: { occurredAt } }] });
        expect(erased.ok).toBe(true);
      }
      const projector = createProjector({ store: storage.store, sinks: storage.sinks });
      await projector.start();
      await waitUntil(async () => (await projector.status()).every((p) => p.lag === 0), 'projection');
      await projector.stop();
      beforeClose?.();
    } finally {
      await storage.close();
    }
    return reports;
  }

  /** Pages a VACUUM would drop: a scratch table filled and dropped on a connection of its own. */
  const leaveFreePages = (dataDir: string) => {
    const db = new Database(join(dataDir, 'read.db'));
    try {
      db.exec('CREATE TABLE scratch (text TEXT)');
      const insert = db.prepare('INSERT INTO scratch VALUES (?)');
      for (let i = 0; i < 500; i++) insert.run('y'.repeat(200));
      db.exec('DROP TABLE scratch');
      expect(db.pragma('freelist_count', { simple: true })).toBeGreaterThan(10);
    } finally {
      db.close();
    }
  };
  const freePages = (dataDir: string) => {
    const db = new Database(join(dataDir, 'read.db'), { readonly: true });
    try {
      return db.pragma('freelist_count', { simple: true }) as number;
    } finally {
      db.close();
    }
  };
  const newDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-read-vacuum-'));
    dirs.push(dir);
    return dir;
  };
  const flag = (dataDir: string) => join(dataDir, 'read.db.vacuum-due');

  it('marks VACUUM due when an erasure is applied, and runs it at the clean close', async () => {
    const dataDir = newDataDir();
    let dueBeforeClose = false;
    const reports = await run(dataDir, USERS, USERS / 2, () => {
      dueBeforeClose = existsSync(flag(dataDir));
      leaveFreePages(dataDir);
    });
    expect(dueBeforeClose).toBe(true);
    expect(reports).toEqual([expect.objectContaining({ type: 'vacuumed', file: join(dataDir, 'read.db') })]);
    expect(existsSync(flag(dataDir))).toBe(false);
    expect(freePages(dataDir)).toBe(0);
  });

  it('leaves read.db as it is when nothing was erased', async () => {
    const dataDir = newDataDir();
    const reports = await run(dataDir, USERS, 0, () => leaveFreePages(dataDir));
    expect(reports).toEqual([]);
    expect(existsSync(flag(dataDir))).toBe(false);
    expect(freePages(dataDir)).toBeGreaterThan(10);
  });

  it('runs a VACUUM left due by a process that died before its clean close', async () => {
    const dataDir = newDataDir();
    await run(dataDir, USERS, 0);
    writeFileSync(flag(dataDir), '');
    const reports = await run(dataDir, 0, 0, () => leaveFreePages(dataDir));
    expect(reports).toEqual([expect.objectContaining({ type: 'vacuumed' })]);
    expect(existsSync(flag(dataDir))).toBe(false);
    expect(freePages(dataDir)).toBe(0);
  });
});
