import { describe } from 'vitest';
import { LOG_START } from '../../src/kernel/position.js';
import { openPostgres } from '../../src/stores/postgres/database.js';
import { createPostgresEventStore } from '../../src/stores/postgres/event-store.js';
import { pgPosition, pgPositionParts } from '../../src/stores/postgres/position.js';
import { createPostgresProjectionSinks, preparePostgresReadModel } from '../../src/stores/postgres/projection-sink.js';
import { createPostgresUsersReadModel, usersPostgresProjection } from '../../src/users/read-model/postgres.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { describeUsersReadModelContract } from './users-read-model.contract.js';

describe.skipIf(postgresUnavailable !== null)('PostgreSQL users read model', () => {
  describeUsersReadModelContract('PostgreSQL', async () => {
    const database = await createTestDatabase('users_read_model');
    const pool = openPostgres(database.url);
    const store = await createPostgresEventStore({ pool, connectionString: database.url });
    await preparePostgresReadModel(pool, [usersPostgresProjection]);
    const { sinks, close } = await createPostgresProjectionSinks(pool, database.url, [usersPostgresProjection]);
    return {
      store,
      sink: sinks[0]!,
      readModel: createPostgresUsersReadModel(pool),
      // The next and previous sequence number in the same transaction, and the same one in the next transaction.
      neighbours: (position) => {
        if (position === LOG_START) return [];
        const { transactionId, sequence } = pgPositionParts(position);
        const step = (digits: string, by: bigint) => String(BigInt(digits) + by);
        return [
          ...(sequence === '0' ? [] : [pgPosition(transactionId, step(sequence, -1n))]),
          pgPosition(transactionId, step(sequence, 1n)),
          pgPosition(step(transactionId, 1n), sequence),
        ];
      },
      cleanup: async () => {
        await close();
        await store.close();
        await pool.end();
        await database.drop();
      },
    };
  });
});
