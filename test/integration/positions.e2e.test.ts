/**
 * The position header: a client sends the last position it saw
 * (X-Min-Position) and gets an answer at least that new, from the cache or
 * not, on one instance and across instances sharing PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUnavailable, createTestDatabase } from '../support/postgres.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';

const READ = 'query ($id: ID!) { user(id: $id) { username version } }';
const CREATE = 'mutation ($input: CreateUserInput!) { createUser(input: $input) { ... on CreateUserSuccess { position } } }';
const UPDATE = 'mutation ($input: UpdateUserInput!) { updateUser(input: $input) { ... on UpdateUserSuccess { position } } }';

type Read = { user: { username: string; version: number } | null };

const readAfter = (server: TestServer, id: string, position?: string) =>
  gql<Read>(server.url, READ, { id }, position === undefined ? {} : { 'x-min-position': position });

/** A position of this store far past its head. */
function futurePositionOf(head: string): string {
  const sqlite = /^sqlite:(\d+)$/.exec(head);
  if (sqlite) return `sqlite:${Number(sqlite[1]) + 1_000_000}`;
  const pg = /^pg:(\d+)\.(\d+)$/.exec(head);
  if (pg) return `pg:${BigInt(pg[1]!) + 1_000_000n}.1`;
  throw new Error(`unexpected position ${head}`);
}

describe('X-Min-Position on one instance', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { READ_YOUR_WRITES_TIMEOUT_MS: '300' } });
  });
  afterAll(() => server.stop());

  it('refuses a malformed position, and one of the other kind of store, with 400 and a code', async () => {
    const other = process.env['TEST_STORE'] === 'postgres' ? 'sqlite:1' : 'pg:1.1';
    for (const text of ['nonsense', other, 'sqlite:', 'x'.repeat(500)]) {
      const refused = await readAfter(server, 'anyone', text);
      expect(refused.status, text).toBe(400);
      expect(refused.body.errors?.[0]?.extensions?.['code'], text).toBe('INVALID_POSITION');
      expect(refused.body.data, text).toBeUndefined();
    }
  });

  it('waits for a position from the future, then answers with a coded error, never a stale answer', async () => {
    await gql(server.url, CREATE, { input: { username: 'future_ann', email: 'future_ann@example.com' } });
    const head = server.system.store.formatPosition(await server.system.store.headPosition());
    const refused = await readAfter(server, 'anyone', futurePositionOf(head));
    expect(refused.status).toBe(503);
    expect(refused.body.errors?.[0]?.extensions?.['code']).toBe('POSITION_NOT_REACHED');
    expect(refused.body.errors?.[0]?.message).toMatch(/beyond the end of the event log/);
    expect(refused.body.data).toBeUndefined();
  });

  it('waits until the projection passes the position, then answers from past the write, not from the cache', async () => {
    const id = `wait-${Date.now()}`;
    await gql(server.url, CREATE, { input: { id, username: 'wait_before', email: `${id}@example.com` } });
    expect((await readAfter(server, id)).body.data?.user?.username).toBe('wait_before'); // now cached
    await server.system.projector.stop();
    // Straight to the command bus: the write is in the log, the projection has not seen it.
    const written = await server.system.commandBus.execute({ type: 'UpdateUser', data: { userId: id, username: 'wait_after' } }, {});
    if (!written.ok) throw new Error(written.error.type);
    const position = server.system.store.formatPosition(written.value.position);
    // Without the header the (stopped) read model and the cache agree: the old answer.
    expect((await readAfter(server, id)).body.data?.user?.username).toBe('wait_before');
    const answer = readAfter(server, id, position);
    await server.system.projector.start();
    const { status, body } = await answer;
    expect(status).toBe(200);
    expect(body.data?.user).toEqual({ username: 'wait_after', version: 2 });
  });
});

describe.skipIf(postgresUnavailable !== null)('X-Min-Position across two instances on PostgreSQL', () => {
  let leader: TestServer;
  let follower: TestServer;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabase('positions');
    drop = database.drop;
    leader = await startTestServer({ env: { DATABASE_URL: database.url } });
    follower = await startTestServer({ env: { DATABASE_URL: database.url } });
  });
  afterAll(async () => {
    await follower?.stop();
    await leader?.stop();
    await drop?.();
  });

  it('answers on the instance that did not project the write with the write in it, though it had cached the old answer', async () => {
    // The follower learns of the leader's batches from the store only: it invalidates from the log it reads.
    expect((await follower.system.projector.status())[0]?.leader).toBe(false);
    const id = `two-${Date.now()}`;
    const created = await gql<{ createUser: { position: string } }>(leader.url, CREATE, {
      input: { id, username: 'two_before', email: `${id}@example.com` },
    });
    const seen = await readAfter(follower, id, created.body.data!.createUser.position);
    expect(seen.body.data?.user?.username).toBe('two_before');
    expect((await readAfter(follower, id)).body.data?.user?.username).toBe('two_before'); // a hit now
    for (let version = 2; version <= 6; version++) {
      const updated = await gql<{ updateUser: { position: string } }>(leader.url, UPDATE, { input: { id, username: `two_v${version}` } });
      const read = await readAfter(follower, id, updated.body.data!.updateUser.position);
      expect(read.status).toBe(200);
      expect(read.body.data?.user).toEqual({ username: `two_v${version}`, version });
    }
  });
});
