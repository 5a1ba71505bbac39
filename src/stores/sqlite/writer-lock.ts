import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StartupRefusal } from '../../startup-refusal.js';

/**
 * One writer per SQLite data directory. Two processes appending to one
 * events.db would each number streams from their own cache, and each run the
 * projections into the same read.db; so a server, `rebuild` and `migrate` hold
 * this lock for as long as they have the store open, and a second one refuses
 * to start, naming the holder.
 *
 * The lock is an open `BEGIN EXCLUSIVE` transaction on `lock.db`: SQLite takes
 * an OS file lock (fcntl), which the kernel drops when the holder exits however
 * it exits. A SIGKILLed server therefore never blocks its own restart, and no
 * one has to guess whether a recorded pid is still alive, was reused, or lives
 * in another container sharing the volume. SQLite also keeps the lock exclusive
 * between connections inside one process.
 *
 * While held, lock.db cannot be read, so the holder writes who it is to
 * `lock.json` beside it once it holds the lock (and deletes it on release).
 * In the moment between the two, a refused process may read a previous,
 * crashed holder's record or none; the refusal itself never depends on it.
 */
export type WriterLock = Readonly<{ holder: Holder; release: () => void }>;

export type Holder = Readonly<{ pid: number; host: string; since: string }>;

const LOCK_FILE = 'lock.db';
const HOLDER_FILE = 'lock.json';

/** Creates `dataDir` if needed, then takes its lock or throws a StartupRefusal naming the holder. */
export function lockDataDir(dataDir: string): WriterLock {
  const dir = resolve(dataDir);
  ensureDirectory(dir);
  const db = new Database(join(dir, LOCK_FILE), { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StartupRefusal(`DATA_DIR ${dir} is in use by ${describe(readHolder(dir))}: one process at a time writes to a SQLite store; stop it first`);
    }
    throw error;
  }
  const holder: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const holderFile = join(dir, HOLDER_FILE);
  // Written whole, then renamed: a refused process never reads half a record.
  writeFileSync(`${holderFile}.${process.pid}`, `${JSON.stringify(holder)}\n`);
  renameSync(`${holderFile}.${process.pid}`, holderFile);
  let released = false;
  return {
    holder,
    release: () => {
      if (released) return;
      released = true;
      rmSync(holderFile, { force: true });
      db.close(); // rolls the open transaction back, which drops the file lock
    },
  };
}

/**
 * Who holds the data directory's lock now ("process 4242 since ..."), or
 * null when nobody does. For `npm run rebuild`, which asks a running server
 * to build beside its read model instead of being refused.
 */
export function lockHolderOf(dataDir: string): string | null {
  const dir = resolve(dataDir);
  if (kindOf(dir) !== 'directory') return null;
  const db = new Database(join(dir, LOCK_FILE), { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
    return null;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return describe(readHolder(dir));
    throw error;
  } finally {
    db.close();
  }
}

/** Runs `open` under the data directory's lock; the lock is released when what it opened closes, or when opening fails. */
export async function withDataDirLock<T extends { close: () => Promise<void> }>(dataDir: string, open: () => T | Promise<T>): Promise<T> {
  const lock = lockDataDir(dataDir);
  let opened: T;
  try {
    opened = await open();
  } catch (error) {
    lock.release();
    throw error;
  }
  return { ...opened, close: () => opened.close().finally(lock.release) };
}

function ensureDirectory(dir: string): void {
  const kind = kindOf(dir);
  if (kind === 'directory') return;
  if (kind === 'other') throw new StartupRefusal(`DATA_DIR ${dir} is a file, not a directory: point DATA_DIR at a directory`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new StartupRefusal(`DATA_DIR ${dir} cannot be created: ${(error as Error).message}`);
  }
}

function kindOf(path: string): 'directory' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}

function readHolder(dir: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

function describe(holder: Holder | undefined): string {
  if (!holder) return 'another process (it has not yet recorded its pid)';
  const host = holder.host === hostname() ? '' : ` on ${holder.host}`;
  return `process ${holder.pid}${host} since ${holder.since}`;
}
