import type { PgPool } from '../../../../src/stores/postgres/database.js';
import type { PgWrite, PostgresProjection } from '../../../../src/stores/postgres/projection-sink.js';
import { tallyEventTypes, tallyIdOf } from '../tally.js';
import { evolveTallyView, type TalliesReadModel, type TallyView } from './read-model.js';

export const talliesPostgresProjection: PostgresProjection = {
  name: 'tallies',
  eventTypes: tallyEventTypes,
  migrations: [
    {
      version: 1,
      description: "each tally's running total",
      sql: 'CREATE TABLE tallies (id text PRIMARY KEY, total bigint NOT NULL, version integer NOT NULL)',
    },
  ],
  // The batch's tallies in, the fold in memory, one upsert out.
  read: (events, param) => `SELECT id, total, version FROM tallies WHERE id = ANY(${param([...new Set(events.map(tallyIdOf))])}::text[])`,
  write: (events, rows) => {
    const views = new Map<string, TallyView | null>(rows.map((row) => [String(row['id']), toTallyView(row)]));
    for (const event of events) {
      const tallyId = tallyIdOf(event);
      views.set(tallyId, evolveTallyView(views.get(tallyId) ?? null, event));
    }
    const changed = [...views.values()].filter((view): view is TallyView => view !== null);
    if (changed.length === 0) return [];
    const upsert: PgWrite = (guard, param) => `
      INSERT INTO tallies (id, total, version)
      SELECT * FROM unnest(${param(changed.map((v) => v.id))}::text[], ${param(changed.map((v) => v.total))}::bigint[],
                           ${param(changed.map((v) => v.version))}::integer[])
       WHERE ${guard}
      ON CONFLICT (id) DO UPDATE SET total = excluded.total, version = excluded.version`;
    return [upsert];
  },
  reset: async (client) => {
    await client.query('DELETE FROM tallies');
  },
};

/** bigint arrives as text from a query and as a number from `json_agg`; both are whole numbers well inside 2^53 here. */
const toTallyView = (row: Record<string, unknown>): TallyView => ({ id: String(row['id']), total: Number(row['total']), version: Number(row['version']) });

export function createPostgresTalliesReadModel(pool: PgPool, onQuery: () => void = () => {}): TalliesReadModel {
  return {
    byId: async (tallyId) => {
      onQuery();
      const { rows } = await pool.query('SELECT id, total, version FROM tallies WHERE id = $1', [tallyId]);
      return rows[0] ? toTallyView(rows[0] as Record<string, unknown>) : null;
    },
  };
}
