import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RebuildRequest, RebuildRequests, RequestStatus } from '../../kernel/rebuild-requests.js';

const REQUEST = '.request.json';
const TAKEN = '.taken.json';
const STATUS = '.status.json';

/**
 * `npm run rebuild` beside a running server on SQLite: files in
 * `DATA_DIR/rebuilds/`. The command cannot open the store (the server holds
 * the data directory's writer lock), but a file is something both can write
 * without a lock: the command writes `<id>.request.json`; the server, looking
 * every poll interval, takes it by renaming it to `<id>.taken.json` (a rename
 * is atomic: one taker), builds, and writes its progress to
 * `<id>.status.json`, each time whole and renamed into place so the command
 * never reads half of one. The command deletes the three when it is done.
 */
export function createSqliteRebuildRequests(dataDir: string): RebuildRequests {
  const dir = join(dataDir, 'rebuilds');
  const path = (id: string, suffix: string) => join(dir, `${id}${suffix}`);
  const writeWhole = (file: string, value: unknown) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${file}.${process.pid}`, JSON.stringify(value));
    renameSync(`${file}.${process.pid}`, file);
  };
  const readJson = <T>(file: string): T | null => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch {
      return null;
    }
  };

  return {
    take: async (names) => {
      let files: string[];
      try {
        files = readdirSync(dir).filter((file) => file.endsWith(REQUEST));
      } catch {
        return [];
      }
      const taken: RebuildRequest[] = [];
      for (const file of files) {
        const id = file.slice(0, -REQUEST.length);
        const request = readJson<{ name: string }>(path(id, REQUEST));
        if (!request || !names.includes(request.name)) continue;
        try {
          renameSync(path(id, REQUEST), path(id, TAKEN));
        } catch {
          continue; // withdrawn meanwhile
        }
        taken.push({ id, name: request.name });
      }
      return taken;
    },
    report: async (ids, status) => {
      for (const id of ids) writeWhole(path(id, STATUS), status);
    },
    request: async (name) => {
      const id = randomUUID();
      writeWhole(path(id, REQUEST), { name, requestedAt: new Date().toISOString(), pid: process.pid });
      return id;
    },
    status: async (id) => readJson<RequestStatus>(path(id, STATUS)),
    withdraw: async (id) => {
      for (const suffix of [REQUEST, TAKEN, STATUS]) rmSync(path(id, suffix), { force: true });
    },
    close: async () => {},
  };
}
