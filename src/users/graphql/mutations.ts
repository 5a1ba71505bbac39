import type { CommandSuccess, StreamUnreadable, ValidationRejection } from '../../kernel/command-bus.js';
import type { GraphQLContext } from '../../graphql/context.js';
import type { Viewer } from '../../graphql/viewer.js';
import { builder } from '../../graphql/builder.js';
import {
  ErrorInterface,
  ForbiddenType,
  StreamUnreadableType,
  UnauthenticatedType,
  ValidationErrorType,
  VersionConflictType,
  unauthenticated,
  withInputFieldNames,
} from '../../graphql/errors.js';
import type { EmailTaken, UserAlreadyExists, UserNotFound, UserRejection } from '../decide.js';
import { getUserAtVersion } from '../read-model/queries.js';
import { userIdOf } from '../user.js';
import type { UserView } from '../user-view.js';
import { USER_ID_ARGUMENT, UserType, userGlobalId, userIdArgument } from './user-type.js';

type Success<Name extends string> = Readonly<{ type: Name; user: UserView; position: string }>;

function successType<Name extends string>(name: Name) {
  return builder.objectRef<Success<Name>>(name).implement({
    fields: (t) => ({
      user: t.expose('user', { type: UserType }),
      position: t.exposeString('position', {
        description: 'Global position of the last event this mutation appended; pass it as `after` to `userEvents`.',
      }),
    }),
  });
}

type Tagged = Readonly<{ type: string }>;

const IDEMPOTENCY_KEY_DESCRIPTION =
  'Repeating a request with the same key and input returns the first outcome and changes nothing. 1-255 printable ASCII characters.';

/** Command data field -> GraphQL input field, for validation messages. */
const INPUT_NAMES = { userId: 'id' } as const;
const definedOnly = <T extends object>(value: T) =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));

/** The mutations' types and root fields. */
export function defineUserMutations(): void {
  const UserAlreadyExistsType = builder.objectRef<UserAlreadyExists>('UserAlreadyExists').implement({
    interfaces: [ErrorInterface],
    fields: (t) => ({ userId: t.id({ description: 'Global id of the existing user.', resolve: (error) => userGlobalId(error.userId) }) }),
  });
  const UserNotFoundType = builder.objectRef<UserNotFound>('UserNotFound').implement({
    interfaces: [ErrorInterface],
    fields: (t) => ({ userId: t.id({ description: 'Global id that names no user.', resolve: (error) => userGlobalId(error.userId) }) }),
  });
  const EmailTakenType = builder.objectRef<ShownEmailTaken>('EmailTaken').implement({
    interfaces: [ErrorInterface],
    fields: (t) => ({ email: t.exposeString('email') }),
  });

  const CreateUserSuccessType = successType('CreateUserSuccess');
  const UpdateUserSuccessType = successType('UpdateUserSuccess');

  const CreateUserResult = builder.unionType('CreateUserResult', {
    types: [CreateUserSuccessType, ValidationErrorType, UserAlreadyExistsType, EmailTakenType, UnauthenticatedType, StreamUnreadableType],
    resolveType: (value: Tagged) => value.type,
  });
  const UpdateUserResult = builder.unionType('UpdateUserResult', {
    types: [
      UpdateUserSuccessType,
      ValidationErrorType,
      UserNotFoundType,
      EmailTakenType,
      VersionConflictType,
      UnauthenticatedType,
      ForbiddenType,
      StreamUnreadableType,
    ],
    resolveType: (value: Tagged) => value.type,
  });

  const CreateUserInput = builder.inputType('CreateUserInput', {
    fields: (t) => ({
      id: t.id({
        description:
          'Optional, chosen by the client: a global id `User:<user id>`, or the bare user id: 1-64 letters, digits, "_" or "-". Generated (UUID v7) when absent.',
      }),
      username: t.string({ required: true, description: '3-32 letters, digits, "_", "." or "-" after trimming.' }),
      email: t.string({ required: true, description: 'Unique among users, compared ignoring case; at most 254 characters.' }),
      idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    }),
  });
  const UpdateUserInput = builder.inputType('UpdateUserInput', {
    fields: (t) => ({
      id: t.id({ required: true, description: USER_ID_ARGUMENT }),
      username: t.string(),
      email: t.string(),
      expectedVersion: t.int({ description: 'Fail with VersionConflict unless the user is at this version.' }),
      idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    }),
  });

builder.mutationField('createUser', (t) =>
  t.field({
    type: CreateUserResult,
    description: 'With authentication on: any valid bearer token.',
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    authScopes: { signedIn: true },
    unauthorizedResolver: () => unauthenticated(),
    resolve: async (_root, { input }, ctx) => {
      const userId = input.id == null ? undefined : userIdArgument(input.id);
      if (userId === null) return notAUserId();
      const outcome = await ctx.commandBus.execute(
        { type: 'CreateUser', data: definedOnly({ userId, username: input.username, email: input.email }) },
        { idempotencyKey: input.idempotencyKey ?? undefined, correlationId: ctx.requestId, actor: actorOf(ctx.viewer) },
      );
      if (!outcome.ok) return withInputEmail(rejection(outcome.error, ['ValidationError', 'UserAlreadyExists', 'EmailTaken', 'StreamUnreadable']), input.email);
      return { type: 'CreateUserSuccess' as const, ...(await afterWrite(outcome.value, ctx)) };
    },
  }),
);

builder.mutationField('updateUser', (t) =>
  t.field({
    type: UpdateUserResult,
    description: "With authentication on: a bearer token whose subject is the user's id, or an admin's.",
    args: { input: t.arg({ type: UpdateUserInput, required: true }) },
    // A global id of another type names no user: only an admin's token passes, and then gets the ValidationError.
    authScopes: (_root, { input }) => ({ actsFor: userIdArgument(input.id) ?? String(input.id) }),
    unauthorizedResolver: (_root, _args, ctx) =>
      ctx.viewer.type === 'anonymous'
        ? unauthenticated()
        : { type: 'Forbidden' as const, message: 'Only the user named in the token, or an admin, may update this user.' },
    resolve: async (_root, { input }, ctx) => {
      const userId = userIdArgument(input.id);
      if (userId === null) return notAUserId();
      const outcome = await ctx.commandBus.execute(
        {
          type: 'UpdateUser',
          data: definedOnly({
            userId,
            username: input.username,
            email: input.email,
            expectedVersion: input.expectedVersion,
          }),
        },
        { idempotencyKey: input.idempotencyKey ?? undefined, correlationId: ctx.requestId, actor: actorOf(ctx.viewer) },
      );
      if (!outcome.ok) return withInputEmail(rejection(outcome.error, ['ValidationError', 'UserNotFound', 'EmailTaken', 'VersionConflict', 'StreamUnreadable']), input.email);
      return { type: 'UpdateUserSuccess' as const, ...(await afterWrite(outcome.value, ctx)) };
    },
  }),
);

  defineEraseUser(UserNotFoundType);
}

/** README "Erasure": admin only; erasing an erased user is the same success, and appends nothing. */
type UserNotFoundRef = ReturnType<ReturnType<typeof builder.objectRef<UserNotFound>>['implement']>;

function defineEraseUser(UserNotFoundType: UserNotFoundRef): void {
  const EraseUserSuccessType = successType('EraseUserSuccess');
  const EraseUserResult = builder.unionType('EraseUserResult', {
    types: [EraseUserSuccessType, ValidationErrorType, UserNotFoundType, UnauthenticatedType, ForbiddenType, StreamUnreadableType],
    resolveType: (value: Tagged) => value.type,
  });
  const EraseUserInput = builder.inputType('EraseUserInput', {
    fields: (t) => ({
      id: t.id({ required: true, description: USER_ID_ARGUMENT }),
      idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    }),
  });

  builder.mutationField('eraseUser', (t) =>
    t.field({
      type: EraseUserResult,
      description:
        'Destroys the user’s personal data: `username` and `email` read null from then on, everywhere (the user, its history, time travel, the events feed), and the email may be registered again. The user, their id and their events stay. With authentication on: an admin’s bearer token.',
      args: { input: t.arg({ type: EraseUserInput, required: true }) },
      authScopes: { admin: true },
      unauthorizedResolver: (_root, _args, ctx) =>
        ctx.viewer.type === 'anonymous' ? unauthenticated() : { type: 'Forbidden' as const, message: 'Only an admin may erase a user.' },
      resolve: async (_root, { input }, ctx) => {
        const userId = userIdArgument(input.id);
        if (userId === null) return notAUserId();
        const outcome = await ctx.commandBus.execute(
          { type: 'EraseUser', data: { userId } },
          { idempotencyKey: input.idempotencyKey ?? undefined, correlationId: ctx.requestId, actor: actorOf(ctx.viewer) },
        );
        if (!outcome.ok) return rejection(outcome.error, ['ValidationError', 'UserNotFound', 'StreamUnreadable']);
        return { type: 'EraseUserSuccess' as const, ...(await afterWrite(outcome.value, ctx)) };
      },
    }),
  );
}

type Declared = UserRejection | ValidationRejection | StreamUnreadable;

/** The token's subject; commands sent with authentication off, or without a token, have no actor. */
const actorOf = (viewer: Viewer): string | undefined => (viewer.type === 'user' ? viewer.subject : undefined);

const notAUserId = (): ValidationRejection => ({
  type: 'ValidationError',
  message: 'The input is not valid',
  fields: [{ field: 'id', message: 'is the global id of another type, not of a User' }],
});

/** Narrows a bus rejection to the errors this mutation's union declares; anything else is a bug and is masked. */
function rejection<T extends Declared['type']>(error: Tagged & { message: string }, declared: readonly T[]) {
  if (!(declared as readonly string[]).includes(error.type)) {
    throw new Error(`Undeclared rejection ${error.type}: ${error.message}`);
  }
  const known = error as Extract<Declared, { type: T }>;
  return known.type === 'ValidationError' ? withInputFieldNames(known as ValidationRejection, INPUT_NAMES) : known;
}

/** EmailTaken carries no address from the command (its stored outcome keeps no personal data): the one the client sent, as validated. */
function withInputEmail<R extends { type: string }>(rejected: R, email: string | null | undefined): Exclude<R, EmailTaken> | ShownEmailTaken {
  return rejected.type === 'EmailTaken' ? { ...(rejected as unknown as EmailTaken), email: (email ?? '').trim() } : (rejected as Exclude<R, EmailTaken>);
}

type ShownEmailTaken = EmailTaken & Readonly<{ email: string }>;

/**
 * Read-your-writes: the user exactly as this command left it, from the read
 * model once the projections have processed the command's events, or folded
 * from the stream when they do not within the configured wait (a stalled
 * projection). A later write, or for an idempotent replay everything since
 * the first outcome, is not part of this answer.
 */
async function afterWrite(success: CommandSuccess, ctx: GraphQLContext) {
  const user = await ctx.queryBus.execute(getUserAtVersion(userIdOf(success), success.version, 'exactly'), ctx.scope, {
    atLeast: success.position,
  });
  // The request's loaders may hold users as they were before this write.
  ctx.scope.clear();
  return { user, position: ctx.positions.formatPosition(success.position) };
}
