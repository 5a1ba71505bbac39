import { randomUUID } from 'node:crypto';
import { createCommandBus } from '../../src/kernel/command-bus.js';
import { createQueryBus, createRequestScope } from '../../src/kernel/query-bus.js';
import type { Storage } from '../../src/storage.js';
import { createStreamFolds, type StreamFolds } from '../../src/kernel/stream-folds.js';
import { countUsers, getUser, getUsers, type PageArgs } from '../../src/users/read-model/queries.js';

/** Streams folded from the storage's snapshots, as src/system.ts wires them; a snapshot that fails fails the test. */
export function streamFoldsOf(storage: Storage, every = 100): StreamFolds {
  return createStreamFolds({
    eventLog: storage.store,
    snapshots: storage.snapshots,
    every,
    onError: (error) => {
      // Thrown at the next tick, outside the command: vitest reports it as an unhandled error.
      setImmediate(() => {
        throw error;
      });
    },
  });
}

/** The users queries on an opened storage, through the modules' own registration (as the server wires them). */
export function usersQueriesOf(storage: Storage) {
  const queryBus = createQueryBus();
  const commandBus = createCommandBus({ clock: () => new Date(), newId: randomUUID });
  storage.registerModules({ commandBus, queryBus, eventLog: storage.store, positions: storage.store, streamFolds: streamFoldsOf(storage), newId: randomUUID });
  return {
    user: (userId: string) => queryBus.execute(getUser(userId), createRequestScope()),
    users: (args: PageArgs) => queryBus.execute(getUsers(args), createRequestScope()),
    count: () => queryBus.execute(countUsers(), createRequestScope()),
  };
}
