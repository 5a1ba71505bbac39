import type { TypedCommand } from '../kernel/command-bus.js';
import type { VersionConflict } from '../kernel/command-handler.js';
import type { Decider } from '../kernel/decider.js';
import { assertNever, type Command, type CommandMetadata } from '../kernel/messages.js';
import { fail, ok, type Result } from '../kernel/result.js';
import { emailKey, evolve, initialState, type User, type UserEvent } from './user.js';

/** What the decider decides on: the user id is always set. */
export type CreateUser = Command<'CreateUser', { userId: string; username: string; email: string }>;
export type UpdateUser = TypedCommand<
  'UpdateUser',
  { userId: string; username?: string; email?: string; expectedVersion?: number },
  UserRejection
>;
/**
 * Admin only (the GraphQL layer checks): destroys the user's personal data.
 * It carries no email (`never`), so code reading the email of any user
 * command reads undefined for this one.
 */
export type EraseUser = TypedCommand<'EraseUser', { userId: string }, UserRejection>;
export type UserCommand = CreateUser | UpdateUser | EraseUser;

/** What a client sends on the bus: the id is optional, and generated once the request is valid. */
export type CreateUserRequest = TypedCommand<'CreateUser', { userId?: string; username: string; email: string }, UserRejection>;

export type UserAlreadyExists = Readonly<{ type: 'UserAlreadyExists'; message: string; userId: string }>;
export type UserNotFound = Readonly<{ type: 'UserNotFound'; message: string; userId: string }>;
/**
 * Names no address: rejections are stored under idempotency keys, and those
 * records must hold no personal data. The GraphQL layer shows the address
 * the client sent (a replay sends the same input: its request hash matched).
 */
export type EmailTaken = Readonly<{ type: 'EmailTaken'; message: string }>;
export type { VersionConflict };
export type UserRejection = UserAlreadyExists | UserNotFound | EmailTaken | VersionConflict;

export const userAlreadyExists = (userId: string): UserAlreadyExists => ({
  type: 'UserAlreadyExists',
  message: `A user with id "${userId}" already exists`,
  userId,
});
export const userNotFound = (userId: string): UserNotFound => ({
  type: 'UserNotFound',
  message: `No user has id "${userId}"`,
  userId,
});
export const emailTaken = (): EmailTaken => ({
  type: 'EmailTaken',
  message: 'Another user already has this email address',
});
export const versionConflict = (expectedVersion: number, actualVersion: number): VersionConflict => ({
  type: 'VersionConflict',
  message: `Expected version ${expectedVersion}, but the user is at version ${actualVersion}`,
  expectedVersion,
  actualVersion,
});

/** An erased user is gone for every command: there is nothing left to change, and their id is never reused. */
export const userWasErased = (userId: string): UserNotFound => ({
  type: 'UserNotFound',
  message: `The user with id "${userId}" was erased`,
  userId,
});

/**
 * Input has been validated and normalised by the command schemas
 * (input-rules.ts) before it reaches `decide`; here live the rules that
 * depend on the user's current state.
 */
export function decide(command: UserCommand, state: User, metadata: Pick<CommandMetadata, 'actor'> = {}): Result<readonly UserEvent[], UserRejection> {
  switch (command.type) {
    case 'CreateUser': {
      // An erased user's id stays taken: a new person under an old id would inherit its history.
      if (state.status !== 'absent') return fail(userAlreadyExists(command.data.userId));
      return ok([{ type: 'UserCreated', data: { ...command.data, createdBy: metadata.actor ?? null } }]);
    }
    case 'UpdateUser': {
      const { userId, username, email } = command.data;
      if (state.status === 'absent') return fail(userNotFound(userId));
      if (state.status === 'erased') return fail(userWasErased(userId));
      const changes = {
        ...(username !== undefined && username !== state.username ? { username } : {}),
        ...(email !== undefined && emailKey(email) !== emailKey(state.email) ? { email } : {}),
      };
      if (Object.keys(changes).length === 0) return ok([]);
      return ok([{ type: 'UserUpdated', data: { userId, ...changes } }]);
    }
    case 'EraseUser': {
      const { userId } = command.data;
      switch (state.status) {
        case 'absent':
          return fail(userNotFound(userId));
        // Erasing again is the same success, and appends nothing.
        case 'erased':
          return ok([]);
        case 'registered':
          return ok([{ type: 'UserErased', data: { userId, erasedBy: metadata.actor ?? null } }]);
        default:
          return assertNever(state, 'user state');
      }
    }
    default:
      return assertNever(command, 'user command');
  }
}

export const userDecider: Decider<UserCommand, UserEvent, User, UserRejection> = { decide, evolve, initialState };
