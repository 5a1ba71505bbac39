/**
 * Seeds users u1..uN straight through the store adapter: the API would take
 * far too long for 10⁶ users. Appends are issued in concurrent chunks, so a
 * store with group commit writes each chunk in few transactions. The read
 * model is then built by the real rebuild command (scenario 6).
 */
import { dirname, join } from 'node:path';
import type { EventStore } from '../src/kernel/event-store.js';
import type { MasterKey } from '../src/kernel/crypto/master-key.js';
import { streamIdOf } from '../src/kernel/stream-id.js';
import { defaultSqliteMasterKey } from '../src/stores/master-key-source.js';
import { sealedEventStore } from '../src/stores/sealed-storage.js';
import { createSqliteEventStore } from '../src/stores/sqlite/event-store.js';
import { usersModule } from '../src/users/module.js';
import { EMAIL_SCOPE, emailKey, USER_STREAMS } from '../src/users/user.js';
import { rebuild } from './scenarios.js';

/** Users u1..uN in `dataDir`'s event log, and the read model built by the real rebuild command: where the one-server tools start. */
export async function seedDataDir(dataDir: string, users: number): Promise<void> {
  await seedUsers(join(dataDir, 'events.db'), 1, users);
  await rebuild(dataDir);
}

export async function seedUsers(eventsDbPath: string, from: number, to: number, onProgress?: (done: number) => void) {
  const store = createSqliteEventStore({ path: eventsDbPath });
  try {
    // Sealed under the key the server on this DATA_DIR will use (its default, DATA_DIR/master.key).
    await seedUsersInto(store, from, to, onProgress, defaultSqliteMasterKey(dirname(eventsDbPath), () => {}));
  } finally {
    await store.close();
  }
}

/** The same users through any store adapter (the PostgreSQL scenario seeds its database with it). */
export async function seedUsersInto(raw: EventStore, from: number, to: number, onProgress: ((done: number) => void) | undefined, masterKey: MasterKey) {
  // As the server stores them: personal fields sealed, the email claim a keyed hash.
  const { store } = await sealedEventStore(raw, masterKey, [usersModule.personalData!], false);
  const occurredAt = new Date().toISOString();
  const chunk = 1000;
  for (let start = from; start <= to; start += chunk) {
    const appends = [];
    for (let i = start; i < Math.min(to + 1, start + chunk); i++) {
      const email = `user${i}@example.com`;
      appends.push(
        store.append({
          // What the user handlers write: the user's stream (`user-u1`) and its email claim.
          streamId: streamIdOf(USER_STREAMS, `u${i}`),
          expectedVersion: 0,
          // At UserCreated's current version (v3), as the server writes it: the raw store would default to v1, upcast on every read.
          events: [{ type: 'UserCreated', schemaVersion: 3, data: { userId: `u${i}`, username: `user${i}`, email, createdBy: null }, metadata: { occurredAt } }],
          claims: [{ scope: EMAIL_SCOPE, value: emailKey(email) }],
        }),
      );
    }
    for (const result of await Promise.all(appends)) {
      if (!result.ok) throw new Error(`seeding failed: ${JSON.stringify(result.error)}`);
    }
    onProgress?.(Math.min(to, start + chunk - 1));
  }
}
