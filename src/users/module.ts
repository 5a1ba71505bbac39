import type { CommandBus } from '../kernel/command-bus.js';
import type { EventStore } from '../kernel/event-store.js';
import type { QueryBus } from '../kernel/query-bus.js';
import type { SqliteDatabase } from '../stores/sqlite/database.js';
import { registerUserCommands } from './command-handlers.js';
import { registerUserQueries } from './read-model/queries.js';
import { createSqliteUsersReadModel, usersProjection } from './read-model/sqlite.js';

/** What the composition root needs from the users feature. */
export const usersModule = {
  sqliteProjections: [usersProjection],
  register: (deps: {
    commandBus: CommandBus;
    queryBus: QueryBus;
    store: EventStore;
    readDb: SqliteDatabase;
    onReadModelQuery?: () => void;
  }) => {
    registerUserCommands(deps.commandBus, deps.store);
    registerUserQueries(deps.queryBus, createSqliteUsersReadModel(deps.readDb, deps.onReadModelQuery), deps.store);
  },
};
