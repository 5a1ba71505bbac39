import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createProjector } from '../../src/kernel/projector.js';
import { modules } from '../../src/modules.js';
import { openStorage, type Storage } from '../../src/storage.js';
import { usersQueriesOf } from '../support/storage.js';
import { DamagedEventLog } from '../../src/stores/sqlite/integrity.js';
import type { ReadModelRepair } from '../../src/stores/sqlite/read-database.js';
import { damageFile } from '../support/damage.js';
import { waitUntil } from '../support/wait.js';

const USERS = 300;

describe('SQLite storage on damaged files', () => {
  const dirs: string[] = [];
  const opened: Storage[] = [];
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.close().catch(() => {});
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const open = async (dataDir: string, reports: ReadModelRepair[] = [], fullCheck?: ('events.db' | 'read.db')[]) => {
    const storage = await openStorage({
      kind: 'sqlite',
      dataDir,
      durability: 'process',
      reportRepair: (repair) => reports.push(repair),
      ...(fullCheck ? { fullCheck } : {}),
    }, modules);
    opened.push(storage);
    return storage;
  };

  /** A store with USERS users, projected, and closed. */
  async function projectedStore() {
    const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-repair-'));
    dirs.push(dataDir);
    const storage = await open(dataDir);
    const occurredAt = new Date().toISOString();
    for (let i = 0; i < USERS; i++) {
      const appended = await storage.store.append({
        streamId: `user-u${i}`,
        expectedVersion: 0,
        events: [{ type: 'UserCreated', data: { userId: `u${i}`, username: `user${i}`, email: `u${i}@example.com` }, metadata: { occurredAt } }],
      });
      expect(appended.ok).toBe(true);
    }
    const projector = createProjector({ store: storage.store, sinks: storage.sinks });
    await projector.start();
    await waitUntil(async () => (await projector.status()).every((p) => p.lag === 0), 'projection');
    await projector.stop();
    await storage.close();
    opened.splice(opened.indexOf(storage), 1);
    return dataDir;
  }

  it('a query that meets garbled pages sets read.db aside, answers from a fresh one, and the running projector refills it', async () => {
    const dataDir = await projectedStore();
    damageFile(join(dataDir, 'read.db'), { type: 'overwritten', pages: 'leaves of table', table: 'users' });
    const reports: ReadModelRepair[] = [];
    const storage = await open(dataDir, reports);
    expect(reports).toEqual([]); // the open reads no row
    const projector = createProjector({ store: storage.store, sinks: storage.sinks, pollIntervalMs: 50 });
    await projector.start();
    try {
      await expect(usersQueriesOf(storage).user(`u${USERS - 1}`)).resolves.toBeNull();
      expect(reports).toEqual([
        expect.objectContaining({ type: 'set-aside', file: join(dataDir, 'read.db'), when: 'running', reason: 'database disk image is malformed' }),
      ]);
      const moved = (reports[0] as Extract<ReadModelRepair, { type: 'set-aside' }>).movedTo;
      expect(existsSync(moved)).toBe(true);
      // The projector's checkpoint was at the head; only the restart signal makes it start over.
      await waitUntil(async () => (await usersQueriesOf(storage).user(`u${USERS - 1}`)) !== null, 'the fresh read model refilled');
      expect(await usersQueriesOf(storage).count()).toBe(USERS);
      expect(reports).toHaveLength(1);
    } finally {
      await projector.stop();
    }
  });

  it('read.db damaged at open is set aside and rebuilt before openStorage returns', async () => {
    const dataDir = await projectedStore();
    damageFile(join(dataDir, 'read.db'), { type: 'truncated', to: 'half' });
    const reports: ReadModelRepair[] = [];
    const storage = await open(dataDir, reports);
    expect(reports.map((r) => r.type)).toEqual(['set-aside', 'rebuilt', 'rebuilt']);
    expect(reports[1]).toMatchObject({ projection: 'users', applied: USERS });
    expect(reports[2]).toMatchObject({ projection: 'user-search', applied: USERS });
    expect(await usersQueriesOf(storage).count()).toBe(USERS);
    expect(readdirSync(dataDir).filter((name) => name.startsWith('read.db.damaged-') && !/-(wal|shm)$/.test(name))).toHaveLength(1);
  });

  it('a full check finds garbled log pages that an open does not, and refuses without touching the files', async () => {
    const dataDir = await projectedStore();
    damageFile(join(dataDir, 'events.db'), { type: 'overwritten', pages: 'leaves of table', table: 'events' });
    const storage = await open(dataDir);
    await storage.close();
    opened.splice(0);
    await expect(open(dataDir, [], ['events.db'])).rejects.toThrow(DamagedEventLog);
    await expect(open(dataDir, [], ['events.db'])).rejects.toThrow(`${join(dataDir, 'events.db')} is damaged (SQLITE_CORRUPT: quick_check:`);
    expect(readdirSync(dataDir).filter((name) => name.includes('damaged'))).toEqual([]);
  });
});
