import { join } from 'node:path';
import type { MasterKey } from '../kernel/crypto/master-key.js';
import { createPersonalData } from '../kernel/personal-data.js';
import { sealStoredEvents, type SealOutcome, type SealProgress } from '../kernel/seal-in-place.js';
import type { AnyModule } from '../module.js';
import { StartupRefusal } from '../startup-refusal.js';
import { defaultSqliteMasterKey } from './master-key-source.js';
import { LOCK_NAMESPACE, openPostgres } from './postgres/database.js';
import { postgresSealInPlace } from './postgres/seal-in-place.js';
import { closeSqlite, openSqlite, type Durability } from './sqlite/database.js';
import { sqliteSealInPlace } from './sqlite/seal-in-place.js';
import { vacuumDueFile } from './sqlite/vacuum-due.js';
import { lockDataDir } from './sqlite/writer-lock.js';

/** The second advisory-lock key of `migrate`'s sealing run (src/stores/postgres/database.ts names the namespace). */
const SEALING_LOCK = 1;

export type SealTarget =
  | Readonly<{ kind: 'sqlite'; dataDir: string; durability: Durability; masterKey?: MasterKey | undefined }>
  | Readonly<{ kind: 'postgres'; url: string; masterKey?: MasterKey | undefined }>;

export type SealRun = Readonly<{ batch?: number; onProgress?: (progress: SealProgress) => void }>;

/**
 * Seals, in place, the personal fields of a store's events written before
 * sealing (`npm run migrate`, after the store's tables are migrated and its
 * master key checked by opening it). See src/kernel/seal-in-place.ts.
 */
export async function sealStoreInPlace(target: SealTarget, modules: readonly AnyModule[], run: SealRun = {}): Promise<SealOutcome> {
  const policies = modules.flatMap((m) => (m.personalData ? [m.personalData] : []));
  if (target.kind === 'sqlite') {
    const lock = lockDataDir(target.dataDir);
    try {
      const key = target.masterKey ?? defaultSqliteMasterKey(target.dataDir, (warning) => process.stderr.write(`${warning}\n`));
      const personal = createPersonalData(key, policies);
      const db = openSqlite(join(target.dataDir, 'events.db'), { durability: target.durability });
      try {
        return await sealStoredEvents(
          sqliteSealInPlace(
            db,
            personal.fieldsOf,
            personal.erasingTypes,
            () => emptySnapshots(target.dataDir, target.durability),
            vacuumDueFile(join(target.dataDir, VACUUM_DUE_FILE)),
          ),
          personal,
          run,
        );
      } finally {
        closeSqlite(db);
      }
    } finally {
      lock.release();
    }
  }
  if (!target.masterKey) throw new StartupRefusal('PostgreSQL needs a master key to seal personal data: set MASTER_KEY_FILE or MASTER_KEY');
  const personal = createPersonalData(target.masterKey, policies);
  const pool = openPostgres(target.url, { poolSize: 1, applicationName: 'cqrs-graphql migrate' });
  try {
    const client = await pool.connect();
    try {
      // Held by this session until it ends (a killed run's session ends with it): one sealing run at a time.
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_NAMESPACE, SEALING_LOCK]);
      if (!rows[0]!.locked) throw new StartupRefusal('another `npm run migrate` is sealing this PostgreSQL store: wait for it to end');
      return await sealStoredEvents(postgresSealInPlace(client, personal.fieldsOf, personal.erasingTypes), personal, run);
    } finally {
      client.release(true);
    }
  } finally {
    await pool.end();
  }
}

/** Present from just before sealing's last transaction until its VACUUM of events.db has ended. */
const VACUUM_DUE_FILE = 'events.db.vacuum-due';

/** Deletes every snapshot in snapshots.db and VACUUMs it, for the same reason as events.db. */
function emptySnapshots(dataDir: string, durability: Durability): number {
  const db = openSqlite(join(dataDir, 'snapshots.db'), { durability });
  try {
    const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'snapshots'").get();
    if (!exists) return 0;
    const deleted = db.prepare('DELETE FROM snapshots').run().changes;
    db.exec('VACUUM');
    return deleted;
  } finally {
    closeSqlite(db);
  }
}
