/**
 * Conformance suite for UsersReadModel adapters, asked through `GetUsers` as
 * clients ask it (arguments, cursors, validation). Rows get there the real
 * way: UserCreated and UserUpdated events appended to a real event store,
 * read back and applied by the adapter's own projection sink. One store
 * serves the whole suite; each data set resets the read model and projects
 * only its own events, so earlier data sets leave positions in the log that
 * no row holds — cursors of rows that don't exist.
 *
 * Erasure: a UserErased event anonymises its user's row in place (id,
 * version, times and position stay), and so does a stream whose personal
 * fields read null (a destroyed key), so a rebuild over erased users gives
 * the same rows.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore, NewEvent } from '../../src/kernel/event-store.js';
import type { StoredEvent } from '../../src/kernel/messages.js';
import { LOG_START, type Position } from '../../src/kernel/position.js';
import type { ProjectionSink } from '../../src/kernel/projector.js';
import { createQueryBus, createRequestScope, type QueryBus } from '../../src/kernel/query-bus.js';
import { streamIdOf } from '../../src/kernel/stream-id.js';
import { createStreamFolds } from '../../src/kernel/stream-folds.js';
import { createMemorySnapshotStore } from '../../src/stores/memory/snapshots.js';
import {
  DEFAULT_PAGE_SIZE,
  getUsers,
  registerUserQueries,
  type PageArgs,
  type UserConnection,
} from '../../src/users/read-model/queries.js';
import type { UsersReadModel } from '../../src/users/read-model/read-model.js';
import { USER_STREAMS, type UserEvent } from '../../src/users/user.js';
import type { UserView } from '../../src/users/user-view.js';
import { waitUntil } from '../support/wait.js';

export type UsersReadModelFixture = Readonly<{
  store: EventStore;
  /** The adapter's projection of users, writing where `readModel` reads. */
  sink: ProjectionSink;
  readModel: UsersReadModel;
  /** Well-formed positions of this store right around `position`, which no event need hold. */
  neighbours: (position: Position) => Position[];
  cleanup: () => Promise<void>;
}>;
export type UsersReadModelFactory = () => Promise<UsersReadModelFixture>;

/** Runs of the property per store (small for CI on 2 cores); PROPERTY_RUNS=1000 hunts longer, and its timeout grows with the runs. */
const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 60);

/**
 * A data set: `users` users created in order, and renames of earlier users between the creations;
 * then the users numbered in `erase` erased, and those in `redacted` stored with their personal
 * fields null, as a store reads them once their key is destroyed.
 */
type Plan = Readonly<{
  users: number;
  renames: readonly Readonly<{ afterCreating: number; user: number }>[];
  erase?: readonly number[];
  redacted?: readonly number[];
}>;

/** Which cursor: none, a user's (index into the users), or a position no user holds (index into `elsewhere`). */
type CursorChoice = Readonly<{ of: 'user' | 'elsewhere'; index: number }> | undefined;

type DataSet = Readonly<{
  /** The users as the read model must hold them, in creation order. */
  users: readonly UserView[];
  /** Positions of events in the log that are no user's creation, and positions no event holds. */
  elsewhere: readonly Position[];
}>;

const occurredAt = (step: number) => new Date(Date.UTC(2026, 0, 1) + step * 1000).toISOString();

/** The users the events describe, in creation order: the read model's contents, folded independently of the projection. */
function usersAfter(events: readonly StoredEvent[]): UserView[] {
  const users = new Map<string, UserView>();
  for (const event of events as readonly StoredEvent<UserEvent>[]) {
    const at = event.metadata.occurredAt;
    if (event.type === 'UserCreated') {
      const { userId, username, email } = event.data;
      const erased = username === null || email === null;
      users.set(userId, {
        id: userId,
        ...(erased ? { username: null, email: null } : { username, email }),
        erased,
        version: 1,
        createdAt: at,
        updatedAt: at,
        createdPosition: event.position,
      });
    } else {
      const user = users.get(event.data.userId)!;
      const changed = { version: user.version + 1, updatedAt: at };
      if (event.type === 'UserErased') users.set(user.id, { ...user, ...changed, username: null, email: null, erased: true });
      else users.set(user.id, { ...user, ...changed, username: user.erased ? null : event.data.username! });
    }
  }
  return [...users.values()].sort((a, b) => (a.createdPosition < b.createdPosition ? -1 : 1));
}

/**
 * The Relay Cursor Connections spec's algorithm (ApplyCursorsToEdges,
 * EdgesToReturn, PageInfo) over users in creation order. Where the spec lets
 * the server choose — hasPreviousPage when paging forward, hasNextPage when
 * paging backward — the read model answers whether any user lies at or
 * beyond the `after` / `before` cursor (src/kernel/keyset-page.ts).
 */
function referenceConnection(users: readonly UserView[], args: PageArgs, cursorOf: (position: Position) => string, positionOf: (cursor: string) => Position) {
  const after = args.after == null ? undefined : positionOf(args.after);
  const before = args.before == null ? undefined : positionOf(args.before);
  let edges = users.filter((user) => (after === undefined || user.createdPosition > after) && (before === undefined || user.createdPosition < before));
  const first = args.first ?? (args.last == null ? DEFAULT_PAGE_SIZE : undefined);
  let hasNextPage = false;
  let hasPreviousPage = false;
  if (first != null && edges.length > first) {
    edges = edges.slice(0, first);
    hasNextPage = true;
  }
  if (args.last != null && edges.length > args.last) {
    edges = edges.slice(edges.length - args.last);
    hasPreviousPage = true;
  }
  if (after !== undefined && users.some((user) => user.createdPosition <= after)) hasPreviousPage = true;
  if (before !== undefined && users.some((user) => user.createdPosition >= before)) hasNextPage = true;
  const cursors = edges.map((user) => cursorOf(user.createdPosition));
  return {
    edges: edges.map((node, i) => ({ cursor: cursors[i]!, node })),
    pageInfo: { hasNextPage, hasPreviousPage, startCursor: cursors[0] ?? null, endCursor: cursors.at(-1) ?? null },
  };
}

export function describeUsersReadModelContract(adapterName: string, createFixture: UsersReadModelFactory): void {
  describe(`UsersReadModel contract: ${adapterName}`, () => {
    let fixture: UsersReadModelFixture;
    let bus: QueryBus;
    /** The last event any data set appended: the next one reads the log from here. */
    let logEnd = LOG_START;
    let dataSets = 0;

    beforeAll(async () => {
      fixture = await createFixture();
      bus = createQueryBus();
      // Users folded from their streams with no snapshots: this suite is about the read model.
      const streamFolds = createStreamFolds({ eventLog: fixture.store, snapshots: createMemorySnapshotStore(), every: 0, onError: () => {} });
      registerUserQueries({ queryBus: bus, readModel: fixture.readModel, positions: fixture.store, streamFolds });
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    /** The client cursor format (queries.ts), written out here so a change to it is caught. */
    const cursorOf = (position: Position) => Buffer.from(`user:${fixture.store.formatPosition(position)}`).toString('base64url');
    const positionOf = (cursor: string): Position => {
      const parsed = fixture.store.parsePosition(Buffer.from(cursor, 'base64url').toString().slice('user:'.length));
      if (!parsed.ok) throw new Error(`not a cursor: ${cursor}`);
      return parsed.value;
    };

    const append = async (userId: string, expectedVersion: number, event: NewEvent) => {
      const result = await fixture.store.append({ streamId: streamIdOf(USER_STREAMS, userId), expectedVersion, events: [event] });
      if (!result.ok) throw new Error(JSON.stringify(result.error));
    };

    /** Appends the plan's events, then makes the read model hold exactly them, through the projection. */
    async function load(plan: Plan): Promise<DataSet> {
      const tag = `d${(dataSets += 1)}`;
      const created: string[] = [];
      const versions = new Map<string, number>();
      let step = 0;
      const pending: Promise<void>[] = [];
      const flush = async () => void (await Promise.all(pending.splice(0)));
      const rename = async (userNumber: number) => {
        if (created.length === 0) return;
        await flush();
        const userId = created[userNumber % created.length]!;
        const version = versions.get(userId)!;
        versions.set(userId, version + 1);
        const event: NewEvent = { type: 'UserUpdated', data: { userId, username: `${userId}-v${version + 1}` }, metadata: { occurredAt: occurredAt((step += 1)) } };
        await append(userId, version, event);
      };
      const renamesAt = (count: number) => plan.renames.filter((r) => r.afterCreating % (plan.users + 1) === count);
      for (let i = 0; i <= plan.users; i++) {
        for (const r of renamesAt(i)) await rename(r.user);
        if (i === plan.users) break;
        const userId = `${tag}-u${i}`;
        created.push(userId);
        versions.set(userId, 1);
        const redacted = plan.redacted?.includes(i) ?? false;
        const event: NewEvent = {
          type: 'UserCreated',
          data: { userId, username: redacted ? null : `${userId}-v1`, email: redacted ? null : `${userId}@example.com`, createdBy: null },
          metadata: { occurredAt: occurredAt((step += 1)) },
        };
        // Creations between renames go in together: the PostgreSQL store commits them as a group.
        pending.push(append(userId, 0, event));
      }
      await flush();
      for (const userNumber of plan.erase ?? []) {
        const userId = created[userNumber]!;
        const version = versions.get(userId)!;
        versions.set(userId, version + 1);
        await append(userId, version, { type: 'UserErased', data: { userId, erasedBy: null }, metadata: { occurredAt: occurredAt((step += 1)) } });
      }

      const appended = [...versions.values()].reduce((sum, version) => sum + version, 0);
      let events: readonly StoredEvent[] = [];
      // PostgreSQL readers see an event once no older transaction on the server is still running.
      await waitUntil(async () => (events = await fixture.store.readAll({ after: logEnd, limit: appended + 1 })).length === appended, `${appended} events to become readable`);
      const previousEnd = logEnd;
      logEnd = events.at(-1)?.position ?? logEnd;
      await fixture.sink.reset();
      expect(await fixture.sink.apply(events, LOG_START)).toBe(true);

      const users = usersAfter(events);
      const creations = new Set(users.map((user) => user.createdPosition));
      const elsewhere = new Set<Position>([LOG_START, ...(previousEnd === LOG_START ? [] : [previousEnd])]);
      for (const event of events) {
        if (!creations.has(event.position)) elsewhere.add(event.position);
        for (const near of fixture.neighbours(event.position)) if (!creations.has(near)) elsewhere.add(near);
      }
      return { users, elsewhere: [...elsewhere] };
    }

    const ask = async (args: PageArgs) => bus.execute(getUsers(args), createRequestScope());
    const page = async (args: PageArgs): Promise<UserConnection> => {
      const result = await ask(args);
      if (!result.ok) throw new Error(`${JSON.stringify(args)} was refused: ${result.error.message}`);
      return result.value;
    };
    const ids = (connection: UserConnection) => connection.edges.map((edge) => edge.node.id);

    /**
     * Every page from the start (or the end) with `first` (or `last`) = size, each checked
     * against the reference; the users seen, joined in creation order.
     */
    async function walk(users: readonly UserView[], direction: 'forward' | 'backward', size: number): Promise<string[]> {
      const seen: string[][] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages <= users.length + 1; pages++) {
        const args: PageArgs = direction === 'forward' ? { first: size, after: cursor } : { last: size, before: cursor };
        const connection = await page(args);
        expect(connection, JSON.stringify(args)).toEqual(referenceConnection(users, args, cursorOf, positionOf));
        if (direction === 'forward') {
          seen.push(ids(connection));
          if (!connection.pageInfo.hasNextPage) return seen.flat();
          cursor = connection.pageInfo.endCursor;
        } else {
          seen.unshift(ids(connection));
          if (!connection.pageInfo.hasPreviousPage) return seen.flat();
          cursor = connection.pageInfo.startCursor;
        }
      }
      throw new Error(`a ${direction} walk at page size ${size} did not end after ${users.length + 1} pages`);
    }

    it('pages backward to the oldest users even when fewer than `last` precede the cursor', async () => {
      const { users } = await load({ users: 15, renames: [] });
      const all = await page({ last: DEFAULT_PAGE_SIZE });
      expect(ids(all)).toEqual(users.map((user) => user.id));
      expect(all.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: false });

      const third = users[2]!;
      const older = await page({ last: 3, before: cursorOf(third.createdPosition) });
      expect(ids(older)).toEqual([users[0]!.id, users[1]!.id]);
      expect(older.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    });

    it('walks forward and backward through every user exactly once, at every page size from 1 to 100', { timeout: 120_000 }, async () => {
      const { users } = await load({ users: 150, renames: [10, 11, 70, 149, 150].map((n) => ({ afterCreating: n, user: n * 7 })) });
      const everyone = users.map((user) => user.id);
      for (let size = 1; size <= 100; size++) {
        expect(await walk(users, 'forward', size), `forward at ${size}`).toEqual(everyone);
        expect(await walk(users, 'backward', size), `backward at ${size}`).toEqual(everyone);
      }
    });

    it('keeps an erased user’s row in its place and in the count, anonymised: id, version and times stay, personal fields are null', async () => {
      const { users } = await load({ users: 6, renames: [{ afterCreating: 3, user: 1 }], erase: [1, 4] });
      const [renamedThenErased, erased] = [users[1]!, users[4]!];
      expect(renamedThenErased).toMatchObject({ username: null, email: null, erased: true, version: 3 });
      expect(erased).toMatchObject({ username: null, email: null, erased: true, version: 2 });
      expect(users.filter((user) => !user.erased).every((user) => user.email !== null && user.username !== null)).toBe(true);
      expect(await fixture.readModel.byIds(users.map((user) => user.id))).toEqual(expect.arrayContaining([...users]));
      expect(await fixture.readModel.byIds([erased.id])).toEqual([erased]);
      expect(await fixture.readModel.count()).toBe(6);
      expect(await walk(users, 'forward', 4)).toEqual(users.map((user) => user.id));
      expect(await walk(users, 'backward', 4)).toEqual(users.map((user) => user.id));
    });

    it('projects a stream whose personal fields read null (a destroyed key) to an erased row, on a rebuild too', async () => {
      const { users } = await load({ users: 4, renames: [{ afterCreating: 4, user: 2 }], redacted: [2], erase: [2] });
      const redacted = users[2]!;
      expect(redacted).toMatchObject({ username: null, email: null, erased: true, version: 3 });
      expect(await fixture.readModel.byIds([redacted.id])).toEqual([redacted]);
      expect(await page({})).toEqual(referenceConnection(users, {}, cursorOf, positionOf));
    });

    it('answers an empty read model with an empty page', async () => {
      await load({ users: 0, renames: [] });
      const empty = { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } };
      expect(await page({})).toEqual(empty);
      expect(await page({ last: 5 })).toEqual(empty);
    });

    it('refuses page requests it cannot answer, naming the argument', async () => {
      await load({ users: 3, renames: [] });
      const refused = async (args: PageArgs) => {
        const result = await ask(args);
        return result.ok ? 'answered' : result.error.argument;
      };
      expect(await refused({ first: 101 })).toBe('first');
      expect(await refused({ last: -1 })).toBe('last');
      expect(await refused({ first: 1, last: 1 })).toBe('last');
      expect(await refused({ after: 'not a cursor' })).toBe('after');
      expect(await refused({ before: Buffer.from('user:nowhere').toString('base64url') })).toBe('before');
      expect(await refused({ after: Buffer.from(`order:${fixture.store.formatPosition(logEnd)}`).toString('base64url') })).toBe('after');
      expect(await refused({ first: 100, last: null, after: cursorOf(logEnd) })).toBe('answered');
    });

    it('answers every page request as the Relay Cursor Connections reference does, and every walk sees each user once', { timeout: Math.max(60_000, RUNS * 3_000) }, async () => {
      const plan = fc.record({
        // Small sets often: the edges (empty, one page, exactly a page) are at small sizes.
        users: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 300 })),
        renames: fc.array(fc.record({ afterCreating: fc.integer({ min: 0, max: 300 }), user: fc.nat() }), { maxLength: 12 }),
      });
      const cursor: fc.Arbitrary<CursorChoice> = fc.oneof(
        fc.constant(undefined),
        fc.record({ of: fc.constant('user' as const), index: fc.nat() }),
        fc.record({ of: fc.constant('elsewhere' as const), index: fc.nat() }),
      );
      const request = fc.record({
        count: fc.oneof({ weight: 1, arbitrary: fc.constant('default' as const) }, { weight: 4, arbitrary: fc.record({ by: fc.constantFrom('first' as const, 'last' as const), size: fc.integer({ min: 1, max: 100 }) }) }),
        after: cursor,
        before: cursor,
      });
      await fc.assert(
        fc.asyncProperty(plan, fc.array(request, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 100 }), async (planned, requests, walkSize) => {
          const { users, elsewhere } = await load(planned);
          const pick = (choice: CursorChoice) => {
            if (choice === undefined) return null;
            if (choice.of === 'user' && users.length > 0) return cursorOf(users[choice.index % users.length]!.createdPosition);
            return cursorOf(elsewhere[choice.index % elsewhere.length]!);
          };
          for (const { count, after, before } of requests) {
            const args: PageArgs = { ...(count === 'default' ? {} : { [count.by]: count.size }), after: pick(after), before: pick(before) };
            expect(await page(args), JSON.stringify(args)).toEqual(referenceConnection(users, args, cursorOf, positionOf));
          }
          const everyone = users.map((user) => user.id);
          expect(await walk(users, 'forward', walkSize)).toEqual(everyone);
          expect(await walk(users, 'backward', walkSize)).toEqual(everyone);
        }),
        { numRuns: RUNS },
      );
    });
  });
}
