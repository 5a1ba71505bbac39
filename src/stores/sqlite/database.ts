import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

/**
 * `process`: a committed transaction survives a crash of this process (WAL,
 * synchronous=NORMAL) but not necessarily a power cut or kernel panic.
 * `fsync`: every commit is flushed to disk before it is acknowledged
 * (synchronous=FULL), which survives power loss at the cost of an fsync per commit.
 */
export type Durability = 'process' | 'fsync';

export type OpenOptions = Readonly<{ durability?: Durability; readonly?: boolean }>;

export function openSqlite(path: string, options: OpenOptions = {}): SqliteDatabase {
  const db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'fsync' ? 'FULL' : 'NORMAL'}`);
  }
  db.pragma('foreign_keys = ON');
  // Deleted and overwritten cells are zeroed, so an erased value (a destroyed data key, a read-model row) leaves no bytes in free pages.
  db.pragma('secure_delete = ON');
  return db;
}

/**
 * Closes after folding the WAL back into the file and truncating it, so no
 * old page (one holding a value since overwritten) stays behind in the WAL.
 * A reader elsewhere can make the checkpoint partial; closing still goes on.
 */
export function closeSqlite(db: SqliteDatabase): void {
  if (db.open && !db.readonly) {
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Busy or read-only: the next clean close checkpoints.
    }
  }
  db.close();
}

const SYNCHRONOUS = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;

/** The flush setting this connection really runs with (it is per connection, not stored in the file). */
export function synchronousOf(db: SqliteDatabase): string {
  const level = db.pragma('synchronous', { simple: true }) as number;
  return SYNCHRONOUS[level] ?? String(level);
}

export type Migration = Readonly<{ version: number; description: string; up: (db: SqliteDatabase) => void }>;

/**
 * Applies, one transaction each, the migrations of `component` newer than the
 * version recorded for it. Several components (the event store, each
 * projection) can share one database file without sharing version numbers.
 * A database written by a newer build is refused rather than misread.
 */
export function migrate(db: SqliteDatabase, component: string, migrations: readonly Migration[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT');
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const recorded = db.prepare<[string], { version: number }>('SELECT version FROM schema_versions WHERE component = ?');
  const record = db.prepare(
    'INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version',
  );
  const current = recorded.get(component)?.version ?? 0;
  if (current > latest) {
    throw new Error(`${db.name}: ${component} has schema version ${current}; this build knows up to ${latest}. Upgrade the server.`);
  }
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      if ((recorded.get(component)?.version ?? 0) >= migration.version) return;
      migration.up(db);
      record.run(component, migration.version);
    }).immediate();
  }
}
