import { openSync, closeSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';

/**
 * Ways a database file gets damaged, each checked against SQLite itself in
 * test/cli/damaged-files.e2e.test.ts: the file cut short (a full disk, a copy
 * stopped half-way), or pages overwritten with garbage while the 100-byte
 * header stays valid, so SQLite opens it as a database and only finds the
 * damage when it reads those pages.
 */
export type Damage =
  | Readonly<{ type: 'truncated'; to: 'half' | 100 }>
  /** Page 2 up to the middle of the file: the schema's own tables (schema_versions, checkpoints) are garbled. */
  | Readonly<{ type: 'overwritten'; pages: 'from page 2 to the middle' }>
  /** Only the non-root pages of one table: the file opens and migrates; a query that reads the rows fails. */
  | Readonly<{ type: 'overwritten'; pages: 'leaves of table'; table: string }>;

export const describeDamage = (damage: Damage): string =>
  damage.type === 'truncated'
    ? `truncated to ${damage.to === 'half' ? 'half its size' : '100 bytes'}`
    : damage.pages === 'leaves of table'
      ? `overwritten on the data pages of ${damage.table}`
      : `overwritten ${damage.pages}`;

export function damageFile(path: string, damage: Damage): void {
  switch (damage.type) {
    case 'truncated':
      return truncateSync(path, damage.to === 'half' ? Math.floor(statSync(path).size / 2) : damage.to);
    case 'overwritten': {
      const pageSize = readFileSync(path).readUInt16BE(16);
      const pages = damage.pages === 'leaves of table' ? leafPagesOf(path, damage.table) : rangeToMiddle(path, pageSize);
      if (pages.length === 0) throw new Error(`no pages to overwrite in ${path}`);
      const fd = openSync(path, 'r+');
      try {
        for (const page of pages) writeSync(fd, garbage(pageSize, page), 0, pageSize, (page - 1) * pageSize);
      } finally {
        closeSync(fd);
      }
      return;
    }
    default:
      return damage satisfies never;
  }
}

function rangeToMiddle(path: string, pageSize: number): number[] {
  const pageCount = Math.floor(statSync(path).size / pageSize);
  return Array.from({ length: Math.max(1, Math.floor(pageCount / 2) - 1) }, (_, i) => i + 2);
}

/** SQLite's own page map (the dbstat table), read before the damage: every page of `table` but its root. */
function leafPagesOf(path: string, table: string): number[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare<[string], { pageno: number }>("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno")
      .all(table)
      .map((row) => row.pageno);
  } finally {
    db.close();
  }
}

/** Deterministic bytes that are no valid b-tree page (the first byte is no page type SQLite knows). */
function garbage(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  bytes[0] = 0xff;
  return bytes;
}
