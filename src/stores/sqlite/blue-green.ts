import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BesideBuild, BlueGreenSink } from '../../kernel/blue-green.js';
import { LOG_START, type Position } from '../../kernel/position.js';
import { openSqlite, type SqliteDatabase } from './database.js';
import { createSqliteProjectionSink, prepareReadDatabase, type SqliteProjection } from './projection-sink.js';

/** Where a build beside read.db is kept: `read.build-<projection>.db` in DATA_DIR. */
const buildFile = (dataDir: string, name: string) => join(dataDir, `read.build-${name}.db`);
const BUILD_FILES = /^read\.build-.+\.db(-wal|-shm|-journal)?$/;
/** Tables every read database has, which no projection owns. */
const SHARED_TABLES = ['projection_checkpoints', 'schema_versions'];

/**
 * Blue/green on SQLite: the build is a separate database file beside
 * read.db, made by the projection's own migrations (run on an empty file
 * they create every table it owns) and filled by its own `apply`, so no
 * projection's SQL names a table other than its own. The tables it owns are
 * the tables of that file, which is why nothing has to declare them.
 *
 * The switch is one write transaction on read.db with the build file
 * ATTACHed: drop the live tables, create them again from the build's
 * schema, copy the rows over (INSERT ... SELECT), move the checkpoint and
 * the version. A table cannot be renamed from one file into another, so
 * the switch copies: it holds the server's one read.db connection for as long
 * as the copy takes (3.7 s for 10⁶ users rows on the 2-core test machine; README: Rebuilds). Until it
 * commits, every read sees the old read model; a crash before the commit
 * leaves it whole, and the build file is deleted at the next start.
 */
export function createSqliteBlueGreen(options: Readonly<{ dataDir: string; projection: SqliteProjection; live: () => SqliteDatabase }>): BlueGreenSink {
  const { projection, live } = options;
  const { name } = projection;
  const version = projection.version ?? 1;
  const path = buildFile(options.dataDir, name);
  const removeFiles = () => {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
  };

  return {
    version,
    liveVersion: async () => {
      const row = live().prepare<[string], { version: number | null }>('SELECT version FROM projection_checkpoints WHERE name = ?').get(name);
      return row === undefined ? null : (row.version ?? 1);
    },
    adopt: async () => {
      live()
        .prepare(
          `INSERT INTO projection_checkpoints (name, position, version) VALUES (?, ?, ?)
           ON CONFLICT (name) DO NOTHING`,
        )
        .run(name, LOG_START, version);
    },
    beginBuild: async (): Promise<BesideBuild> => {
      removeFiles();
      // A crash throws the build away: it need not survive one, so it skips the flushes.
      const db = openSqlite(path, { durability: 'process' });
      db.pragma('synchronous = OFF');
      let sink;
      try {
        prepareReadDatabase(db, [projection]);
        sink = createSqliteProjectionSink(db, projection);
      } catch (error) {
        db.close();
        removeFiles();
        throw error;
      }
      let open = true;
      const close = () => {
        if (open) db.close(); // checkpoints the build's WAL into its file
        open = false;
      };
      return {
        apply: (events, from) => sink.apply(events, from),
        switchOver: async (at) => {
          close();
          switchOver(live(), path, name, version, at);
          removeFiles();
        },
        discard: async () => {
          close();
          removeFiles();
        },
      };
    },
  };
}

function switchOver(db: SqliteDatabase, path: string, name: string, version: number, at: Position): void {
  // ATTACH cannot run inside a transaction; the transaction is the switch.
  db.prepare('ATTACH DATABASE ? AS build').run(path);
  try {
    db.transaction(() => {
      const owned = db
        .prepare<[], string>(`SELECT name FROM build.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
        .pluck()
        .all()
        .filter((table) => !SHARED_TABLES.includes(table));
      const schema = db
        .prepare<[string], string>(
          `SELECT sql FROM build.sqlite_schema
            WHERE sql IS NOT NULL AND tbl_name IN (SELECT value FROM json_each(?))
            ORDER BY type <> 'table'`,
        )
        .pluck()
        .all(JSON.stringify(owned));
      for (const table of owned) db.exec(`DROP TABLE IF EXISTS main.${quote(table)}`);
      // The DDL as the build's migrations left it: unqualified, so it creates the tables in main.
      for (const sql of schema) db.exec(sql);
      for (const table of owned) db.exec(`INSERT INTO main.${quote(table)} SELECT * FROM build.${quote(table)}`);
      db.prepare(
        `INSERT INTO projection_checkpoints (name, position, version) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET position = excluded.position, version = excluded.version`,
      ).run(name, at, version);
    }).immediate();
  } finally {
    db.exec('DETACH DATABASE build');
  }
}

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** Builds a crash left behind: nobody builds while the data directory's lock is being taken. */
export function removeLeftoverBuilds(dataDir: string): void {
  for (const file of readdirSync(dataDir)) if (BUILD_FILES.test(file)) rmSync(join(dataDir, file), { force: true });
}
