import type { CommandBus } from '../kernel/command-bus.js';
import { deciderHandler } from '../kernel/command-handler.js';
import type { EventLog } from '../kernel/event-store.js';
import type { StreamFolds } from '../kernel/stream-folds.js';
import { emailTaken, userDecider, versionConflict, type CreateUserRequest, type UpdateUser } from './decide.js';
import type { EraseUser } from './decide.js';
import { createUserRules, updateUserRules } from './input-rules.js';
import { eraseUserRules } from './input-rules.js';
import { userStateFold, userViewFold } from './stream-folds.js';
import { EMAIL_SCOPE, emailKey, USER_STREAMS, type User } from './user.js';

/** Email changes claim the new address and free the old one in the append's transaction. */
function emailChanges(before: User, after: User) {
  const was = before.status === 'registered' ? emailKey(before.email) : undefined;
  const is = after.status === 'registered' ? emailKey(after.email) : undefined;
  if (was === is) return { claims: [], releases: [] };
  return {
    claims: is === undefined ? [] : [{ scope: EMAIL_SCOPE, value: is }],
    releases: was === undefined ? [] : [{ scope: EMAIL_SCOPE, value: was }],
  };
}

export type UserCommandsWiring = Readonly<{
  commandBus: CommandBus;
  eventLog: Pick<EventLog, 'append' | 'readStream'>;
  /** Without it, a command on a stream this process does not know reads the whole stream. */
  streamFolds?: StreamFolds;
  /** Ids for users created without one (UUID v7: creation order, so inserts stay local in an index). */
  newId: () => string;
}>;

export function registerUserCommands({ commandBus, eventLog, streamFolds, newId }: UserCommandsWiring): void {
  const handle = deciderHandler({
    decider: userDecider,
    eventLog,
    category: USER_STREAMS,
    entityId: (command) => command.data.userId,
    expectedVersion: (command) => (command.type === 'UpdateUser' ? command.data.expectedVersion : undefined),
    versionConflict: ({ expectedVersion, actualVersion }) => versionConflict(expectedVersion, actualVersion),
    uniqueValues: emailChanges,
    // No address in the rejection: it is stored as the idempotency record's outcome, which must
    // keep no personal data. The GraphQL layer answers with the input's address (the same on a
    // replay, whose request hash matched).
    uniqueValueTaken: () => emailTaken(),
    // The view's snapshots too: time travel then never reads more than a snapshot interval of a stream.
    ...(streamFolds ? { snapshots: { folds: streamFolds, state: userStateFold, alsoSnapshot: [userViewFold] } } : {}),
  });

  commandBus.register<CreateUserRequest>('CreateUser', {
    schema: createUserRules,
    // The id is generated after validation and idempotency, so a retried
    // request with the same key and input hashes alike and gets the first id.
    handle: ({ command, metadata }) =>
      handle({ command: { type: 'CreateUser', data: { ...command.data, userId: command.data.userId ?? newId() } }, metadata }),
  });
  commandBus.register<UpdateUser>('UpdateUser', { schema: updateUserRules, handle });
  // The erased state has no email, so `emailChanges` releases the user's claim in the erasure's transaction.
  commandBus.register<EraseUser>('EraseUser', { schema: eraseUserRules, handle });
}
