import type { CommandBus } from '../kernel/command-bus.js';
import type { EventStore } from '../kernel/event-store.js';
import type { QueryBus } from '../kernel/query-bus.js';
import { registerUserCommands } from './command-handlers.js';
import { createPostgresUsersReadModel, usersPostgresProjection } from './read-model/postgres.js';
import { registerUserQueries } from './read-model/queries.js';
import type { UsersReadModel } from './read-model/read-model.js';
import { createSqliteUsersReadModel, usersProjection } from './read-model/sqlite.js';

/** What the composition root needs from the users feature, for each kind of store. */
export const usersModule = {
  sqlite: { projections: [usersProjection], readModel: createSqliteUsersReadModel },
  postgres: { projections: [usersPostgresProjection], readModel: createPostgresUsersReadModel },
  register: (deps: { commandBus: CommandBus; queryBus: QueryBus; store: EventStore; readModel: UsersReadModel }) => {
    registerUserCommands(deps.commandBus, deps.store);
    registerUserQueries(deps.queryBus, deps.readModel, deps.store);
  },
};
