import { defineModule } from '../module.js';
import { createMemoryProjectionSink } from '../stores/memory/projection-sink.js';
import { registerUserCommands } from './command-handlers.js';
import { defineUsersGraphQL } from './graphql/index.js';
import { createPostgresUsersReadModel, usersPostgresProjection } from './read-model/postgres.js';
import { createMemoryUsersReadModel, usersMemoryProjection } from './read-model/memory.js';
import { registerUserQueries } from './read-model/queries.js';
import type { UsersReadModel } from './read-model/read-model.js';
import { registerUserStatesQuery } from './read-model/states.js';
import { createSqliteUsersReadModel, usersProjection } from './read-model/sqlite.js';
import { createMemoryUserSearchReadModel, userSearchMemoryProjection } from './read-model/search/memory.js';
import { createPostgresUserSearchReadModel, userSearchPostgresProjection } from './read-model/search/postgres.js';
import { registerUserSearchQueries } from './read-model/search/queries.js';
import type { UserSearchReadModel } from './read-model/search/search.js';
import { createSqliteUserSearchReadModel, userSearchSqliteProjection } from './read-model/search/sqlite.js';
import { userEventVersions } from './event-schemas.js';
import { USER_STREAMS } from './user.js';
import { userCacheTags } from './cache-tags.js';

/** Both users read models, each fed by its own projection and checkpoint. */
type UsersReadModels = UsersReadModel & UserSearchReadModel;

/** The users feature, as the composition root's list of modules takes it. */
export const usersModule = defineModule<UsersReadModels>({
  name: 'users',
  // Release 0.1.0 had only users, and named their streams by the bare user id.
  adoptsStreamsWithoutCategory: USER_STREAMS,
  sqlite: {
    projections: [usersProjection, userSearchSqliteProjection],
    readModel: (db, onQuery) => ({ ...createSqliteUsersReadModel(db, onQuery), ...createSqliteUserSearchReadModel(db, onQuery) }),
  },
  postgres: {
    projections: [usersPostgresProjection, userSearchPostgresProjection],
    readModel: (pool, onQuery) => ({ ...createPostgresUsersReadModel(pool, onQuery), ...createPostgresUserSearchReadModel(pool, onQuery) }),
  },
  events: userEventVersions,
  // Usernames are chosen by people and often name them: personal, like the email.
  personalData: {
    fields: { UserCreated: ['username', 'email'], UserUpdated: ['username', 'email'] },
    erasedBy: 'UserErased',
  },
  memory: (onQuery) => {
    const users = createMemoryProjectionSink(usersMemoryProjection);
    const search = createMemoryProjectionSink(userSearchMemoryProjection);
    return {
      sinks: [users.sink, search.sink],
      readModel: { ...createMemoryUsersReadModel(users.rows, onQuery), ...createMemoryUserSearchReadModel(search.rows, onQuery) },
    };
  },
  register: ({ commandBus, queryBus, eventLog, positions, readModel, streamFolds, newId }) => {
    registerUserCommands({ commandBus, eventLog, streamFolds, newId });
    registerUserQueries({ queryBus, readModel, positions, streamFolds });
    registerUserSearchQueries({ queryBus, search: readModel, positions });
    registerUserStatesQuery({ queryBus, eventLog });
  },
  graphql: defineUsersGraphQL,
  responseCache: { tagsOf: userCacheTags, queryFields: ['user', 'users'] },
});
