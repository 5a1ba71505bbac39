import { defineModule } from '../../../src/module.js';
import { createMemoryProjectionSink } from '../../../src/stores/memory/projection-sink.js';
import { registerTallyCommands } from './command-handlers.js';
import { defineTalliesGraphQL } from './graphql.js';
import { createMemoryTalliesReadModel, talliesMemoryProjection } from './read-model/memory.js';
import { createPostgresTalliesReadModel, talliesPostgresProjection } from './read-model/postgres.js';
import { registerTallyQueries } from './read-model/queries.js';
import { createSqliteTalliesReadModel, talliesSqliteProjection } from './read-model/sqlite.js';

/**
 * A second aggregate, test-only: the proof that a feature is a folder and an
 * entry in the list of modules, with no change under src/.
 */
export const talliesModule = defineModule({
  name: 'tallies',
  sqlite: { projections: [talliesSqliteProjection], readModel: createSqliteTalliesReadModel },
  postgres: { projections: [talliesPostgresProjection], readModel: createPostgresTalliesReadModel },
  memory: (onQuery) => {
    const tallies = createMemoryProjectionSink(talliesMemoryProjection);
    return { sinks: [tallies.sink], readModel: createMemoryTalliesReadModel(tallies.rows, onQuery) };
  },
  register: ({ commandBus, queryBus, eventLog, readModel }) => {
    registerTallyCommands({ commandBus, eventLog });
    registerTallyQueries({ queryBus, readModel, eventLog });
  },
  graphql: defineTalliesGraphQL,
});
