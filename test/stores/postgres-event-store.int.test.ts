import { describe } from 'vitest';
import { openPostgres } from '../../src/stores/postgres/database.js';
import { createPostgresEventStore } from '../../src/stores/postgres/event-store.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { describeEventStoreContract } from './event-store.contract.js';

describe.skipIf(postgresUnavailable !== null)('PostgreSQL event store', () => {
  describeEventStoreContract('PostgreSQL', async () => {
    const database = await createTestDatabase('contract');
    const pool = openPostgres(database.url);
    const store = await createPostgresEventStore({ pool, connectionString: database.url });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await pool.end();
        await database.drop();
      },
    };
  });
});
