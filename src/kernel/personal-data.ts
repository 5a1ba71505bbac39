import type { AppendConflict, AppendRequest, Appended, DataKeys, EventLog, NewEvent, StoredDataKey, UniqueValue } from './event-store.js';
import type { StoredEvent } from './messages.js';
import { open, seal, type SecretKey } from './crypto/aead.js';
import { derivedKey, keyedHash, newWrappedDataKey, unwrapDataKey, type MasterKey } from './crypto/master-key.js';
import type { Result } from './result.js';
import { createLruMap } from './lru-map.js';
import { createCryptoTurn } from './crypto/crypto-turn.js';

/**
 * Erasure by crypto-shredding. A module declares which fields of which of
 * its events are personal; those are stored sealed under a data key of the
 * event's stream (one per stream, so per user), itself sealed under the
 * master key. Destroying the stream's key erases the fields from every
 * event, snapshot and backup taken later, without rewriting the log.
 */
export type PersonalDataPolicy = Readonly<{
  /** Per event type, the fields of its data that are personal. */
  fields: Readonly<Record<string, readonly string[]>>;
  /** The event type whose append destroys its stream's data key, in the same transaction. */
  erasedBy: string;
}>;

/** Where an event's personal fields are kept, sealed together: base64 of `iv | tag | ciphertext` of their JSON. */
export const SEALED_FIELD = '$sealed';

/** A data key whose subject was erased: the wrapper refuses to seal anything under it. */
export class SubjectErased extends Error {
  override readonly name = 'SubjectErased';
  constructor(readonly subject: string) {
    super(`The personal data of ${subject} was erased: nothing more can be sealed under its key`);
  }
}

const eventAad = (streamId: string, type: string) => `${streamId}\0${type}`;
const snapshotAad = (streamId: string, fold: string) => `snapshot\0${streamId}\0${fold}`;
const APPEND_KEY_CACHE = 10_000;
const UNWRAPPED_KEY_CACHE = 10_000;
/** Enough for the projections to read back what was appended while they ran a batch or two behind. */
const APPENDED_PLAINTEXT_CACHE = 4_096;

const needsKeyToOpen = (event: { data: object }) => typeof (event.data as Record<string, unknown>)[SEALED_FIELD] === 'string';

/** The data as a read of the store gives it back: JSON keeps no field whose value is undefined. */
const definedFields = (data: object): object =>
  Object.values(data).includes(undefined) ? Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined)) : data;

/**
 * The keys a read needs, read from the store on every read call (so an erasure elsewhere shows at once).
 * Unwrapping is cached by the wrapped bytes: a destroyed key has none left to look up.
 */
export type OpenedKeys = ReadonlyMap<string, SecretKey | 'destroyed'>;

export type PersonalData = ReturnType<typeof createPersonalData>;

/** Sealing and opening under one master key for the modules' policies; shared by the event log and the snapshot wrappers. */
export function createPersonalData(master: MasterKey, policies: readonly PersonalDataPolicy[]) {
  const fieldsOf = new Map<string, readonly string[]>();
  const erasingTypes = new Set<string>();
  for (const policy of policies) {
    for (const [type, fields] of Object.entries(policy.fields)) {
      if (fieldsOf.has(type)) throw new Error(`Two personal-data policies declare ${type}`);
      fieldsOf.set(type, fields);
    }
    erasingTypes.add(policy.erasedBy);
  }
  const claimKey = derivedKey(master, 'unique values');

  // Keyed by subject and wrapped bytes together: the wrapping binds the subject, and a wrapped key the store
  // no longer holds (destroyed, or moved by a restore) is never asked for again, so it ages out.
  const unwrapped = createLruMap<string, SecretKey>(UNWRAPPED_KEY_CACHE);
  const unwrappedId = (subject: string, wrapped: Uint8Array) =>
    `${subject}\0${Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength).toString('base64')}`;
  const unwrap = (subject: string, wrapped: Uint8Array): SecretKey => {
    const id = unwrappedId(subject, wrapped);
    const cached = unwrapped.get(id);
    if (cached) return cached;
    const key = unwrapDataKey(master, subject, wrapped);
    unwrapped.set(id, key);
    return key;
  };

  const openKeys = async (keys: DataKeys, subjects: Iterable<string>): Promise<OpenedKeys> => {
    const wanted = [...new Set(subjects)];
    if (wanted.length === 0) return new Map();
    const stored = await keys.readDataKeys(wanted);
    return new Map([...stored].map(([subject, key]) => [subject, key === 'destroyed' ? key : unwrap(subject, key)]));
  };

  /**
   * The events opened, and the keys stored for their streams (read after the events: see `withPersonalData`'s
   * appends). A stream's key is unwrapped only when one of its events has to be decrypted: `known` may hold
   * an event's plaintext already, which stands in for opening it while its key is still stored.
   */
  const openEventsAndKeys = async (
    keys: DataKeys,
    events: readonly StoredEvent[],
    known?: (event: StoredEvent) => object | undefined,
  ): Promise<{ events: readonly StoredEvent[]; keys: ReadonlyMap<string, StoredDataKey> }> => {
    const sealed = events.filter(needsKeyToOpen);
    if (sealed.length === 0) return { events, keys: new Map() };
    const stored = await keys.readDataKeys([...new Set(sealed.map((event) => event.streamId))]);
    const unwrappedHere = new Map<string, SecretKey>();
    const keyOf = (subject: string, wrapped: Uint8Array) => {
      let key = unwrappedHere.get(subject);
      if (!key) unwrappedHere.set(subject, (key = unwrap(subject, wrapped)));
      return key;
    };
    /** The event with its personal fields back, or `null` in each of them once its key is destroyed. */
    const openEvent = (event: StoredEvent): StoredEvent => {
      const data = event.data as Record<string, unknown>;
      const { [SEALED_FIELD]: sealedFields, ...rest } = data;
      const wrapped = stored.get(event.streamId);
      if (wrapped === undefined) throw new Error(`No data key for ${event.streamId}: event ${event.type} v${event.streamVersion} cannot be opened`);
      if (wrapped === 'destroyed') {
        const redacted = Object.fromEntries((fieldsOf.get(event.type) ?? []).map((field) => [field, null]));
        return { ...event, data: { ...rest, ...redacted } };
      }
      const plaintext = known?.(event);
      if (plaintext) return { ...event, data: plaintext };
      const key = keyOf(event.streamId, wrapped);
      const fields = JSON.parse(open(key, Buffer.from(sealedFields as string, 'base64'), eventAad(event.streamId, event.type)).toString('utf8')) as object;
      return { ...event, data: { ...rest, ...fields } };
    };
    return { events: events.map((event) => (needsKeyToOpen(event) ? openEvent(event) : event)), keys: stored };
  };

  return {
    claimKey,
    requestHashKey: derivedKey(master, 'idempotency request hashes'),
    fieldsOf,
    erasingTypes,
    openKeys,
    /** The events opened, with one key read for all their streams; the same array when none was sealed. */
    openEvents: async (keys: DataKeys, events: readonly StoredEvent[], known?: (event: StoredEvent) => object | undefined) =>
      (await openEventsAndKeys(keys, events, known)).events,
    openEventsAndKeys,
    /** The event as stored: its declared personal fields moved into one sealed field. Others are returned as they are. */
    sealEvent: (event: NewEvent, streamId: string, key: SecretKey): NewEvent => {
      const declared = fieldsOf.get(event.type);
      if (!declared) return event;
      const data = event.data as Record<string, unknown>;
      const personal = Object.fromEntries(declared.filter((field) => data[field] !== undefined).map((field) => [field, data[field]]));
      if (Object.keys(personal).length === 0) return event;
      const rest = Object.fromEntries(Object.entries(data).filter(([field]) => !(field in personal)));
      const sealedFields = seal(key, Buffer.from(JSON.stringify(personal), 'utf8'), eventAad(streamId, event.type)).toString('base64');
      return { ...event, data: { ...rest, [SEALED_FIELD]: sealedFields } };
    },
    hasPersonalFields: (event: NewEvent) => {
      const data = event.data as Record<string, unknown>;
      return (fieldsOf.get(event.type) ?? []).some((field) => data[field] !== undefined);
    },
    hashUnique: ({ scope, value }: UniqueValue): UniqueValue => ({ scope, value: keyedHash(claimKey, `${scope}\0${value}`) }),
    newKey: (subject: string) => newWrappedDataKey(master, subject),
    unwrap,
    sealSnapshot: (streamId: string, fold: string, key: SecretKey, state: unknown) =>
      seal(key, Buffer.from(JSON.stringify(state) ?? 'null', 'utf8'), snapshotAad(streamId, fold)).toString('base64'),
    openSnapshot: (streamId: string, fold: string, key: SecretKey, sealed: string): unknown =>
      JSON.parse(open(key, Buffer.from(sealed, 'base64'), snapshotAad(streamId, fold)).toString('utf8')),
  };
}

/**
 * The event log with personal fields sealed on the way in and opened on the
 * way out. Applied under upcasting (src/storage.ts), so upcasters and every
 * reader see plain (or, once erased, `null`) fields. Methods other than these
 * pass through: any new read method of the log must be added here, as in
 * src/kernel/upcasting.ts.
 *
 * Each read call asks the store for the keys of its streams once, never
 * from a cache of its own, so an erasure on one instance shows on every
 * other at once (a store may keep keys only where that stays exact, as
 * SQLite's single writer does). Appends keep a
 * small cache of unwrapped keys, filled only by appends that succeeded and
 * emptied for a stream by its erasure; an append decided before an erasure
 * fails its expected-version check.
 */
export function withPersonalData<Log extends EventLog & DataKeys>(log: Log, personal: PersonalData): Log {
  const appendKeys = createLruMap<string, SecretKey>(APPEND_KEY_CACHE);
  /**
   * The key a read of a stream to its end opened, with the version it ended at: a command reads its stream,
   * then appends expecting that version, and need not read the key again. Safe for the same reason as
   * the append cache: the key was read after the events, so it was not destroyed while the stream stood at
   * that version, and an erasure after the read appended to the stream, so an append expecting the version
   * read fails. Removes one key read per command on a stream this process has not appended to lately.
   */
  const readKeys = createLruMap<string, { version: number; wrapped: Uint8Array }>(APPEND_KEY_CACHE);
  const noteReadKey = (streamId: string, version: number, keys: ReadonlyMap<string, StoredDataKey>) => {
    const wrapped = keys.get(streamId);
    if (wrapped !== undefined && wrapped !== 'destroyed') readKeys.set(streamId, { version, wrapped });
  };
  /**
   * What this process appended, in plaintext, by position: the projections read each event back within
   * milliseconds, and decrypting it (~10 µs of AES-GCM set-up and parsing) would only give back what the
   * append was given. It stands in for decryption only while the stream's key is still stored, read as
   * for every read, so an erasure on any instance shows as null at once. Bounded, and emptied by an
   * erasure appended here, so this process holds no plaintext of a subject it erased.
   */
  let appendedPlaintext = createLruMap<string, Readonly<{ streamId: string; type: string; data: object }>>(APPENDED_PLAINTEXT_CACHE);
  const rememberPlaintext = (appended: Appended, events: readonly NewEvent[]) =>
    appended.events.forEach((event, i) => {
      if (needsKeyToOpen(event)) appendedPlaintext.set(event.position, { streamId: event.streamId, type: event.type, data: definedFields(events[i]!.data) });
    });
  const known = (event: StoredEvent): object | undefined => {
    const remembered = appendedPlaintext.get(event.position);
    return remembered && remembered.streamId === event.streamId && remembered.type === event.type ? remembered.data : undefined;
  };

  type KeyForAppend = { key: SecretKey; created?: AppendRequest['dataKey'] };
  /**
   * How to get the stream's key for sealing, and the new key's row when the stream has none yet: what is
   * read from the store is read now, and the crypto (unwrapping, making a key) is left to the crypto turn.
   */
  const keyForAppend = async (subject: string, expectedVersion: number): Promise<() => KeyForAppend> => {
    const cached = appendKeys.get(subject);
    if (cached) return () => ({ key: cached });
    const read = readKeys.get(subject);
    if (read && read.version === expectedVersion && expectedVersion > 0) return () => ({ key: personal.unwrap(subject, read.wrapped) });
    // A stream's key is stored in the transaction of its first events, and destroyed only by an event
    // appended to it: an append expecting an empty stream either finds no key or fails its version check.
    if (expectedVersion === 0) return () => newKeyFor(subject);
    const stored = (await log.readDataKeys([subject])).get(subject);
    if (stored === 'destroyed') throw new SubjectErased(subject);
    if (stored !== undefined) return () => ({ key: personal.unwrap(subject, stored) });
    return () => newKeyFor(subject);
  };
  const newKeyFor = (subject: string): KeyForAppend => {
    const { key, wrapped } = personal.newKey(subject);
    return { key, created: { subject, wrapped } };
  };
  const inCryptoTurn = createCryptoTurn();

  const append = async (request: AppendRequest): Promise<Result<Appended, AppendConflict>> => {
    const { streamId } = request;
    const erases = request.events.some((event) => personal.erasingTypes.has(event.type));
    const sealing = request.events.some(personal.hasPersonalFields);
    const keyed = sealing ? await keyForAppend(streamId, request.expectedVersion) : undefined;
    const hashed = new Map<string, UniqueValue>();
    const hash = (unique: UniqueValue) => {
      const result = personal.hashUnique(unique);
      hashed.set(`${result.scope}\0${result.value}`, unique);
      return result;
    };
    const encrypt = () => {
      const { key, created } = keyed?.() ?? {};
      return {
        key,
        created,
        events: key ? request.events.map((event) => personal.sealEvent(event, streamId, key)) : request.events,
        claims: request.claims?.map(hash),
        releases: request.releases?.map(hash),
      };
    };
    const hasCrypto = keyed !== undefined || request.claims?.length || request.releases?.length;
    const { key: newKey, created: dataKey, events: sealed, claims, releases } = hasCrypto ? await inCryptoTurn(encrypt) : encrypt();
    const plaintextOf = (appended: Appended): Appended => ({
      ...appended,
      events: appended.events.map((event, i) => ({ ...event, data: request.events[i]!.data })),
    });
    const { idempotency } = request;
    const result = await log.append({
      ...request,
      events: sealed,
      ...(claims ? { claims } : {}),
      ...(releases ? { releases } : {}),
      ...(idempotency ? { idempotency: { ...idempotency, outcome: (appended: Appended) => idempotency.outcome(plaintextOf(appended)) } } : {}),
      ...(dataKey ? { dataKey } : {}),
      ...(erases ? { shred: [...(request.shred ?? []), streamId] } : {}),
    });
    if (erases) {
      appendKeys.delete(streamId);
      readKeys.delete(streamId);
      appendedPlaintext = createLruMap(APPENDED_PLAINTEXT_CACHE);
    }
    if (!result.ok) {
      const conflict = result.error;
      if (conflict.type !== 'UniqueValueTaken') return result;
      const original = hashed.get(`${conflict.scope}\0${conflict.value}`);
      return original ? { ok: false, error: { ...conflict, value: original.value } } : result;
    }
    // Cached only once an append under it succeeded: a new key is then stored (a racing append on the same
    // new stream created its own, and one of them conflicted), and a key read before an erasure that
    // committed meanwhile is never kept. A key cached here and destroyed by another instance can still seal
    // a later append there; what it seals reads as null everywhere, since no stored key opens it.
    if (newKey && !erases) {
      appendKeys.set(streamId, newKey);
      rememberPlaintext(result.value, request.events);
    }
    return { ok: true, value: plaintextOf(result.value) };
  };

  return {
    ...log,
    append,
    readStream: async (...args: Parameters<EventLog['readStream']>) => {
      const slice = await log.readStream(...args);
      const opened = await personal.openEventsAndKeys(log, slice.events, known);
      noteReadKey(args[0], slice.version, opened.keys);
      return { ...slice, events: opened.events };
    },
    readStreamFrom: async (...args: Parameters<EventLog['readStreamFrom']>) => {
      const [streamId, { limit }] = args;
      const opened = await personal.openEventsAndKeys(log, await log.readStreamFrom(...args), known);
      const last = opened.events.at(-1);
      // Fewer than asked for: the read reached the stream's end.
      if (last && opened.events.length < limit) noteReadKey(streamId, last.streamVersion, opened.keys);
      return opened.events;
    },
    readAll: async (...args: Parameters<EventLog['readAll']>) => personal.openEvents(log, await log.readAll(...args), known),
    readPage: async (...args: Parameters<EventLog['readPage']>) => personal.openEvents(log, await log.readPage(...args), known),
  };
}
