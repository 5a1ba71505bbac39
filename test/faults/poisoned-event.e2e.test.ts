import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/stores/sqlite/database.js';
import type { SqliteProjection } from '../../src/stores/sqlite/projection-sink.js';
import { userIdOf } from '../../src/users/user.js';
import { CreateUserDocument, UserDocument, UserEventsDocument } from '../gql/graphql.js';
import { executeOk, expectType, userStreamId } from '../support/graphql.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { openClient } from '../support/subscriptions.js';
import { waitUntil } from '../support/wait.js';
import { parsed } from '../support/positions.js';
import { scrape } from '../support/metrics.js';

type ProjectionHealth = { name: string; state: string; leader: boolean; position: string; lag: number; haltedAt: string | null; lastError: string | null };
type Health = { status: string; projections: ProjectionHealth[] };

/**
 * A test-only read model beside the real one: one row per event it saw.
 * `poisoned` makes it throw on the events of those users (by user id), as a buggy handler would.
 */
function auditProjection(poisoned: ReadonlySet<string>): SqliteProjection {
  return {
    name: 'audit',
    eventTypes: ['UserCreated', 'UserUpdated'],
    migrations: [
      {
        version: 1,
        description: 'one row per event',
        up: (db) => db.exec('CREATE TABLE audit (position TEXT PRIMARY KEY, stream_id TEXT NOT NULL, version INTEGER NOT NULL) STRICT'),
      },
    ],
    apply: (db, events) => {
      for (const event of events) {
        const userId = userIdOf(event);
        if (poisoned.has(userId)) throw new Error(`audit cannot take the events of ${userId}`);
        db.prepare('INSERT INTO audit (position, stream_id, version) VALUES (?, ?, ?)').run(String(event.position), event.streamId, event.streamVersion);
      }
    },
    reset: (db) => void db.exec('DELETE FROM audit'),
  };
}

async function health(server: TestServer) {
  const response = await fetch(new URL('/health', server.url));
  return { status: response.status, body: (await response.json()) as Health };
}
const projection = async (server: TestServer, name: string) => (await health(server)).body.projections.find((p) => p.name === name)!;

let counter = 0;
const createUser = async (server: TestServer, id = `user${++counter}`) =>
  expectType(
    (await executeOk(server.url, CreateUserDocument, { input: { id, username: `name_${id}`, email: `${id}@example.com` } })).createUser,
    'CreateUserSuccess',
  );

describe('a projection that fails on an event (poisoned event)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-poison-'));
  const servers: TestServer[] = [];
  const start = async (poisoned: ReadonlySet<string>) => {
    const server = await startTestServer({ dataDir, env: { PROJECTION_MAX_RETRIES: '1' }, extraProjections: [auditProjection(poisoned)] });
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('halts at the event, shows it in /health, keeps the rest working, and resumes there after a fix and a restart', { timeout: 60_000 }, async () => {
    const first = await start(new Set(['poison']));
    const before = await createUser(first);
    // The mutation is acknowledged: the write side does not depend on any projection.
    const poison = await createUser(first, 'poison');
    expect(poison.user).toMatchObject({ id: 'User:poison', version: 1 });

    await waitUntil(async () => (await projection(first, 'audit')).state === 'halted', 'the audit projection to halt');
    const halted = await health(first);
    expect(halted.status).toBe(200);
    expect(halted.body.status).toBe('degraded');
    const metrics = await scrape(first.url);
    expect(metrics.value('cqrs_projection_halted', { projection: 'audit' })).toBe(1);
    expect(metrics.value('cqrs_projection_halted', { projection: 'users' })).toBe(0);
    const audit = halted.body.projections.find((p) => p.name === 'audit')!;
    expect(audit).toMatchObject({ state: 'halted', lastError: 'audit cannot take the events of poison' });
    expect(audit.haltedAt).toBe(poison.position);
    // It stopped right before the poisoned event: everything earlier is applied, nothing after.
    expect(audit.position).toBe(before.position);
    expect(halted.body.projections.find((p) => p.name === 'users')).toMatchObject({ state: 'running', lag: 0, haltedAt: null, lastError: null });

    // Writes, the users read model and the event stream keep working.
    const after = await createUser(first);
    expect((await executeOk(first.url, UserDocument, { id: after.user.id })).user).toEqual(after.user);
    expect((await executeOk(first.url, UserDocument, { id: 'poison' })).user).toEqual(poison.user);
    const client = openClient('graphql-ws', first);
    const stream = client.subscribe(UserEventsDocument, { after: '0' });
    await stream.waitForResults(3);
    expect(stream.data().map((d) => d.userEvents.userId)).toEqual([before.user.id, 'User:poison', after.user.id]);
    await client.dispose();
    // The halted projection never skipped ahead.
    expect(await projection(first, 'audit')).toMatchObject({ state: 'halted', position: audit.position, haltedAt: audit.haltedAt });
    await first.close();

    // Restarted without a fix: the checkpoint is durable, so it halts at the same event again.
    const unfixed = await start(new Set(['poison']));
    await waitUntil(async () => (await projection(unfixed, 'audit')).state === 'halted', 'the audit projection to halt again');
    expect(await projection(unfixed, 'audit')).toMatchObject({ position: audit.position, haltedAt: audit.haltedAt });
    await unfixed.close();

    // Restarted with the fix: it takes up the poisoned event and catches up, each event once.
    const fixed = await start(new Set());
    await waitUntil(async () => (await projection(fixed, 'audit')).lag === 0, 'the audit projection to catch up');
    expect(await health(fixed)).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'ready' }),
    });
    const caughtUp = await projection(fixed, 'audit');
    expect(caughtUp).toMatchObject({ state: 'running', haltedAt: null, lastError: null });
    expect(caughtUp.position).toBe(after.position);
    const readDb = openSqlite(join(dataDir, 'read.db'), { readonly: true });
    try {
      const rows = readDb.prepare('SELECT position, stream_id AS streamId FROM audit ORDER BY rowid').all();
      expect(rows).toEqual([
        { position: parsed(fixed.system.store, before.position), streamId: userStreamId(before.user.id) },
        { position: parsed(fixed.system.store, poison.position), streamId: 'user-poison' },
        { position: parsed(fixed.system.store, after.position), streamId: userStreamId(after.user.id) },
      ]);
    } finally {
      readDb.close();
    }
  });
});
