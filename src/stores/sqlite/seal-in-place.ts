import type { StoredDataKey } from '../../kernel/event-store.js';
import { PlaintextAppendedMeanwhile, type SealInPlaceStore, type UnsealedEvent } from '../../kernel/seal-in-place.js';
import type { SqliteDatabase } from './database.js';
import type { VacuumDue } from './vacuum-due.js';

/**
 * `npm run migrate`'s sealing (src/kernel/seal-in-place.ts) on events.db:
 * the one place where stored events are rewritten. Run under the data
 * directory's lock, so no server appends meanwhile.
 */
export function sqliteSealInPlace(
  db: SqliteDatabase,
  fieldsOf: ReadonlyMap<string, readonly string[]>,
  erasingTypes: ReadonlySet<string>,
  deleteSnapshots: () => number,
  vacuum: VacuumDue,
): SealInPlaceStore<number> {
  const vacuumNow = () => {
    db.exec('VACUUM');
    vacuum.clear();
  };
  // A run killed after its last transaction but before its VACUUM ended: the store reads as sealed, the file is not yet clean.
  if (vacuum.isSet()) vacuumNow();
  // Per type with a policy: the type, and whether any of its fields is still in `data` (JSON null included).
  const clauses: string[] = [];
  const params: string[] = [];
  for (const [type, fields] of fieldsOf) {
    clauses.push(`(type = ? AND (${fields.map(() => 'json_type(data, ?) IS NOT NULL').join(' OR ')}))`);
    params.push(type, ...fields.map(jsonPath));
  }
  const unsealed = clauses.length === 0 ? '0' : `(${clauses.join(' OR ')})`;
  const count = db.prepare(`SELECT count(*) AS n FROM events WHERE ${unsealed}`).pluck();
  const next = db.prepare(`SELECT position, stream_id, type, data FROM events WHERE position > ? AND ${unsealed} ORDER BY position LIMIT ?`);
  const readKeys = db.prepare<[string], { subject: string; wrapped: Buffer | null }>(
    'SELECT subject, wrapped FROM data_keys WHERE subject IN (SELECT value FROM json_each(?))',
  );
  const insertKey = db.prepare('INSERT INTO data_keys (subject, wrapped) VALUES (?, ?)');
  const erasedWithoutKey = db.prepare<[string, string], { stream_id: string }>(
    `SELECT DISTINCT stream_id FROM events WHERE stream_id IN (SELECT value FROM json_each(?)) AND type IN (SELECT value FROM json_each(?))
        AND stream_id NOT IN (SELECT subject FROM data_keys)`,
  );
  const tombstone = db.prepare('INSERT INTO data_keys (subject, wrapped, destroyed_at) VALUES (?, NULL, ?)');
  const update = db.prepare('UPDATE events SET data = ? WHERE position = ?');
  const marker = db.prepare<[], { events_sealed: number }>('SELECT events_sealed FROM master_key_check WHERE id = 1');

  const sealBatch = db.transaction(
    (after: number, limit: number, rewrite: Parameters<SealInPlaceStore<number>['sealBatch']>[2]) => {
      const rows = next.all(after, ...params, limit) as { position: number; stream_id: string; type: string; data: string }[];
      if (rows.length === 0) return null;
      const events: UnsealedEvent<number>[] = rows.map((row) => ({
        cursor: row.position,
        streamId: row.stream_id,
        type: row.type,
        data: JSON.parse(row.data) as Record<string, unknown>,
      }));
      const streams = JSON.stringify([...new Set(events.map((e) => e.streamId))]);
      // A stream erased before its events were sealed has no key: it gets the tombstone its erasure would have left.
      for (const { stream_id } of erasedWithoutKey.all(streams, JSON.stringify([...erasingTypes]))) tombstone.run(stream_id, new Date().toISOString());
      const keys = new Map<string, StoredDataKey>();
      for (const { subject, wrapped } of readKeys.all(streams)) keys.set(subject, wrapped === null ? 'destroyed' : new Uint8Array(wrapped));
      const rewritten = rewrite(events, keys);
      for (const { subject, wrapped } of rewritten.newKeys) insertKey.run(subject, wrapped);
      for (const { cursor, data } of rewritten.events) update.run(JSON.stringify(data), cursor);
      return { last: rows[rows.length - 1]!.position, sealed: rewritten.events.length };
    },
  );

  const claims = db.prepare<[], { scope: string; value: string }>('SELECT scope, value FROM unique_values');
  const rehash = db.prepare('UPDATE unique_values SET value = ? WHERE scope = ? AND value = ?');
  const finish = db.transaction((step: Parameters<SealInPlaceStore<number>['finish']>[0]) => {
    const left = count.get(...params) as number;
    if (left > 0) throw new PlaintextAppendedMeanwhile(left);
    // The marker is unset, so every claim was made in plaintext (a sealed store's server would have hashed it).
    const all = claims.all();
    for (const claim of all) rehash.run(step.hashClaim(claim), claim.scope, claim.value);
    const paths = step.personalFieldNames.map((name) => `$.error.${jsonPath(name).slice(2)}`);
    const outcomes =
      paths.length === 0
        ? 0
        : db
            .prepare(
              `UPDATE idempotency_records SET outcome = json_remove(outcome, ${paths.map(() => '?').join(', ')})
                WHERE ${paths.map(() => 'json_type(outcome, ?) IS NOT NULL').join(' OR ')}`,
            )
            .run(...paths, ...paths).changes;
    db.prepare('UPDATE master_key_check SET events_sealed = 1 WHERE id = 1').run();
    return { claims: all.length, outcomes };
  });

  return {
    eventsSealed: async () => marker.get()?.events_sealed === 1,
    countUnsealed: async () => count.get(...params) as number,
    sealBatch: async (after, limit, rewrite) => sealBatch.immediate(after ?? 0, limit, rewrite),
    finish: async (step) => {
      // snapshots.db is another file, so not in the same transaction: emptied first, and again by a rerun
      // if the marker's transaction never committed. Snapshots are a cache; plaintext ones must go.
      const snapshots = deleteSnapshots();
      vacuum.set();
      const counts = finish.immediate(step);
      // secure_delete zeroes a cell SQLite drops, but not the bytes a b-tree balance leaves in a page's
      // unallocated space: rewriting the events and re-keying the claims (a claim's new value sorts elsewhere)
      // leaves copies of plaintext there. VACUUM writes the file afresh from the live rows (closing then
      // checkpoints the WAL away). After the last transaction, so nothing it wrote is left behind either;
      // `vacuum` remembers it is due, so a run killed before it ends does it on the next start.
      vacuumNow();
      return { ...counts, snapshots };
    },
  };
}

/** A JSON path to one key, quoted so that any field name is taken literally. */
const jsonPath = (field: string) => `$.${JSON.stringify(field)}`;
