import { describe, expect, it } from 'vitest';
import { foldEvents } from '../../src/kernel/decider.js';
import { userDecider, type CreateUser, type UpdateUser } from '../../src/users/decide.js';
import { createUserRules, updateUserRules } from '../../src/users/input-rules.js';
import { emailKey, evolve, initialState, type UserCreated, type UserEvent, type UserUpdated } from '../../src/users/user.js';
import { fixedMetadata, givenWhenThen } from './given-when-then.js';

const given = givenWhenThen(userDecider);

const created = (over: Partial<UserCreated['data']> = {}): UserCreated => ({
  type: 'UserCreated',
  data: { userId: 'u1', username: 'alice', email: 'alice@example.com', createdBy: null, ...over },
});
const updated = (data: Omit<UserUpdated['data'], 'userId'>, userId = 'u1'): UserUpdated => ({
  type: 'UserUpdated',
  data: { userId, ...data },
});
const createUser = (over: Partial<CreateUser['data']> = {}): CreateUser => ({
  type: 'CreateUser',
  data: { userId: 'u1', username: 'alice', email: 'alice@example.com', ...over },
});
const updateUser = (data: Omit<UpdateUser['data'], 'userId'>, userId = 'u1'): UpdateUser => ({
  type: 'UpdateUser',
  data: { userId, ...data },
});

describe('users decider', () => {
  describe('CreateUser', () => {
    it('creates a user on an empty stream', () => {
      given([]).when(createUser()).then([created()]);
    });

    it('records who created the user: the actor of the command, or no one', () => {
      given([]).when(createUser(), { ...fixedMetadata, actor: 'root' }).then([created({ createdBy: 'root' })]);
      given([]).when(createUser(), { ...fixedMetadata, actor: undefined }).then([created({ createdBy: null })]);
    });

    it('rejects creating a user that already exists', () => {
      const rejection = given([created()]).when(createUser({ username: 'other' })).thenRejects('UserAlreadyExists');
      expect(rejection).toMatchObject({ userId: 'u1' });
    });

    it('rejects re-creating a user that was created and updated since', () => {
      given([created(), updated({ username: 'alice2' })])
        .when(createUser())
        .thenRejects('UserAlreadyExists');
    });
  });

  describe('UpdateUser', () => {
    it('rejects updating a user that does not exist', () => {
      const rejection = given([]).when(updateUser({ username: 'bob' }, 'ghost')).thenRejects('UserNotFound');
      expect(rejection).toMatchObject({ userId: 'ghost' });
    });

    it('rejects updating a user that does not exist as UserNotFound, whatever expectedVersion says', () => {
      // The handler checks expectedVersion only after this rejection (src/kernel/command-handler.ts).
      for (const expectedVersion of [0, 1, 7]) {
        given([]).when(updateUser({ username: 'bob', expectedVersion }, 'ghost')).thenRejects('UserNotFound');
      }
    });

    it('emits UserUpdated with only the username when only the username changes', () => {
      given([created()])
        .when(updateUser({ username: 'alice2', email: 'alice@example.com' }))
        .then([updated({ username: 'alice2' })]);
    });

    it('emits UserUpdated with only the email when only the email changes', () => {
      given([created()])
        .when(updateUser({ username: 'alice', email: 'new@example.com' }))
        .then([updated({ email: 'new@example.com' })]);
    });

    it('emits both fields when both change', () => {
      given([created()])
        .when(updateUser({ username: 'bob', email: 'bob@example.com' }))
        .then([updated({ username: 'bob', email: 'bob@example.com' })]);
    });

    it('treats an email change that differs only in case as no change', () => {
      given([created()]).when(updateUser({ email: 'ALICE@Example.COM' })).then([]);
    });

    it('emits nothing for an update that changes nothing', () => {
      given([created()]).when(updateUser({ username: 'alice', email: 'alice@example.com' })).then([]);
      given([created()]).when(updateUser({})).then([]);
    });

    it('decides against the state after earlier updates', () => {
      // Changing back to the original username is a change once the name moved.
      given([created(), updated({ username: 'alice2' })])
        .when(updateUser({ username: 'alice' }))
        .then([updated({ username: 'alice' })]);
      given([created(), updated({ username: 'alice2' })]).when(updateUser({ username: 'alice2' })).then([]);
    });
  });

  describe('evolve', () => {
    it('starts absent', () => {
      expect(initialState()).toEqual({ status: 'absent' });
    });

    it('applies creation and then partial updates, keeping absent fields', () => {
      const history: UserEvent[] = [created(), updated({ username: 'alice2' }), updated({ email: 'a2@example.com' })];
      expect(foldEvents(userDecider, history)).toEqual({
        status: 'registered',
        userId: 'u1',
        username: 'alice2',
        email: 'a2@example.com',
      });
    });

    it('ignores an update for a user that was never created', () => {
      expect(evolve(initialState(), updated({ username: 'x' }))).toEqual({ status: 'absent' });
    });

    it('compares emails by their lower-case key', () => {
      expect(emailKey('Alice@Example.COM')).toBe('alice@example.com');
    });
  });
});

/** Field names of the failed issues, e.g. ['username']. */
function failedFields(result: ReturnType<typeof createUserRules.safeParse> | ReturnType<typeof updateUserRules.safeParse>) {
  expect(result.success).toBe(false);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.map(String).join('.'));
}

const validCreate = { userId: 'u1', username: 'alice', email: 'alice@example.com' };

describe('user input rules', () => {
  describe('username', () => {
    it.each([
      ['3 characters', 'abc'],
      ['32 characters', 'a'.repeat(32)],
      ['letters, digits, _ . -', 'Al_ice.9-x'],
    ])('accepts %s', (_label, username) => {
      expect(createUserRules.safeParse({ ...validCreate, username })).toEqual({ success: true, data: { ...validCreate, username } });
    });

    it.each([
      ['2 characters', 'ab'],
      ['33 characters', 'a'.repeat(33)],
      ['a space inside', 'al ice'],
      ['a non-ASCII letter', 'alicé'],
      ['an @', 'al@ice'],
      ['only spaces', '     '],
      ['a non-string', 42],
    ])('rejects %s', (_label, username) => {
      expect(failedFields(createUserRules.safeParse({ ...validCreate, username }))).toEqual(['username']);
    });

    it('trims before checking and returns the trimmed value', () => {
      const parsed = createUserRules.safeParse({ ...validCreate, username: '   bob   ' });
      expect(parsed).toEqual({ success: true, data: { ...validCreate, username: 'bob' } });
      // 2 characters once trimmed, though 6 before.
      expect(failedFields(createUserRules.safeParse({ ...validCreate, username: '  ab  ' }))).toEqual(['username']);
      // 32 characters once trimmed, though 36 before.
      const padded = `  ${'b'.repeat(32)}  `;
      expect(createUserRules.safeParse({ ...validCreate, username: padded }).success).toBe(true);
    });
  });

  describe('email', () => {
    // local@domain.com with a total length of n characters.
    const emailOfLength = (n: number) => `${'a'.repeat(n - '@example.com'.length)}@example.com`;

    it('accepts a valid address of 254 characters', () => {
      const email = emailOfLength(254);
      expect(email).toHaveLength(254);
      expect(createUserRules.safeParse({ ...validCreate, email }).success).toBe(true);
    });

    it('rejects an otherwise valid address of 255 characters', () => {
      const email = emailOfLength(255);
      expect(email).toHaveLength(255);
      expect(failedFields(createUserRules.safeParse({ ...validCreate, email }))).toEqual(['email']);
    });

    it('trims and keeps the case', () => {
      expect(createUserRules.safeParse({ ...validCreate, email: '  Alice@Example.com ' })).toEqual({
        success: true,
        data: { ...validCreate, email: 'Alice@Example.com' },
      });
    });

    it.each(['', 'alice', 'alice@', '@example.com', 'alice@example', 'al ice@example.com', 'a@b@example.com'])(
      'rejects %j',
      (email) => {
        expect(failedFields(createUserRules.safeParse({ ...validCreate, email }))).toEqual(['email']);
      },
    );
  });

  describe('userId', () => {
    it.each([
      ['1 character', 'a'],
      ['64 characters', 'a'.repeat(64)],
      ['letters, digits, _ and -', 'A-b_9'],
      ['a UUID', '01890a5d-ac96-774b-bcce-b302099a8057'],
    ])('accepts %s', (_label, userId) => {
      expect(updateUserRules.safeParse({ userId }).success).toBe(true);
    });

    it.each([
      ['empty', ''],
      ['65 characters', 'a'.repeat(65)],
      ['a dot', 'a.b'],
      ['a space', 'a b'],
      ['a slash', 'a/b'],
    ])('rejects %s', (_label, userId) => {
      expect(failedFields(updateUserRules.safeParse({ userId }))).toEqual(['userId']);
      expect(failedFields(createUserRules.safeParse({ ...validCreate, userId }))).toEqual(['userId']);
    });

    it('is optional on create and required on update', () => {
      expect(createUserRules.safeParse({ username: 'alice', email: 'alice@example.com' }).success).toBe(true);
      expect(failedFields(updateUserRules.safeParse({ username: 'alice' }))).toEqual(['userId']);
    });
  });

  describe('shape', () => {
    it('rejects unknown keys on create and update', () => {
      const create = createUserRules.safeParse({ ...validCreate, isAdmin: true });
      expect(create.success).toBe(false);
      expect(create.error?.issues.map((i) => i.message).join()).toContain('isAdmin');
      const update = updateUserRules.safeParse({ userId: 'u1', role: 'admin' });
      expect(update.success).toBe(false);
      expect(update.error?.issues.map((i) => i.message).join()).toContain('role');
    });

    it.each([
      ['negative', -1],
      ['non-integer', 1.5],
      ['NaN', Number.NaN],
      ['infinite', Number.POSITIVE_INFINITY],
      ['a string', '1'],
    ])('rejects a %s expectedVersion', (_label, expectedVersion) => {
      expect(failedFields(updateUserRules.safeParse({ userId: 'u1', expectedVersion }))).toEqual(['expectedVersion']);
    });

    it('accepts expectedVersion 0 and positive integers', () => {
      expect(updateUserRules.safeParse({ userId: 'u1', expectedVersion: 0 })).toEqual({
        success: true,
        data: { userId: 'u1', expectedVersion: 0 },
      });
      expect(updateUserRules.safeParse({ userId: 'u1', expectedVersion: 7 }).success).toBe(true);
    });

    it('rejects huge strings with one length issue per field, without throwing', () => {
      const huge = 'x'.repeat(1_000_000);
      const hugeEmail = `${huge}@example.com`;
      const create = createUserRules.safeParse({ userId: huge, username: huge, email: hugeEmail });
      expect(create.success).toBe(false);
      expect(create.error?.issues.map((i) => [i.path.join('.'), i.code])).toEqual([
        ['userId', 'too_big'],
        ['username', 'too_big'],
        ['email', 'too_big'],
      ]);
      // Issues must not echo the megabyte back.
      expect(JSON.stringify(create.error?.issues).length).toBeLessThan(2_000);
      const update = updateUserRules.safeParse({ userId: 'u1', username: ` ${huge} `, email: hugeEmail });
      expect(failedFields(update)).toEqual(['username', 'email']);
    });

    it('rejects a missing body', () => {
      expect(createUserRules.safeParse(undefined).success).toBe(false);
      expect(createUserRules.safeParse(null).success).toBe(false);
      expect(failedFields(createUserRules.safeParse({}))).toEqual(['username', 'email']);
    });
  });
});
