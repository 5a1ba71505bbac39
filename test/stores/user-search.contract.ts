/**
 * Conformance suite for the user search read model (UserSearchReadModel), as
 * clients ask it through `SearchUsers`: a model-based property test against
 * a plain reference (filter an array, sort it, cut pages). Rows get there the
 * real way, through a real event store and the adapter's own projection sink.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore, NewEvent } from '../../src/kernel/event-store.js';
import type { StoredEvent } from '../../src/kernel/messages.js';
import { LOG_START } from '../../src/kernel/position.js';
import type { ProjectionSink } from '../../src/kernel/projector.js';
import { createQueryBus, createRequestScope, type QueryBus } from '../../src/kernel/query-bus.js';
import { streamIdOf } from '../../src/kernel/stream-id.js';
import { countSearchedUsers, registerUserSearchQueries, searchUsers, type SearchArgs, type UserSearchConnection } from '../../src/users/read-model/search/queries.js';
import type { OrderDirection, UserOrderField, UserSearchReadModel } from '../../src/users/read-model/search/search.js';
import { USER_STREAMS } from '../../src/users/user.js';
import { waitUntil } from '../support/wait.js';

export type UserSearchFixture = Readonly<{
  store: EventStore;
  /** The adapter's user-search projection, writing where `readModel` reads. */
  sink: ProjectionSink;
  readModel: UserSearchReadModel;
  cleanup: () => Promise<void>;
}>;

const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 40);

/** Few names and domains, in several cases, so that prefixes, ties and case folding all happen. */
const USERNAMES = ['al', 'Al', 'alice', 'ALICE', 'Albert', 'al.x', 'al_y', 'al-z', 'bob', 'Bo', 'b0b', 'zed', 'Zoe', '_u', '.dot', '-dash', '9lives'];
const DOMAINS = ['example.com', 'Example.COM', 'mail.example.com', 'other.org'];
const PREFIXES = ['a', 'A', 'al', 'AL', 'ali', 'al.', 'al_', 'al-', 'b', 'bo', 'z', '_', '.', '-', '9', 'q', 'alicex'];

type Plan = Readonly<{
  users: readonly Readonly<{ username: number; domain: number }>[];
  /** Later changes: a user (index modulo the users) gets a new username, a new email, or both. */
  updates: readonly Readonly<{ user: number; username?: number; domain?: number }>[];
}>;

type Person = { id: string; username: string; email: string; position: string };

type Search = Readonly<{ usernamePrefix?: string; emailDomain?: string; field: UserOrderField; direction: OrderDirection }>;

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The reference: the matching people in the search's order, by nothing more than filter and sort. */
function reference(people: readonly Person[], search: Search): Person[] {
  const matching = people.filter(
    (person) =>
      (!search.usernamePrefix || person.username.toLowerCase().startsWith(search.usernamePrefix.toLowerCase())) &&
      (!search.emailDomain || person.email.slice(person.email.lastIndexOf('@') + 1).toLowerCase() === search.emailDomain.toLowerCase()),
  );
  const ascending = matching.sort((a, b) =>
    search.field === 'USERNAME' ? compareText(a.username.toLowerCase(), b.username.toLowerCase()) || compareText(a.position, b.position) : compareText(a.position, b.position),
  );
  return search.direction === 'ASC' ? ascending : ascending.reverse();
}

const argsOf = (search: Search): SearchArgs => ({
  filter: { usernamePrefix: search.usernamePrefix ?? null, emailDomain: search.emailDomain ?? null },
  orderBy: { field: search.field, direction: search.direction },
});

export function describeUserSearchContract(adapterName: string, createFixture: () => Promise<UserSearchFixture>): void {
  describe(`UserSearchReadModel contract: ${adapterName}`, () => {
    let fixture: UserSearchFixture;
    let bus: QueryBus;
    let logEnd = LOG_START;
    let dataSets = 0;

    beforeAll(async () => {
      fixture = await createFixture();
      bus = createQueryBus();
      registerUserSearchQueries({ queryBus: bus, search: fixture.readModel, positions: fixture.store });
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    /** Appends the plan's events, then makes the read model hold exactly them, through the projection. */
    async function load(plan: Plan): Promise<Person[]> {
      const tag = `s${(dataSets += 1)}`;
      const occurredAt = new Date(Date.UTC(2026, 0, 1)).toISOString();
      const versions: number[] = [];
      const append = async (index: number, event: NewEvent) => {
        const userId = `${tag}-u${index}`;
        const result = await fixture.store.append({ streamId: streamIdOf(USER_STREAMS, userId), expectedVersion: versions[index] ?? 0, events: [event] });
        if (!result.ok) throw new Error(JSON.stringify(result.error));
        versions[index] = (versions[index] ?? 0) + 1;
      };
      // One at a time: creation order is the order of the calls, on every store.
      for (const [index, user] of plan.users.entries()) {
        const data = { userId: `${tag}-u${index}`, username: USERNAMES[user.username % USERNAMES.length]!, email: `P${index}@${DOMAINS[user.domain % DOMAINS.length]!}` };
        await append(index, { type: 'UserCreated', data, metadata: { occurredAt } });
      }
      for (const update of plan.users.length === 0 ? [] : plan.updates) {
        const index = update.user % plan.users.length;
        const data = {
          userId: `${tag}-u${index}`,
          ...(update.username === undefined ? {} : { username: USERNAMES[update.username % USERNAMES.length]! }),
          ...(update.domain === undefined ? {} : { email: `q${index}@${DOMAINS[update.domain % DOMAINS.length]!}` }),
        };
        await append(index, { type: 'UserUpdated', data, metadata: { occurredAt } });
      }
      const appended = versions.reduce((sum, version) => sum + version, 0);
      let events: readonly StoredEvent[] = [];
      await waitUntil(async () => (events = await fixture.store.readAll({ after: logEnd, limit: appended + 1 })).length === appended, `${appended} events to become readable`);
      logEnd = events.at(-1)?.position ?? logEnd;
      await fixture.sink.reset();
      expect(await fixture.sink.apply(events, LOG_START)).toBe(true);

      // The people, folded here by hand rather than by the projection's fold.
      const people = new Map<string, Person>();
      for (const event of events) {
        const data = event.data as { userId: string; username?: string; email?: string };
        const before = people.get(data.userId);
        people.set(data.userId, {
          id: data.userId,
          username: data.username ?? before!.username,
          email: data.email ?? before!.email,
          position: before?.position ?? event.position,
        });
      }
      return [...people.values()];
    }

    const ask = (args: SearchArgs) => bus.execute(searchUsers(args), createRequestScope());
    const page = async (args: SearchArgs): Promise<UserSearchConnection> => {
      const result = await ask(args);
      if (!result.ok) throw new Error(`${JSON.stringify(args)} was refused: ${result.error.message}`);
      return result.value;
    };
    const ids = (connection: UserSearchConnection) => connection.edges.map((edge) => edge.node.id);

    /** Every page forward (`first`) or backward (`last`) through the cursors; the ids seen, in the search's order. */
    async function walk(search: Search, direction: 'forward' | 'backward', size: number, expected: readonly string[]): Promise<string[]> {
      const seen: string[][] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages <= expected.length + 1; pages++) {
        const args: SearchArgs = { ...argsOf(search), ...(direction === 'forward' ? { first: size, after: cursor } : { last: size, before: cursor }) };
        const connection = await page(args);
        const at = seen.flat().length;
        // Each page is the reference's next slice, and says whether more lie beyond it.
        const slice = direction === 'forward' ? expected.slice(at, at + size) : expected.slice(Math.max(0, expected.length - at - size), expected.length - at);
        expect(ids(connection), JSON.stringify(args)).toEqual(slice);
        if (direction === 'forward') {
          seen.push(ids(connection));
          expect(connection.pageInfo.hasNextPage).toBe(seen.flat().length < expected.length);
          expect(connection.pageInfo.hasPreviousPage).toBe(cursor !== null && expected.length > 0);
          if (!connection.pageInfo.hasNextPage) return seen.flat();
          cursor = connection.pageInfo.endCursor;
        } else {
          seen.unshift(ids(connection));
          expect(connection.pageInfo.hasPreviousPage).toBe(seen.flat().length < expected.length);
          expect(connection.pageInfo.hasNextPage).toBe(cursor !== null && expected.length > 0);
          if (!connection.pageInfo.hasPreviousPage) return seen.flat();
          cursor = connection.pageInfo.startCursor;
        }
      }
      throw new Error(`a ${direction} walk at page size ${size} did not end`);
    }

    it('orders by username ignoring case, ties by creation, in both directions', async () => {
      const people = await load({ users: [0, 1, 8, 2, 3, 9].map((username) => ({ username, domain: 0 })), updates: [] });
      const asc = await page({ orderBy: { field: 'USERNAME', direction: 'ASC' }, first: 100 });
      expect(asc.edges.map((edge) => edge.node.username)).toEqual(['al', 'Al', 'alice', 'ALICE', 'Bo', 'bob']);
      const desc = await page({ orderBy: { field: 'USERNAME', direction: 'DESC' }, first: 100 });
      expect(ids(desc)).toEqual(ids(asc).reverse());
      expect(people).toHaveLength(6);
    });

    it('filters by username prefix and by email domain, ignoring case, and counts what matches', async () => {
      await load({ users: [0, 2, 4, 8, 11].map((username, i) => ({ username, domain: i })), updates: [] });
      const names = async (args: SearchArgs) => (await page({ ...args, first: 100 })).edges.map((edge) => edge.node.username);
      expect(await names({ filter: { usernamePrefix: 'AL' } })).toEqual(['al', 'alice', 'Albert']);
      expect(await names({ filter: { usernamePrefix: 'al', emailDomain: 'EXAMPLE.com' }, orderBy: { field: 'USERNAME' } })).toEqual(['al', 'alice']);
      expect(await names({ filter: { emailDomain: 'mail.example.com' } })).toEqual(['Albert']);
      expect(await names({ filter: { usernamePrefix: '' } })).toHaveLength(5);
      const search = (await page({ filter: { usernamePrefix: 'al' } })).search;
      expect(await bus.execute(countSearchedUsers(search), createRequestScope())).toBe(3);
    });

    it('refuses cursors of another order, direction or filter, malformed cursors and bad filters, naming the argument', async () => {
      await load({ users: [0, 2, 4].map((username) => ({ username, domain: 0 })), updates: [] });
      const byName = await page({ orderBy: { field: 'USERNAME' }, first: 1 });
      const cursor = byName.pageInfo.endCursor!;
      const refusal = async (args: SearchArgs) => {
        const result = await ask(args);
        return result.ok ? 'answered' : [result.error.argument, result.error.message];
      };
      expect(await refusal({ orderBy: { field: 'USERNAME' }, after: cursor })).toBe('answered');
      for (const other of [{ orderBy: { field: 'CREATED_AT' as const } }, { orderBy: { field: 'USERNAME' as const, direction: 'DESC' as const } }, { orderBy: { field: 'USERNAME' as const }, filter: { usernamePrefix: 'a' } }]) {
        expect(await refusal({ ...other, after: cursor })).toEqual(['after', expect.stringContaining('another filter or orderBy')]);
        expect(await refusal({ ...other, before: cursor })).toEqual(['before', expect.stringContaining('another filter or orderBy')]);
      }
      // A cursor of the unfiltered `users` list, and garbage.
      expect(await refusal({ orderBy: {}, after: Buffer.from('user:1').toString('base64url') })).toEqual(['after', '"after" is not a cursor of this connection']);
      expect(await refusal({ orderBy: {}, before: 'x'.repeat(300) })).toEqual(['before', '"before" is not a cursor of this connection']);
      expect((await refusal({ filter: { usernamePrefix: 'a%' } }))[0]).toBe('filter.usernamePrefix');
      expect((await refusal({ filter: { emailDomain: 'a@b' } }))[0]).toBe('filter.emailDomain');
      expect((await refusal({ filter: { usernamePrefix: 'a'.repeat(33) } }))[0]).toBe('filter.usernamePrefix');
    });

    it('pages every filter, order and direction forward and backward as the reference does', { timeout: Math.max(60_000, RUNS * 4_000) }, async () => {
      const plan = fc.record({
        users: fc.array(fc.record({ username: fc.nat(), domain: fc.nat() }), { maxLength: 60 }),
        updates: fc.array(fc.record({ user: fc.nat(), username: fc.option(fc.nat(), { nil: undefined }), domain: fc.option(fc.nat(), { nil: undefined }) }), { maxLength: 15 }),
      });
      const search = fc.record({
        usernamePrefix: fc.option(fc.constantFrom(...PREFIXES), { nil: undefined }),
        emailDomain: fc.option(fc.constantFrom(...DOMAINS, 'EXAMPLE.COM', 'nowhere.net'), { nil: undefined }),
        field: fc.constantFrom('CREATED_AT' as const, 'USERNAME' as const),
        direction: fc.constantFrom('ASC' as const, 'DESC' as const),
      });
      await fc.assert(
        fc.asyncProperty(plan, fc.array(search, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 25 }), async (planned, searches, size) => {
          const people = await load(planned);
          for (const wanted of searches) {
            const expected = reference(people, wanted).map((person) => person.id);
            const label = `${JSON.stringify(wanted)} at ${size}`;
            expect(await walk(wanted, 'forward', size, expected), label).toEqual(expected);
            expect(await walk(wanted, 'backward', size, expected), label).toEqual(expected);
            const { search: normalised } = await page(argsOf(wanted));
            expect(await bus.execute(countSearchedUsers(normalised), createRequestScope())).toBe(expected.length);
          }
        }),
        { numRuns: RUNS },
      );
    });
  });
}
