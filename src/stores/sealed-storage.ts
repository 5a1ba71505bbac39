import type { EventStore } from '../kernel/event-store.js';
import { keyCheckOf, keyIdOf, opensKeyCheck, type MasterKey } from '../kernel/crypto/master-key.js';
import { createPersonalData, withPersonalData, type PersonalData, type PersonalDataPolicy } from '../kernel/personal-data.js';
import { StartupRefusal } from '../startup-refusal.js';

/**
 * Checks the master key against the store before anything else is written
 * (the store's check value opens only with the key it was sealed under), and
 * wraps the log so personal fields are sealed and opened.
 */
export async function sealedEventStore<Store extends EventStore>(
  store: Store,
  key: MasterKey,
  policies: readonly PersonalDataPolicy[],
  refuseUnsealedEvents: boolean,
): Promise<{ store: Store; personal: PersonalData }> {
  const keyId = keyIdOf(key);
  const stored = await store.ensureKeyCheck({ keyId, check: keyCheckOf(key) });
  if (!opensKeyCheck(key, stored.check)) {
    throw new StartupRefusal(
      `the master key from ${key.source} (id ${keyId}) does not open this store, which was sealed under the key with id ${stored.keyId}: ` +
        'start with that key (MASTER_KEY_FILE or MASTER_KEY)',
    );
  }
  if (refuseUnsealedEvents && !stored.eventsSealed) {
    throw new StartupRefusal(
      'this store holds events written before personal fields were sealed: run `npm run migrate` to seal them, then start again',
    );
  }
  const personal = createPersonalData(key, policies);
  return { store: withPersonalData(store, personal), personal };
}
