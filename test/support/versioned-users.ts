import type { AnyModule } from '../../src/module.js';
import { usersModule } from '../../src/users/module.js';
import { usersPostgresProjection } from '../../src/users/read-model/postgres.js';
import { usersProjection } from '../../src/users/read-model/sqlite.js';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * The users module with its projection at `version`, as a release that
 * bumped it would ship. `slowMs` blocks each batch that long (on both
 * stores), so that a build from the start of the log lasts long enough to
 * be watched; the rows it writes are the real projection's.
 */
export function usersModuleAt(version: number, slowMs = 0): AnyModule {
  const slow = () => {
    if (slowMs > 0) Atomics.wait(pause, 0, 0, slowMs);
  };
  return {
    ...usersModule,
    sqlite: {
      ...usersModule.sqlite,
      // Only the users projection is bumped; the module's others (user search) stay as shipped.
      projections: usersModule.sqlite.projections.map((projection) =>
        projection.name !== usersProjection.name
          ? projection
          : {
              ...usersProjection,
              version,
              apply: (db, events) => {
                slow();
                usersProjection.apply(db, events);
              },
            },
      ),
    },
    postgres: {
      ...usersModule.postgres,
      projections: usersModule.postgres.projections.map((projection) =>
        projection.name !== usersPostgresProjection.name
          ? projection
          : {
              ...usersPostgresProjection,
              version,
              write: (events, rows) => {
                slow();
                return usersPostgresProjection.write(events, rows);
              },
            },
      ),
    },
  };
}
