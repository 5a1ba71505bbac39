/**
 * Erasure in the users domain: EraseUser and its rules (given/when/then),
 * and every fold of a user's stream once the user's key is destroyed and
 * their personal fields read null (README "Erasure"): the decider's state,
 * the view that the read model, history and time travel share. A redacted
 * stream must fold to an erased-looking user, and never throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldEvents } from '../../src/kernel/decider.js';
import type { StoredEvent } from '../../src/kernel/messages.js';
import type { Position } from '../../src/kernel/position.js';
import { userDecider, type CreateUser, type EraseUser, type UpdateUser } from '../../src/users/decide.js';
import { eraseUserRules } from '../../src/users/input-rules.js';
import type { UserCreated, UserErased, UserEvent, UserUpdated } from '../../src/users/user.js';
import { evolveUserView, userViewFromStream } from '../../src/users/user-view.js';
import { fixedMetadata, givenWhenThen } from './given-when-then.js';

const given = givenWhenThen(userDecider);

const created = (over: Partial<UserCreated['data']> = {}): UserCreated => ({
  type: 'UserCreated',
  data: { userId: 'u1', username: 'alice', email: 'alice@example.com', createdBy: null, ...over },
});
const updated = (data: Omit<UserUpdated['data'], 'userId'>): UserUpdated => ({ type: 'UserUpdated', data: { userId: 'u1', ...data } });
const erased = (erasedBy: string | null = null): UserErased => ({ type: 'UserErased', data: { userId: 'u1', erasedBy } });
const eraseUser = (userId = 'u1'): EraseUser => ({ type: 'EraseUser', data: { userId } });
const createUser = (): CreateUser => ({ type: 'CreateUser', data: { userId: 'u1', username: 'bob', email: 'bob@example.com' } });
const updateUser = (data: Omit<UpdateUser['data'], 'userId'>): UpdateUser => ({ type: 'UpdateUser', data: { userId: 'u1', ...data } });

/** The stream as a store reads it once the user's key is destroyed: personal fields null, everything else as written. */
const redacted = (events: readonly UserEvent[]): UserEvent[] =>
  events.map((event) => {
    switch (event.type) {
      case 'UserCreated':
        return { ...event, data: { ...event.data, username: null, email: null } };
      case 'UserUpdated':
        return {
          ...event,
          data: {
            userId: event.data.userId,
            ...(event.data.username === undefined ? {} : { username: null }),
            ...(event.data.email === undefined ? {} : { email: null }),
          },
        };
      case 'UserErased':
        return event;
    }
  });

const stored = (events: readonly UserEvent[]): StoredEvent[] =>
  events.map((event, i) => ({
    ...event,
    streamId: 'user-u1',
    streamVersion: i + 1,
    schemaVersion: 1,
    position: String(i + 1).padStart(20, '0') as Position,
    metadata: { occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() },
  }));

describe('EraseUser', () => {
  it('erases a registered user, recording the admin who did', () => {
    given([created()]).when(eraseUser(), { ...fixedMetadata, actor: 'root' }).then([erased('root')]);
    given([created(), updated({ email: 'a2@example.com' })]).when(eraseUser(), { ...fixedMetadata, actor: undefined }).then([erased(null)]);
  });

  it('is the same success, appending nothing, for a user erased already', () => {
    given([created(), erased()]).when(eraseUser()).then([]);
    // Also when the stream reads redacted: the key is gone, the UserErased event is still there.
    given(redacted([created(), updated({ username: 'alice2' }), erased()])).when(eraseUser()).then([]);
  });

  it('rejects a user that does not exist as UserNotFound', () => {
    const rejection = given([]).when(eraseUser('ghost')).thenRejects('UserNotFound');
    expect(rejection).toMatchObject({ userId: 'ghost' });
  });

  it('takes a valid user id, and nothing else', () => {
    expect(eraseUserRules.safeParse({ userId: 'u1' })).toEqual({ success: true, data: { userId: 'u1' } });
    expect(eraseUserRules.safeParse({ userId: 'a b' }).success).toBe(false);
    expect(eraseUserRules.safeParse({ userId: 'u1', email: 'x@example.com' }).success).toBe(false);
  });
});

describe('commands on an erased user', () => {
  it('refuse to create a user under the erased id: UserAlreadyExists (an id names one person for the life of the log)', () => {
    given([created(), erased()]).when(createUser()).thenRejects('UserAlreadyExists');
    given(redacted([created()])).when(createUser()).thenRejects('UserAlreadyExists');
  });

  it('refuse to update: UserNotFound, saying the user was erased', () => {
    const rejection = given([created(), erased()]).when(updateUser({ username: 'back' })).thenRejects('UserNotFound');
    expect(rejection.message).toMatch(/erased/);
    given([created(), erased()]).when(updateUser({})).thenRejects('UserNotFound');
  });
});

describe('the decider state of an erased user', () => {
  it('keeps only the id', () => {
    expect(foldEvents(userDecider, [created(), updated({ username: 'a2' }), erased()])).toEqual({ status: 'erased', userId: 'u1' });
  });

  it('is erased for every prefix of a redacted stream, never half a user', () => {
    const history = redacted([created(), updated({ username: 'a2' }), updated({ email: 'b@example.com' }), erased()]);
    for (let length = 1; length <= history.length; length++) {
      expect(foldEvents(userDecider, history.slice(0, length))).toEqual({ status: 'erased', userId: 'u1' });
    }
  });
});

describe('the user view of an erased user (read model, history, time travel)', () => {
  it('keeps id, version, times and creation position; personal fields are null and erased is true', () => {
    const events = stored([created(), updated({ username: 'alice2' }), erased()]);
    expect(userViewFromStream(events)).toEqual({
      id: 'u1',
      username: null,
      email: null,
      erased: true,
      version: 3,
      createdAt: events[0]!.metadata.occurredAt,
      updatedAt: events[2]!.metadata.occurredAt,
      createdPosition: events[0]!.position,
    });
  });

  it('is not erased before the erasure while the log still holds the personal data', () => {
    const events = stored([created(), erased()]);
    expect(userViewFromStream(events.slice(0, 1))).toMatchObject({ username: 'alice', email: 'alice@example.com', erased: false });
  });

  it('shows a past state of a redacted stream (time travel before the erasure) with null fields and erased true', () => {
    const events = stored(redacted([created(), updated({ username: 'alice2' }), updated({ email: 'n@example.com' }), erased()]));
    for (let version = 1; version <= events.length; version++) {
      expect(userViewFromStream(events.slice(0, version))).toMatchObject({ username: null, email: null, erased: true, version });
    }
  });

  it('stays erased when a later event carries a field (an update replayed after erasure cannot bring data back)', () => {
    const [first, second] = stored([created(), erased()]);
    const late = stored([created(), erased(), updated({ username: 'back' })])[2]!;
    const view = [first!, second!, late].reduce(evolveUserView, null);
    expect(view).toMatchObject({ username: null, email: null, erased: true, version: 3 });
  });

  it('folds any redacted stream, of any shape after its creation, to an erased user, and never throws', () => {
    const event: fc.Arbitrary<UserEvent> = fc.oneof(
      fc.constant(created()),
      fc.record({ username: fc.option(fc.constant('x1y'), { nil: undefined }), email: fc.option(fc.constant('x@y.z'), { nil: undefined }) }).map(updated),
      fc.constant(erased()),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 12 }), (later) => {
        const history = [created(), ...later];
        const shredded = redacted(history);
        const view = userViewFromStream(stored(shredded));
        const state = foldEvents(userDecider, shredded);
        expect(view).toMatchObject({ username: null, email: null, erased: true, version: history.length });
        expect(state).toEqual({ status: 'erased', userId: 'u1' });
      }),
    );
  });
});
