/**
 * The `userEvents` subscription over GraphQL over SSE (distinct connections),
 * read frame by frame from the body `app.fetch` returns over the in-memory store.
 */
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateUserDocument,
  UpdateUserDocument,
  UserEventsDocument,
  type UserEventsSubscription,
  type UserEventsSubscriptionVariables,
} from '../gql/graphql.js';
import { expectType, type GraphQLErrorBody } from '../support/graphql.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';
import { readSse, type SseStream } from '../support/sse.js';

type UserEvent = UserEventsSubscription['userEvents'];
type Next = { data?: UserEventsSubscription | null; errors?: GraphQLErrorBody[] };

let api: InProcessApp;
beforeAll(async () => {
  api = await createInProcessApp();
});
afterAll(async () => {
  await api?.close();
});

const open: SseStream[] = [];
async function subscribe(variables: UserEventsSubscriptionVariables, headers: Record<string, string> = {}, on = api): Promise<SseStream> {
  const response = await on.fetch(on.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query: print(UserEventsDocument), variables }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const stream = readSse(response);
  open.push(stream);
  return stream;
}
afterAll(async () => {
  for (const stream of open) await stream.cancel();
});
const events = (stream: SseStream): UserEvent[] => stream.results<Next>().map((next) => next.data!.userEvents);

let counter = 0;
async function createUser(on = api) {
  counter += 1;
  const input = { username: `sse_${counter}`, email: `sse.${counter}@example.com` };
  return expectType((await on.executeOk(CreateUserDocument, { input })).createUser, 'CreateUserSuccess');
}
async function rename(id: string, on = api) {
  counter += 1;
  return expectType((await on.executeOk(UpdateUserDocument, { input: { id, username: `renamed_${counter}` } })).updateUser, 'UpdateUserSuccess');
}

describe('userEvents over SSE through app.fetch', () => {
  it('after a mutation’s position: the events after it, in log order, then live ones', async () => {
    const a = await createUser();
    const written = [await rename(a.user.id), await createUser(), await rename(a.user.id)];
    const [a2, b, a3] = written;
    const stream = await subscribe({ after: a.position });
    await stream.readNext(3);
    expect(events(stream).map(({ userId, version, position }) => ({ userId, version, position }))).toEqual([
      { userId: a.user.id, version: 2, position: a2!.position },
      { userId: b!.user.id, version: 1, position: b!.position },
      { userId: a.user.id, version: 3, position: a3!.position },
    ]);
    // Each frame's id is its event's position, which a reconnecting EventSource sends back.
    const frames = stream.frames.filter((f) => f.event === 'next');
    expect(frames.map((f) => f.id)).toEqual(written.map((w) => w!.position));

    const live = await rename(b!.user.id);
    await stream.readNext(4);
    expect(events(stream)[3]).toMatchObject({ __typename: 'UserUpdated', userId: b!.user.id, version: 2, position: live.position });
    expect(stream.frames.every((f) => f.event === 'next')).toBe(true);
  });

  it('with userId: only that user’s events, each with its own fields', async () => {
    const a = await createUser();
    const other = await createUser();
    const renamed = await rename(a.user.id);
    await rename(other.user.id);
    const stream = await subscribe({ userId: a.user.id, after: '0' });
    await stream.readNext(2);
    expect(events(stream)).toEqual([
      {
        __typename: 'UserCreated',
        userId: a.user.id,
        version: 1,
        position: a.position,
        occurredAt: a.user.createdAt,
        username: a.user.username,
        email: a.user.email,
      },
      {
        __typename: 'UserUpdated',
        userId: a.user.id,
        version: 2,
        position: renamed.position,
        occurredAt: renamed.user.updatedAt,
        changedUsername: renamed.user.username,
        changedEmail: null,
      },
    ]);
    const live = await rename(other.user.id);
    const mine = await rename(a.user.id);
    await stream.readNext(3);
    expect(events(stream).map((e) => e.position)).toEqual([a.position, renamed.position, mine.position]);
    expect(events(stream).map((e) => e.position)).not.toContain(live.position);
  });

  it('Last-Event-ID resumes right after that event: nothing twice, nothing missed', async () => {
    const a = await createUser();
    const later = [await rename(a.user.id), await rename(a.user.id)];
    const stream = await subscribe({ userId: a.user.id, after: '0' }, { 'last-event-id': a.position });
    await stream.readNext(2);
    expect(events(stream).map((e) => [e.version, e.position])).toEqual(later.map((w) => [w.user.version, w.position]));
  });

  it.each([
    ['mem:999999', /"after" is not the position of an event in this event log/],
    ['garbage', /"after" is not a position/],
    ['sqlite:5', /"after" is a position of a SQLite event store/],
  ])('after: %j names no event of this log: BAD_USER_INPUT, and the stream ends', async (after, message) => {
    await createUser();
    const stream = await subscribe({ after });
    await stream.readToEnd();
    expect(stream.ended()).toBe(true);
    const [result, ...rest] = stream.results<Next>();
    expect(rest).toEqual([]);
    expect(result?.data ?? null).toBeNull();
    expect(result?.errors).toHaveLength(1);
    expect(result!.errors![0]!.message).toMatch(message);
    expect(result!.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
    expect(stream.frames.at(-1)?.event).toBe('complete');
  });

  it('closing the app completes a live subscription', async () => {
    const own = await createInProcessApp();
    try {
      const created = await createUser(own);
      const stream = await subscribe({ after: created.position }, {}, own);
      const renamed = await rename(created.user.id, own);
      await stream.readNext(1);
      expect(events(stream)[0]).toMatchObject({ position: renamed.position });
      await own.close();
      await stream.readToEnd();
      expect(stream.frames.map((f) => f.event)).toEqual(['next', 'complete']);
    } finally {
      await own.close();
    }
  });
});
