import { existsSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StartupRefusal } from '../../startup-refusal.js';

type SqliteError = InstanceType<typeof Database.SqliteError>;

/**
 * True when SQLite says the file's bytes are wrong, not the statement:
 * SQLITE_CORRUPT (and its extended codes) or SQLITE_NOTADB. A truncated file
 * says so as soon as its first page is read; overwritten pages only when a
 * statement reaches them, so this is checked at open and on every later failure.
 */
export function isDamage(error: unknown): error is SqliteError {
  return error instanceof Database.SqliteError && (error.code === 'SQLITE_NOTADB' || error.code.startsWith('SQLITE_CORRUPT'));
}

/**
 * Reads every page of the file (`PRAGMA quick_check`) and throws SQLITE_CORRUPT
 * with SQLite's first findings when it is damaged. It costs a full read of the
 * file, which grows with the log, so only `migrate` asks for it.
 */
export function quickCheck(db: Database.Database): void {
  const findings = (db.pragma('quick_check(5)') as { quick_check: string }[]).map((row) => row.quick_check);
  if (findings.length === 1 && findings[0] === 'ok') return;
  // SQLite starts its findings with "*** in database main ***" and a newline; the refusal is one line.
  const text = findings.map((finding) => finding.replace('*** in database main ***', '').replace(/\s+/g, ' ').trim());
  throw new Database.SqliteError(`quick_check: ${text.join('; ')}`, 'SQLITE_CORRUPT');
}

/** quickCheck on a file through a connection of its own; a file that does not exist yet has nothing to check. */
export function quickCheckFile(path: string): void {
  if (!existsSync(path)) return;
  // Read-write like the store's own connection, so a WAL left by a crash is recovered, not misread.
  const db = new Database(path, { fileMustExist: true });
  try {
    quickCheck(db);
  } finally {
    db.close();
  }
}

/**
 * Renames a damaged database file, with its -wal and -shm, to
 * `<file>.damaged-<timestamp>`: kept for a post-mortem, out of the way of a
 * fresh file. The connection to it must be closed first.
 */
export function setAside(path: string, now: Date = new Date()): string {
  const movedTo = `${path}.damaged-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(path, movedTo);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix);
  }
  return movedTo;
}

/**
 * The event log cannot be opened because its file is damaged. It is the
 * source of truth, so nothing repairs or replaces it on its own: the message
 * tells the operator how to restore it, and `main` prints it as one line.
 */
export class DamagedEventLog extends StartupRefusal {
  override readonly name: string = 'DamagedEventLog';
  constructor(readonly path: string, cause: SqliteError) {
    super(
      `${resolve(path)} is damaged (${cause.code}: ${cause.message}). It is the event log, the source of truth: ` +
        'nothing repairs, replaces or deletes it on its own. Stop every process on this DATA_DIR, restore events.db ' +
        'from your latest backup, then run `npm run rebuild` before starting the server.',
      { cause },
    );
  }
}

/** Opens the event log with `open`, turning a damaged file into a DamagedEventLog that names it. */
export function openEventLog<T>(path: string, open: () => T): T {
  try {
    return open();
  } catch (error) {
    if (isDamage(error)) throw new DamagedEventLog(path, error);
    throw error;
  }
}

/**
 * The log read from start to end (a rebuild, a projection catching up) meets
 * damage that the open did not: it becomes a DamagedEventLog naming the file,
 * so `npm run rebuild` refuses in one line and the server's log says what to do.
 */
export function reportDamagedReads<T extends { readAll: (...args: never[]) => Promise<unknown> }>(store: T, path: string): T {
  const readAll = store.readAll.bind(store);
  return {
    ...store,
    readAll: ((...args: Parameters<T['readAll']>) =>
      readAll(...args).catch((error: unknown) => {
        throw isDamage(error) ? new DamagedEventLog(path, error) : error;
      })) as T['readAll'],
  };
}
