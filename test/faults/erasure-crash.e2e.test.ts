/**
 * kill -9 during erasure (issue 21, "Bad input and faults"), on each store: the real server as a child
 * process, users erased from several concurrent clients, SIGKILL after some erasures were acknowledged
 * while others are in flight; restart on the same store. Each user is then erased whole (UserErased in
 * the log, its data key destroyed, the read model anonymised, its email free) or not at all (no
 * UserErased, its key present, its data readable, its email still taken). Never half.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { AUDIENCE, bearer, ISSUER, signToken } from '../auth/support.js';
import { gql } from '../support/server.js';
import { waitUntil } from '../support/wait.js';
import { readEventLog, type LogSource } from './store-check.js';
import { STORES, storeUnderTest } from './store-under-test.js';

const SECRET = randomBytes(32).toString('base64url');
const AUTH = { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE };
const USERS = 60;
const CLIENTS = 6;
const KILL_AFTER = 15;
const tag = randomBytes(4).toString('hex');
const user = (i: number) => ({ id: `erase-${tag}-${i}`, username: `er${tag}u${i}`, email: `er${tag}.${i}@crash.example` });

const CREATE = 'mutation ($input: CreateUserInput!) { createUser(input: $input) { __typename } }';
const ERASE = 'mutation ($input: EraseUserInput!) { eraseUser(input: $input) { __typename } }';
const READ = 'query ($id: ID!) { user(id: $id) { username email erased } }';

/** The stored data keys by subject: 'destroyed', 'present', or absent. */
async function dataKeys(source: LogSource): Promise<Map<string, 'destroyed' | 'present'>> {
  let rows: { subject: string; wrapped: Uint8Array | null }[];
  if (source.kind === 'sqlite') {
    const db = new Database(join(source.dataDir, 'events.db'), { readonly: true });
    try {
      rows = db.prepare('SELECT subject, wrapped FROM data_keys').all() as typeof rows;
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: source.url });
    await client.connect();
    try {
      rows = (await client.query<{ subject: string; wrapped: Buffer | null }>('SELECT subject, wrapped FROM data_keys')).rows;
    } finally {
      await client.end();
    }
  }
  return new Map(rows.map(({ subject, wrapped }) => [subject, wrapped === null ? 'destroyed' : 'present']));
}

describe.each(STORES)('SIGKILL during erasures ($store)', ({ postgres }) => {
  const store = storeUnderTest('erasure-crash', postgres);

  it.skipIf(store.skip)('leaves every user erased whole or not at all', { timeout: 180_000 }, async () => {
    const admin = { authorization: bearer(await signToken(new TextEncoder().encode(SECRET), 'root', { claims: { roles: ['admin'] } })) };
    const victim = await store.spawn(AUTH);
    for (let i = 0; i < USERS; i++) {
      const { body } = await gql(victim.url, CREATE, { input: { id: user(i).id, username: user(i).username, email: user(i).email } }, admin);
      expect(body.data).toEqual({ createUser: { __typename: 'CreateUserSuccess' } });
    }

    let next = 0;
    let acknowledged = 0;
    const acknowledgedIds = new Set<string>();
    const client = async () => {
      while (next < USERS) {
        const { id } = user(next++);
        try {
          const { body } = await gql<{ eraseUser: { __typename: string } }>(victim.url, ERASE, { input: { id, idempotencyKey: `erase-${id}` } }, admin);
          expect(body.data?.eraseUser.__typename).toBe('EraseUserSuccess');
          acknowledgedIds.add(id);
          if (++acknowledged === KILL_AFTER) victim.child.kill('SIGKILL');
        } catch {
          return; // the server went away: this erasure may or may not have committed
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    expect(await victim.exited).toBe('SIGKILL');
    expect(acknowledged).toBeGreaterThanOrEqual(KILL_AFTER);

    const server = await store.spawn(AUTH);
    const log = await readEventLog(store.source());
    const keys = await dataKeys(store.source());
    let erasedCount = 0;
    for (let i = 0; i < USERS; i++) {
      const { id, username, email } = user(i);
      const events = log.events.filter((event) => event.streamId === `user-${id}`);
      const erased = events.some((event) => event.type === 'UserErased');
      if (acknowledgedIds.has(id)) expect(erased, `${id} was acknowledged as erased`).toBe(true);
      expect(events.filter((event) => event.type === 'UserErased').length).toBeLessThanOrEqual(1);
      const created = events.find((event) => event.type === 'UserCreated')!;
      if (erased) {
        erasedCount++;
        expect(keys.get(`user-${id}`), id).toBe('destroyed');
        expect(created.data, id).toMatchObject({ username: null, email: null });
      } else {
        expect(keys.get(`user-${id}`), id).toBe('present');
        expect(created.data, id).toMatchObject({ username, email });
      }
      const expected = erased ? { username: null, email: null, erased: true } : { username, email, erased: false };
      await waitUntil(async () => {
        const { body } = await gql<{ user: unknown }>(server.url, READ, { id }, admin);
        return JSON.stringify(body.data?.user) === JSON.stringify(expected);
      }, `${id} in the read model as ${JSON.stringify(expected)}`);
      const again = await gql(server.url, CREATE, { input: { username: `again${i}`, email } }, admin);
      expect(again.body.data, id).toEqual({ createUser: { __typename: erased ? 'CreateUserSuccess' : 'EmailTaken' } });
    }
    // Killed mid-way: some erasures committed, the rest never began.
    expect(erasedCount).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(erasedCount).toBeLessThan(USERS);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
