import { describe } from 'vitest';
import { openPostgres } from '../../src/stores/postgres/database.js';
import { createPostgresEventStore } from '../../src/stores/postgres/event-store.js';
import { createPostgresProjectionSinks, preparePostgresReadModel, type PostgresProjection } from '../../src/stores/postgres/projection-sink.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { describeProjectionSinkContract, isPoison, SEEN_EVENT_TYPES, SEEN_PROJECTION, type SeenRow } from './projection-sink.contract.js';

/** `seen` in PostgreSQL: the table's CHECK fails the batch's statement, checkpoint move included. */
const seenProjection: PostgresProjection = {
  name: SEEN_PROJECTION,
  eventTypes: SEEN_EVENT_TYPES,
  migrations: [
    {
      version: 1,
      description: 'seen events',
      sql: 'CREATE TABLE seen (position text COLLATE "C" PRIMARY KEY, type text NOT NULL, poison boolean NOT NULL CHECK (NOT poison))',
    },
  ],
  read: () => null,
  write: (events) => [
    (guard, param) => `
      INSERT INTO seen (position, type, poison)
      SELECT * FROM unnest(${param(events.map((e) => e.position))}::text[], ${param(events.map((e) => e.type))}::text[], ${param(events.map(isPoison))}::boolean[])
       WHERE ${guard}`,
  ],
  reset: async (client) => {
    await client.query('DELETE FROM seen');
  },
};

describe.skipIf(postgresUnavailable !== null)('PostgreSQL projection sink', () => {
  describeProjectionSinkContract('PostgreSQL', async () => {
    const database = await createTestDatabase('projection_sink');
    const pool = openPostgres(database.url);
    const store = await createPostgresEventStore({ pool, connectionString: database.url });
    await preparePostgresReadModel(pool, [seenProjection]);
    const { sinks, close } = await createPostgresProjectionSinks(pool, database.url, [seenProjection]);
    return {
      store,
      sink: sinks[0]!,
      rows: async () => (await pool.query<SeenRow>('SELECT position, type FROM seen ORDER BY position')).rows,
      cleanup: async () => {
        await close();
        await store.close();
        await pool.end();
        await database.drop();
      },
    };
  });
});
