import { defineModule } from '../module.js';
import { createMemoryProjectionSink } from '../stores/memory/projection-sink.js';
import { registerUserCommands } from './command-handlers.js';
import { defineUsersGraphQL } from './graphql/index.js';
import { createPostgresUsersReadModel, usersPostgresProjection } from './read-model/postgres.js';
import { createMemoryUsersReadModel, usersMemoryProjection } from './read-model/memory.js';
import { registerUserQueries } from './read-model/queries.js';
import { registerUserStatesQuery } from './read-model/states.js';
import { createSqliteUsersReadModel, usersProjection } from './read-model/sqlite.js';
import { userEventVersions } from './event-schemas.js';
import { USER_STREAMS } from './user.js';
import { userCacheTags } from './cache-tags.js';

/** The users feature, as the composition root's list of modules takes it. */
export const usersModule = defineModule({
  name: 'users',
  // Release 0.1.0 had only users, and named their streams by the bare user id.
  adoptsStreamsWithoutCategory: USER_STREAMS,
  sqlite: { projections: [usersProjection], readModel: createSqliteUsersReadModel },
  postgres: { projections: [usersPostgresProjection], readModel: createPostgresUsersReadModel },
  events: userEventVersions,
  memory: (onQuery) => {
    const users = createMemoryProjectionSink(usersMemoryProjection);
    return { sinks: [users.sink], readModel: createMemoryUsersReadModel(users.rows, onQuery) };
  },
  register: ({ commandBus, queryBus, eventLog, positions, readModel, streamFolds, newId }) => {
    registerUserCommands({ commandBus, eventLog, streamFolds, newId });
    registerUserQueries({ queryBus, readModel, positions, streamFolds });
    registerUserStatesQuery({ queryBus, eventLog });
  },
  graphql: defineUsersGraphQL,
  responseCache: { tagsOf: userCacheTags, queryFields: ['user', 'users'] },
});
