import type { StoredDataKey, UniqueValue } from './event-store.js';
import { newDataKey, type SecretKey } from './crypto/aead.js';
import type { PersonalData } from './personal-data.js';

/**
 * Sealing a store written before personal fields were sealed: THE ONE PLACE
 * WHERE STORED EVENTS ARE REWRITTEN. Only the `data` of an event changes (its
 * declared personal fields move into `$sealed`, exactly as an append would
 * have stored them); its position, stream, version, type and metadata stay.
 *
 * Resumable and safe to kill at any point: each batch seals its events, and
 * creates their streams' data keys, in one transaction, and an event already
 * sealed no longer matches the query for unsealed ones, so a rerun skips it.
 * Everything that tells a sealed store from a plaintext one (hashed claims,
 * the `events_sealed` marker) changes together in one last transaction.
 */

/** An event still holding at least one of its declared personal fields in plaintext. */
export type UnsealedEvent<Cursor> = Readonly<{ cursor: Cursor; streamId: string; type: string; data: Record<string, unknown> }>;

export type BatchRewrite<Cursor> = Readonly<{
  events: readonly Readonly<{ cursor: Cursor; data: object }>[];
  /** Keys of streams that had none, to insert in the batch's transaction. */
  newKeys: readonly Readonly<{ subject: string; wrapped: Uint8Array }>[];
}>;

export type FinalStep = Readonly<{
  /** The claim's stored value from its plaintext one (src/kernel/personal-data.ts: HMAC of scope\0value). */
  hashClaim: (claim: UniqueValue) => string;
  /** Fields removed from stored rejections (`outcome.error`): every field some policy declares personal. */
  personalFieldNames: readonly string[];
}>;

export type FinalCounts = Readonly<{ claims: number; outcomes: number; snapshots: number }>;

/** What a store offers the migration; one adapter per store (src/stores/{sqlite,postgres}/seal-in-place.ts). */
export interface SealInPlaceStore<Cursor> {
  eventsSealed(): Promise<boolean>;
  countUnsealed(): Promise<number>;
  /**
   * In one transaction: the next (at most `limit`) unsealed events after `after` in log order, rewritten by
   * `rewrite` from their streams' stored keys. Null when none is left after `after`.
   */
  sealBatch(
    after: Cursor | undefined,
    limit: number,
    rewrite: (events: readonly UnsealedEvent<Cursor>[], keys: ReadonlyMap<string, StoredDataKey>) => BatchRewrite<Cursor>,
  ): Promise<Readonly<{ last: Cursor; sealed: number }> | null>;
  /**
   * In one transaction: refuses if an unsealed event is left (a server of an older release appended it
   * meanwhile), hashes every plaintext claim, strips personal fields from stored rejections, deletes the
   * snapshots its store keeps in the same database, and sets the `events_sealed` marker.
   */
  finish(step: FinalStep): Promise<FinalCounts>;
}

export type SealProgress = Readonly<{ sealed: number; total: number; seconds: number }>;

export type SealOutcome =
  | Readonly<{ type: 'AlreadySealed' }>
  | Readonly<{ type: 'Sealed'; events: number; seconds: number } & FinalCounts>;

export const SEAL_BATCH = 500;

/** A marker `finish` throws with when events were appended in plaintext during the run. */
export class PlaintextAppendedMeanwhile extends Error {
  override readonly name = 'PlaintextAppendedMeanwhile';
  constructor(count: number) {
    super(
      `${count} event(s) with plaintext personal fields were appended while sealing: a server of an older release still writes ` +
        'to this store. Stop every server, then run `npm run migrate` again (it goes on where it stopped).',
    );
  }
}

export async function sealStoredEvents<Cursor>(
  store: SealInPlaceStore<Cursor>,
  personal: PersonalData,
  options: Readonly<{ batch?: number; onProgress?: (progress: SealProgress) => void }> = {},
): Promise<SealOutcome> {
  if (await store.eventsSealed()) return { type: 'AlreadySealed' };
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const total = await store.countUnsealed();
  let sealed = 0;
  options.onProgress?.({ sealed, total, seconds: seconds() });
  let after: Cursor | undefined;
  for (;;) {
    const done = await store.sealBatch(after, options.batch ?? SEAL_BATCH, (events, keys) => rewriteBatch(personal, events, keys));
    if (!done) break;
    after = done.last;
    sealed += done.sealed;
    options.onProgress?.({ sealed, total, seconds: seconds() });
  }
  const names = [...new Set([...personal.fieldsOf.values()].flat())];
  const counts = await store.finish({ hashClaim: (claim) => personal.hashUnique(claim).value, personalFieldNames: names });
  return { type: 'Sealed', events: sealed, seconds: seconds(), ...counts };
}

/**
 * Seals each event as an append would have, under its stream's stored key or a new one. A stream whose
 * key was destroyed (erased) gets its plaintext sealed under a key thrown away at once: it reads as null,
 * as the rest of an erased stream does.
 */
export function rewriteBatch<Cursor>(
  personal: PersonalData,
  events: readonly UnsealedEvent<Cursor>[],
  stored: ReadonlyMap<string, StoredDataKey>,
): BatchRewrite<Cursor> {
  const keys = new Map<string, SecretKey>();
  const newKeys: { subject: string; wrapped: Uint8Array }[] = [];
  const keyOf = (subject: string): SecretKey => {
    const known = keys.get(subject);
    if (known) return known;
    const found = stored.get(subject);
    let key: SecretKey;
    if (found === 'destroyed') key = newDataKey();
    else if (found !== undefined) key = personal.unwrap(subject, found);
    else {
      const created = personal.newKey(subject);
      key = created.key;
      newKeys.push({ subject, wrapped: created.wrapped });
    }
    keys.set(subject, key);
    return key;
  };
  return {
    events: events.map(({ cursor, streamId, type, data }) => ({
      cursor,
      data: personal.sealEvent({ type, data, metadata: {} as never }, streamId, keyOf(streamId)).data as object,
    })),
    newKeys,
  };
}
