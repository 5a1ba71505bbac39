/**
 * A separate writer process for the PostgreSQL tailing test:
 *   node --import tsx test/support/pg-writer.ts URL LABEL WRITERS EVENTS_PER_WRITER
 * Each writer appends one event at a time to its own stream, as fast as it
 * can, so commits from many connections interleave.
 */
import { openPostgres } from '../../src/stores/postgres/database.js';
import { createPostgresEventStore } from '../../src/stores/postgres/event-store.js';

const [url, label, writers, perWriter] = process.argv.slice(2);
const pool = openPostgres(url!, { poolSize: Number(writers) + 2 });
const store = await createPostgresEventStore({ pool, connectionString: url! });
await Promise.all(
  Array.from({ length: Number(writers) }, async (_, w) => {
    const streamId = `${label}-w${w}`;
    for (let version = 0; version < Number(perWriter); version++) {
      const result = await store.append({
        streamId,
        expectedVersion: version,
        events: [{ type: 'Written', data: { writer: streamId, n: version + 1 }, metadata: { occurredAt: new Date().toISOString() } }],
      });
      if (!result.ok) throw new Error(`${streamId}: ${JSON.stringify(result.error)}`);
    }
  }),
);
await store.close();
await pool.end();
