import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/stores/sqlite/database.js';
import { createSqliteEventStore } from '../../src/stores/sqlite/event-store.js';
import { createSqliteProjectionSink, prepareReadDatabase } from '../../src/stores/sqlite/projection-sink.js';
import { parameters, searchPageSql } from '../../src/users/read-model/search/search-sql.js';
import type { UserSearch } from '../../src/users/read-model/search/search.js';
import { createSqliteUserSearchReadModel, userSearchSqliteProjection } from '../../src/users/read-model/search/sqlite.js';
import { describeUserSearchContract } from './user-search.contract.js';

describeUserSearchContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'user-search-'));
  const store = createSqliteEventStore({ path: join(dir, 'events.db') });
  const db = openSqlite(join(dir, 'read.db'));
  prepareReadDatabase(db, [userSearchSqliteProjection]);
  return {
    store,
    sink: createSqliteProjectionSink(db, userSearchSqliteProjection),
    readModel: createSqliteUserSearchReadModel(db),
    cleanup: async () => {
      db.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite user search plans', () => {
  const key = { usernameKey: 'al', position: '0000000000000000000042' as never };
  const plans: [string, UserSearch, RegExp][] = [
    ['USERNAME order', { field: 'USERNAME', direction: 'ASC' }, /USING (COVERING )?INDEX user_search_by_username/],
    ['a username prefix in USERNAME order', { usernamePrefix: 'al', field: 'USERNAME', direction: 'DESC' }, /USING (COVERING )?INDEX user_search_by_username \(username_key>\? AND \(username_key,created_position\)<\(\?,\?\)\)/],
    ['an email domain by creation', { emailDomain: 'example.com', field: 'CREATED_AT', direction: 'ASC' }, /USING (COVERING )?INDEX user_search_by_domain \(email_domain=\?/],
    ['an email domain by username', { emailDomain: 'example.com', field: 'USERNAME', direction: 'DESC' }, /USING (COVERING )?INDEX user_search_by_domain_username \(email_domain=\?/],
    ['creation order', { field: 'CREATED_AT', direction: 'DESC' }, /SEARCH user_search USING PRIMARY KEY \(created_position<\?\)/],
  ];
  it.each(plans)('reads %s from an index, in its order, with no sort step', (_name, search, index) => {
    const dir = mkdtempSync(join(tmpdir(), 'user-search-plan-'));
    const db = openSqlite(join(dir, 'read.db'));
    try {
      prepareReadDatabase(db, [userSearchSqliteProjection]);
      const { values, param } = parameters('sqlite');
      const sql = searchPageSql('user_search', search, { direction: 'forward', count: 21, after: key, before: undefined }, param);
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...values)
        .map((row) => (row as { detail: string }).detail)
        .join('\n');
      expect(plan).toMatch(index);
      expect(plan).not.toMatch(/USE TEMP B-TREE FOR ORDER BY/);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
