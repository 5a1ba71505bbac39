import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, type CreateUser, type UpdateUser, type UserCommand } from '../../src/users/decide.js';
import { createUserRules, updateUserRules } from '../../src/users/input-rules.js';
import { evolve, initialState, userEventTypes, type User, type UserEvent } from '../../src/users/user.js';
import { arbitraryText, email, emailOfLength, expectedVersion, username, usernameOfLength, userId } from './arbitraries.js';

/** The README's rule, written out here rather than imported, so a change to the code's comparison is caught. */
const ignoringCase = (email: string) => email.toLowerCase();

const REJECTIONS = new Set(['UserAlreadyExists', 'UserNotFound', 'EmailTaken', 'VersionConflict']);
const IDS = ['u1', 'u2', 'U1'];

/** Raw command data as a client could send it: any field may be anything the arbitraries make, or absent. */
const rawCommand = fc.oneof(
  fc.record({
    type: fc.constant('CreateUser' as const),
    data: fc.record({ userId: fc.option(userId(IDS), { nil: undefined }), username, email: email('example.com') }),
  }),
  fc.record({
    type: fc.constant('UpdateUser' as const),
    data: fc.record(
      { userId: userId(IDS), username, email: email('example.com'), expectedVersion },
      { requiredKeys: ['userId'] },
    ),
  }),
);

type Streams = Map<string, UserEvent[]>;
const stateOf = (streams: Streams, id: string): User => (streams.get(id) ?? []).reduce<User>(evolve, initialState());

/** The bus's validation step, then the pure decider; returns what the client would get, as a tag. */
function step(streams: Streams, raw: { type: 'CreateUser' | 'UpdateUser'; data: Record<string, unknown> }): string {
  const parsed = (raw.type === 'CreateUser' ? createUserRules : updateUserRules).safeParse(raw.data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) expect(typeof issue.message).toBe('string');
    return 'ValidationError';
  }
  const data = { ...parsed.data, userId: parsed.data.userId ?? 'generated' };
  const command = { type: raw.type, data } as UserCommand;
  const before = stateOf(streams, data.userId);
  const decision = decide(command, before);
  if (!decision.ok) {
    expect(REJECTIONS).toContain(decision.error.type);
    expect(decision.error.message).toEqual(expect.any(String));
    return decision.error.type;
  }
  for (const event of decision.value) expect(userEventTypes).toContain(event.type);
  const stream = [...(streams.get(data.userId) ?? []), ...decision.value];
  streams.set(data.userId, stream);
  const after = stateOf(streams, data.userId);
  checkDecision(command, before, after, decision.value);
  return decision.value.length === 0 ? 'Unchanged' : 'Success';
}

function checkDecision(command: UserCommand, before: User, after: User, events: readonly UserEvent[]) {
  if (after.status !== 'registered') throw new Error(`Accepted ${command.type} left the user ${after.status}`);
  expect(after.userId).toBe(command.data.userId);
  // Whatever was accepted satisfies the documented rules, in its normalised (trimmed) form.
  expect(after.username).toMatch(/^[A-Za-z0-9_.-]{3,32}$/);
  expect(after.email.length).toBeLessThanOrEqual(254);
  expect(after.email).toBe(after.email.trim());
  if (command.type === 'CreateUser') {
    expect(before.status).toBe('absent');
    expect(events).toEqual([{ type: 'UserCreated', data: { ...command.data, createdBy: null } }]);
    return;
  }
  if (before.status !== 'registered') throw new Error('UpdateUser accepted for an absent user');
  if (command.type !== 'UpdateUser') throw new Error(`${command.type} is not generated here`);
  expect(after.username).toBe(command.data.username ?? before.username);
  expect(ignoringCase(after.email)).toBe(ignoringCase(command.data.email ?? before.email));
  // README: an update that only changes the email's letter case changes nothing.
  if (ignoringCase(after.email) === ignoringCase(before.email)) expect(after.email).toBe(before.email);
  // Updates are idempotent: deciding the same update again changes nothing.
  expect(decide(command, after)).toEqual({ ok: true, value: [] });
  if (events.length === 1) expect(Object.keys(events[0]!.data).length).toBeGreaterThan(1);
}

describe('users decider, on arbitrary input', () => {
  it('answers every command with events or a typed rejection, never a throw; each stream stays consistent', () => {
    fc.assert(
      fc.property(fc.array(rawCommand, { minLength: 1, maxLength: 30 }), (commands) => {
        const streams: Streams = new Map();
        for (const command of commands) step(streams, command);
        for (const [id, events] of streams) {
          expect(events[0]?.type).toBe('UserCreated');
          expect(events.slice(1).every((event) => event.type === 'UserUpdated')).toBe(true);
          expect(events.every((event) => event.data.userId === id)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('decide and evolve are total even on data that skipped validation', () => {
    const anyData = fc.record({ userId: arbitraryText, username: arbitraryText, email: arbitraryText });
    fc.assert(
      fc.property(anyData, anyData, fc.boolean(), (first, second, update) => {
        const create = { type: 'CreateUser', data: first } satisfies CreateUser;
        const created = decide(create, initialState());
        if (!created.ok) throw new Error('CreateUser on an absent user must succeed');
        const state = created.value.reduce(evolve, initialState());
        const next: UserCommand = update
          ? ({ type: 'UpdateUser', data: { ...second, userId: first.userId } } satisfies UpdateUser)
          : { type: 'CreateUser', data: second };
        const result = decide(next, state);
        if (result.ok) result.value.reduce(evolve, state);
        else expect(REJECTIONS).toContain(result.error.type);
      }),
      { numRuns: 300 },
    );
  });

  it('draws the length boundaries where the README says: usernames 3-32, emails up to 254', () => {
    fc.assert(
      fc.property(fc.constantFrom(2, 3, 32, 33).chain((n) => usernameOfLength(n).map((name) => [n, name] as const)), ([n, name]) => {
        const parsed = createUserRules.safeParse({ username: name, email: 'a@example.com' });
        expect(parsed.success).toBe(n >= 3 && n <= 32);
      }),
      { numRuns: 100 },
    );
    for (const length of [253, 254, 255]) {
      expect(createUserRules.safeParse({ username: 'abc', email: emailOfLength(length) }).success, `${length}`).toBe(length <= 254);
    }
  });
});
