import {
  DEFAULT_IDEMPOTENCY_RETENTION,
  type AppendConflict,
  type AppendRequest,
  type Appended,
  type EventStore,
  type IdempotencyRetention,
  type KeyCheck,
  type ReadPageOptions,
  type StoredDataKey,
  type UniqueValue,
} from '../../kernel/event-store.js';
import type { StoredEvent } from '../../kernel/messages.js';
import { LOG_START, type Position } from '../../kernel/position.js';
import { fail, ok, type Result } from '../../kernel/result.js';
import { createAppendListeners } from '../append-listeners.js';
import { createMemoryIdempotencyRecords } from './idempotency-records.js';
import { START_TEXT, tagPosition, untagPosition } from '../position-text.js';
import { memoryPosition, sequenceOf } from './position.js';

const SEQUENCE_TEXT = /^(0|[1-9][0-9]{0,14})$/;

/**
 * What the other stores do by writing JSON: the stored value is the caller's
 * value as JSON sees it, and no reference is shared, so neither the caller
 * mutating its object later nor a reader mutating what it read can change
 * the log. Frozen, so readers can be handed the stored object itself.
 */
function storedCopy<T>(value: T): T {
  return deepFreeze(JSON.parse(JSON.stringify(value)) as T);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Index of the first event after `after` in events sorted by position. */
function firstAfter(events: readonly StoredEvent[], after: Position): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (events[middle]!.position <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * A page between two positions: the events (of the log or of one stream,
 * both sorted by position) found by binary search on the bounds, then
 * walked from the starting bound, skipping types not asked for.
 */
function readMemoryPage(events: readonly StoredEvent[], { direction, limit, after, before, types }: ReadPageOptions): StoredEvent[] {
  const wanted = types && new Set(types);
  const low = after === undefined ? 0 : firstAfter(events, after);
  // Index of the first event at or after `before`: everything below it is before `before`.
  const high = before === undefined ? events.length : firstAtOrAfter(events, before);
  const page: StoredEvent[] = [];
  const step = direction === 'forward' ? 1 : -1;
  for (let i = direction === 'forward' ? low : high - 1; i >= low && i < high && page.length < limit; i += step) {
    const event = events[i]!;
    if (!wanted || wanted.has(event.type)) page.push(event);
  }
  return page;
}

function firstAtOrAfter(events: readonly StoredEvent[], position: Position): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (events[middle]!.position < position) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The event log in this process's memory: no file, no server, gone when the
 * process ends. For tests and trials that need the real semantics without IO.
 * Every step of an append runs synchronously, so appends are serialised by
 * the event loop the way SQLite serialises them by its single writer: an
 * append is visible to readers the moment it is acknowledged, and positions
 * are handed out in the order readers see them.
 */
export function createMemoryEventStore(options: Readonly<{ idempotencyRetention?: IdempotencyRetention }> = {}): EventStore {
  const log: StoredEvent[] = [];
  const streams = new Map<string, StoredEvent[]>();
  /** Owner stream per scope and value. */
  const uniqueValues = new Map<string, Map<string, string>>();
  const idempotencyRecords = createMemoryIdempotencyRecords(options.idempotencyRetention ?? DEFAULT_IDEMPOTENCY_RETENTION, storedCopy);
  const dataKeys = new Map<string, StoredDataKey>();
  let keyCheck: KeyCheck | undefined;
  const listeners = createAppendListeners();

  const ownerOf = ({ scope, value }: UniqueValue) => uniqueValues.get(scope)?.get(value);

  /** Every check of an append, before anything changes: a conflict leaves the store as it was. */
  function conflictOf(request: AppendRequest): AppendConflict | null {
    const { streamId, expectedVersion } = request;
    const actualVersion = streams.get(streamId)?.length ?? 0;
    if (actualVersion !== expectedVersion) return { type: 'StreamVersionConflict', streamId, expectedVersion, actualVersion };
    if (request.idempotency && idempotencyRecords.holds(request.idempotency.key)) {
      return { type: 'IdempotencyKeyTaken', key: request.idempotency.key };
    }
    // Releases only free values this stream holds, so they cannot turn a taken value free for it.
    for (const claim of request.claims ?? []) {
      const owner = ownerOf(claim);
      if (owner !== undefined && owner !== streamId) return { type: 'UniqueValueTaken', ...claim, ownerStreamId: owner };
    }
    return null;
  }

  function moveUniqueValues(request: AppendRequest): void {
    for (const release of request.releases ?? []) {
      const scope = uniqueValues.get(release.scope);
      if (scope?.get(release.value) !== request.streamId) continue;
      scope.delete(release.value);
      if (scope.size === 0) uniqueValues.delete(release.scope);
    }
    for (const { scope, value } of request.claims ?? []) {
      let owners = uniqueValues.get(scope);
      if (!owners) uniqueValues.set(scope, (owners = new Map()));
      owners.set(value, request.streamId);
    }
  }

  /** The stored events and the append's result, built without writing anything. */
  function prepareAppend(request: AppendRequest): Appended {
    const { streamId, expectedVersion } = request;
    const events = request.events.map((event, index): StoredEvent =>
      storedCopy({
        type: event.type,
        data: event.data,
        metadata: event.metadata,
        position: memoryPosition(log.length + index + 1),
        streamId,
        streamVersion: expectedVersion + index + 1,
        schemaVersion: event.schemaVersion ?? 1,
      }),
    );
    return { streamId, version: expectedVersion + events.length, position: events[events.length - 1]!.position, events };
  }

  function append(request: AppendRequest): Result<Appended, AppendConflict> {
    const conflict = conflictOf(request);
    if (conflict) return fail(conflict);
    // Copying the events and computing the outcome can throw (a value JSON cannot hold):
    // both happen before the first write, so an append that throws leaves nothing behind.
    const appended = prepareAppend(request);
    const { idempotency } = request;
    const record = idempotency && { key: idempotency.key, requestHash: idempotency.requestHash, outcome: storedCopy(idempotency.outcome(appended)) };
    // From here on only plain inserts into maps and arrays, which cannot fail halfway.
    let stream = streams.get(request.streamId);
    if (!stream) streams.set(request.streamId, (stream = []));
    for (const event of appended.events) {
      log.push(event);
      stream.push(event);
    }
    moveUniqueValues(request);
    if (record) idempotencyRecords.store(record);
    if (request.dataKey && !dataKeys.has(request.dataKey.subject)) dataKeys.set(request.dataKey.subject, Uint8Array.from(request.dataKey.wrapped));
    for (const subject of request.shred ?? []) dataKeys.set(subject, 'destroyed');
    return ok(appended);
  }

  return {
    append: async (request) => {
      if (request.events.length === 0) throw new Error('append needs at least one event');
      const result = append(request);
      if (result.ok) listeners.notify();
      return result;
    },
    readStream: async (streamId) => {
      const events = streams.get(streamId) ?? [];
      return { version: events.length, events: [...events] };
    },
    readStreamFrom: async (streamId, { fromVersion, limit }) => {
      // Versions are contiguous from 1: version v is at index v - 1.
      const start = Math.max(0, fromVersion - 1);
      return (streams.get(streamId) ?? []).slice(start, start + Math.max(0, limit));
    },
    readAll: async ({ after, limit, streamId }) => {
      if (streamId === undefined) {
        // Positions are places in the log: the event after `after` is at index sequenceOf(after).
        const start = Math.min(sequenceOf(after), log.length);
        return log.slice(start, start + limit);
      }
      const stream = streams.get(streamId) ?? [];
      const start = firstAfter(stream, after);
      return stream.slice(start, start + limit);
    },
    readPage: async (options) => readMemoryPage(options.streamId === undefined ? log : (streams.get(options.streamId) ?? []), options),
    headPosition: async () => log.at(-1)?.position ?? LOG_START,
    // Appends are visible the moment they commit: nothing is ever held back.
    lastCommittedPosition: async () => log.at(-1)?.position ?? LOG_START,
    isEventPosition: async (position) => {
      if (position === LOG_START) return true;
      const sequence = sequenceOf(position);
      return Number.isInteger(sequence) && sequence >= 1 && sequence <= log.length && memoryPosition(sequence) === position;
    },
    getIdempotencyRecord: idempotencyRecords.getIdempotencyRecord,
    saveIdempotencyRecord: idempotencyRecords.saveIdempotencyRecord,
    pruneExpiredIdempotencyRecords: idempotencyRecords.pruneExpiredIdempotencyRecords,
    oldestIdempotencyRecordAt: idempotencyRecords.oldestIdempotencyRecordAt,
    readDataKeys: async (subjects) => {
      const found = new Map<string, StoredDataKey>();
      for (const subject of subjects) {
        const key = dataKeys.get(subject);
        if (key !== undefined) found.set(subject, key);
      }
      return found;
    },
    ensureKeyCheck: async (proposed) => (keyCheck ??= { keyId: proposed.keyId, check: Uint8Array.from(proposed.check), eventsSealed: log.length === 0 }),
    onAppended: listeners.subscribe,
    parsePosition: (text) => {
      if (text === START_TEXT) return ok(LOG_START);
      const body = untagPosition('mem', text);
      if (!body.ok) return body;
      return SEQUENCE_TEXT.test(body.value) ? ok(memoryPosition(Number(body.value))) : fail('is not a position of this event store');
    },
    formatPosition: (position) => (position === LOG_START ? START_TEXT : tagPosition('mem', String(sequenceOf(position)))),
    estimateEventsBetween: (from, to) => Math.max(0, sequenceOf(to) - sequenceOf(from)),
    close: async () => listeners.clear(),
  };
}
