/**
 * `user(id:, asOf:)` on any tier and store: the same cases run in process
 * over the memory store (test/inprocess/time-travel.int.test.ts) and on the
 * real server over SQLite and PostgreSQL (test/integration/time-travel.e2e.test.ts).
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../src/system.js';
import { CreateUserDocument, UpdateUserDocument, UserAsOfDocument, type UserAsOf, type UserFieldsFragment } from '../gql/graphql.js';
import { expectType, type Response } from '../support/graphql.js';

export type TimeTravelTarget = Readonly<{
  execute: <TResult, TVariables extends Record<string, unknown>>(document: TypedDocumentNode<TResult, TVariables>, variables?: TVariables) => Promise<Response<TResult>>;
  gql: (query: string, variables?: Record<string, unknown>) => Promise<{ status: number; body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } }>;
  system: System;
  /** A position made by another kind of store than the one under test. */
  foreignPosition: string;
  close: () => Promise<void>;
}>;

/** The snapshot interval the servers under test run with: small, so a short history crosses it several times. */
export const TEST_SNAPSHOT_EVERY = '3';

const UPDATES = 10;

export function describeTimeTravel(open: () => Promise<TimeTravelTarget>): void {
  let target: TimeTravelTarget;
  let run = 0;
  beforeAll(async () => {
    target = await open();
  });
  afterAll(async () => {
    await target?.close();
  });

  const asOf = async (id: string, point: UserAsOf) => {
    const response = await target.execute(UserAsOfDocument, { id, asOf: point });
    if (response.errors?.length || response.data == null) throw new Error(`user(asOf: ${JSON.stringify(point)}) failed: ${JSON.stringify(response.errors ?? response)}`);
    return response.data.user;
  };

  /** A user with a history: created, then renamed UPDATES times; each state with the position of the write that made it. */
  async function userWithHistory() {
    run += 1;
    const created = await target.execute(CreateUserDocument, { input: { username: `traveller_${run}`, email: `traveller.${run}@example.com` } });
    const first = expectType(created.data!.createUser, 'CreateUserSuccess');
    const states: { user: UserFieldsFragment; position: string }[] = [{ user: first.user, position: first.position }];
    for (let i = 1; i <= UPDATES; i++) {
      const updated = await target.execute(UpdateUserDocument, { input: { id: first.user.id, username: `traveller_${run}_${i}` } });
      const success = expectType(updated.data!.updateUser, 'UpdateUserSuccess');
      states.push({ user: success.user, position: success.position });
    }
    await target.system.streamFolds.settled();
    return { id: first.user.id, states };
  }

  describe('user(asOf:)', () => {
    it('answers the user at each version, null at version 0 and past the latest', async () => {
      const { id, states } = await userWithHistory();
      for (const { user } of states) expect(await asOf(id, { version: user.version })).toEqual(user);
      expect(await asOf(id, { version: 0 })).toBeNull();
      expect(await asOf(id, { version: states.length + 1 })).toBeNull();
      expect(await asOf('User:nobody-at-all', { version: 1 })).toBeNull();
    });

    it('answers the user after their events up to a position: a write’s position, the start, another user’s event', async () => {
      const before = await userWithHistory();
      const { id, states } = await userWithHistory();
      for (const { user, position } of states) expect(await asOf(id, { position })).toEqual(user);
      expect(await asOf(id, { position: '0' })).toBeNull();
      // Positions of other streams order in the same log: before this user was created, and after all its writes.
      expect(await asOf(id, { position: before.states.at(-1)!.position })).toBeNull();
      const after = await userWithHistory();
      expect(await asOf(id, { position: after.states[0]!.position })).toEqual(states.at(-1)!.user);
    });

    it('answers the user after their events up to a time; null before the user existed', async () => {
      const { id, states } = await userWithHistory();
      for (const { user } of states) {
        // Two writes in the same millisecond share a time: the later one is the user at that time.
        const then = await asOf(id, { time: user.updatedAt });
        expect(then!.updatedAt).toBe(user.updatedAt);
        expect(then!.version).toBeGreaterThanOrEqual(user.version);
        expect(then).toEqual(states.findLast((s) => s.user.updatedAt === user.updatedAt)!.user);
      }
      const created = new Date(states[0]!.user.createdAt).getTime();
      expect(await asOf(id, { time: new Date(created - 1).toISOString() })).toBeNull();
      expect(await asOf(id, { time: '2999-01-01T00:00:00Z' })).toEqual(states.at(-1)!.user);
      // An offset names the same instant.
      const atOffset = new Date(new Date(states[3]!.user.updatedAt).getTime()).toISOString().replace('Z', '+00:00');
      expect(await asOf(id, { time: atOffset })).toEqual(await asOf(id, { time: states[3]!.user.updatedAt }));
    });

    it('gives the same answers after every snapshot is deleted', async () => {
      const { id, states } = await userWithHistory();
      const points: UserAsOf[] = [
        ...states.map(({ user }) => ({ version: user.version })),
        ...states.map(({ position }) => ({ position })),
        ...states.map(({ user }) => ({ time: user.updatedAt })),
        { version: 0 },
        { position: '0' },
      ];
      const streamId = `user-${id.slice('User:'.length)}`;
      expect(await target.system.snapshots.loadSnapshot(streamId, 'user-view@2'), 'snapshots were written').not.toBeNull();
      const withSnapshots = await Promise.all(points.map((point) => asOf(id, point)));
      await target.system.snapshots.deleteSnapshots();
      expect(await target.system.snapshots.loadSnapshot(streamId, 'user-view@2')).toBeNull();
      const without = await Promise.all(points.map((point) => asOf(id, point)));
      expect(without).toEqual(withSnapshots);
      // And a command decides on the same user: the next version follows the last.
      const updated = await target.execute(UpdateUserDocument, { input: { id, username: `renamed_${run}`, expectedVersion: states.length } });
      expect(expectType(updated.data!.updateUser, 'UpdateUserSuccess').user.version).toBe(states.length + 1);
    });
  });

  describe('user(asOf:) refuses', () => {
    const codesOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => body.errors?.map((e) => e.extensions?.['code']);

    it('none or several fields in variables: BAD_USER_INPUT', async () => {
      const { id } = await userWithHistory();
      for (const point of [{}, { version: 1, time: '2026-01-01T00:00:00Z' }, { version: 1, position: '0' }, { version: null }]) {
        const { body } = await target.gql('query($id: ID!, $asOf: UserAsOf!) { user(id: $id, asOf: $asOf) { id } }', { id, asOf: point });
        expect(codesOf(body), JSON.stringify(point)).toEqual(['BAD_USER_INPUT']);
        expect(body.data).toBeUndefined();
      }
    });

    it('none or several fields written in the document: GRAPHQL_VALIDATION_FAILED', async () => {
      const { id } = await userWithHistory();
      for (const literal of ['{}', '{ version: 1, position: "0" }', '{ version: 1, time: "2026-01-01T00:00:00Z" }']) {
        const { body } = await target.gql(`query($id: ID!) { user(id: $id, asOf: ${literal}) { id } }`, { id });
        expect(codesOf(body), literal).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      }
    });

    it('a position of another kind of store, or a malformed one, in the words a subscription’s `after` uses', async () => {
      const { id } = await userWithHistory();
      const foreign = target.system.store.parsePosition(target.foreignPosition);
      expect(foreign.ok).toBe(false);
      for (const [position, message] of [
        [target.foreignPosition, `"asOf.position" ${foreign.ok ? '' : foreign.error}`],
        ['not a position', '"asOf.position" is not a position of this event store'],
      ] as const) {
        const response = await target.execute(UserAsOfDocument, { id, asOf: { position } });
        expect(response.errors?.map((e) => [e.message, e.extensions?.['code'], e.extensions?.['argument']])).toEqual([[message, 'BAD_USER_INPUT', 'asOf.position']]);
        expect(response.data?.user ?? null).toBeNull();
      }
      expect(foreign.ok ? '' : foreign.error).toMatch(/is a position of a (SQLite|PostgreSQL|memory) event store; this server uses/);
    });

    it('a negative version or a time that is not one', async () => {
      const { id } = await userWithHistory();
      const negative = await target.execute(UserAsOfDocument, { id, asOf: { version: -1 } });
      expect(negative.errors?.map((e) => [e.message, e.extensions?.['code']])).toEqual([['"asOf.version" must not be negative', 'BAD_USER_INPUT']]);
      const { body } = await target.gql('query($id: ID!, $asOf: UserAsOf!) { user(id: $id, asOf: $asOf) { id } }', { id, asOf: { time: 'yesterday' } });
      expect(codesOf(body)).toEqual(['BAD_USER_INPUT']);
    });
  });
}
