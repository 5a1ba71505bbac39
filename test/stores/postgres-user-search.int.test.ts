import { describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/stores/postgres/database.js';
import { createPostgresEventStore } from '../../src/stores/postgres/event-store.js';
import { createPostgresProjectionSinks, preparePostgresReadModel } from '../../src/stores/postgres/projection-sink.js';
import { createPostgresUserSearchReadModel, userSearchPostgresProjection } from '../../src/users/read-model/search/postgres.js';
import { parameters, searchPageSql } from '../../src/users/read-model/search/search-sql.js';
import type { UserSearch } from '../../src/users/read-model/search/search.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { describeUserSearchContract } from './user-search.contract.js';

describe.skipIf(postgresUnavailable !== null)('PostgreSQL user search', () => {
  describeUserSearchContract('PostgreSQL', async () => {
    const database = await createTestDatabase('user_search');
    const pool = openPostgres(database.url);
    const store = await createPostgresEventStore({ pool, connectionString: database.url });
    await preparePostgresReadModel(pool, [userSearchPostgresProjection]);
    const { sinks, close } = await createPostgresProjectionSinks(pool, database.url, [userSearchPostgresProjection]);
    return {
      store,
      sink: sinks[0]!,
      readModel: createPostgresUserSearchReadModel(pool),
      cleanup: async () => {
        await close();
        await store.close();
        await pool.end();
        await database.drop();
      },
    };
  });

  it('reads each search from its index, in the index order, with no sort step', async () => {
    const database = await createTestDatabase('user_search_plans');
    const pool = openPostgres(database.url);
    try {
      await preparePostgresReadModel(pool, [userSearchPostgresProjection]);
      // Enough rows, spread over domains and names, that the planner prefers an index to a scan.
      await pool.query(`
        INSERT INTO user_search (id, username, email, version, created_at, updated_at, created_position, username_key, email_domain)
        SELECT 'u' || n, 'name' || n, 'p' || n || '@d' || (n % 50) || '.com', 1, 't', 't', lpad(n::text, 20, '0'), 'name' || n, 'd' || (n % 50) || '.com'
          FROM generate_series(1, 20000) AS n`);
      await pool.query('ANALYZE user_search');
      const key = { usernameKey: 'name5', position: '00000000000000000005' as never };
      const cases: [UserSearch, RegExp][] = [
        [{ field: 'USERNAME', direction: 'ASC' }, /Index Scan using user_search_by_username/],
        [{ usernamePrefix: 'name1', field: 'USERNAME', direction: 'DESC' }, /Index Scan Backward using user_search_by_username/],
        [{ emailDomain: 'd7.com', field: 'CREATED_AT', direction: 'ASC' }, /Index Scan using user_search_by_domain /],
        [{ emailDomain: 'd7.com', field: 'USERNAME', direction: 'DESC' }, /Index Scan Backward using user_search_by_domain_username/],
        [{ field: 'CREATED_AT', direction: 'DESC' }, /Index Scan Backward using user_search_created_position_key/],
      ];
      for (const [search, index] of cases) {
        const { values, param } = parameters('postgres');
        const sql = searchPageSql('user_search', search, { direction: 'forward', count: 21, after: key, before: undefined }, param);
        const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, values);
        const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
        expect(plan, JSON.stringify(search)).toMatch(index);
        expect(plan, JSON.stringify(search)).not.toMatch(/Sort/);
      }
    } finally {
      await pool.end();
      await database.drop();
    }
  });
});
