import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Why `dataDir` holds no SQLite event store yet (a sentence naming the path), or undefined when it holds one. */
export function missingEventStore(dataDir: string): string | undefined {
  const dir = resolve(dataDir);
  if (!existsSync(dir)) return `DATA_DIR ${dir} does not exist`;
  const events = join(dir, 'events.db');
  return existsSync(events) ? undefined : `DATA_DIR ${dir} holds no event store (no ${events})`;
}
