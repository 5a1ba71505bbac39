import type { Decider } from './decider.js';
import type { EventLog } from './event-store.js';
import type { Event, StoredEvent } from './messages.js';
import { LOG_START, type Position } from './position.js';
import { snapshotWithin, type Snapshot, type SnapshotStore, type StreamBound } from './snapshots.js';
import { createLruMap } from './lru-map.js';

/** A state folded from one stream's events, which snapshots may cache. */
export type StreamFold<S> = Readonly<{
  /** Names the fold and its revision in the snapshot store (see Snapshot.fold). */
  name: string;
  initialState: () => S;
  evolve: (state: S, event: StoredEvent) => S;
  /** A snapshot's stored state read back, or undefined when it is not one of this fold's (damaged): the stream is then read from its start. */
  decode: (stored: unknown) => S | undefined;
}>;

/** A fold of any state: how lists of folds of different states are typed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each fold is checked where it is defined; a list only passes them on.
export type AnyStreamFold = StreamFold<any>;

/** A stream folded through `version`; `position` and `time` are the maxima over its events, as in a Snapshot. */
export type FoldedStream<S> = Readonly<{ state: S; version: number; position: Position; time: string }>;

/** A decider's state as a fold of its stream. */
export function deciderFold<E extends Event, S>(
  decider: Pick<Decider<never, E, S, unknown>, 'evolve' | 'initialState'>,
  name: string,
  decode: (stored: unknown) => S | undefined,
): StreamFold<S> {
  return { name, initialState: decider.initialState, evolve: (state, event) => decider.evolve(state, event as unknown as E), decode };
}

export type StreamFolds = Readonly<{
  /**
   * The stream folded up to the bound (to its end without one): from its
   * newest snapshot within the bound, then only the events after it. Reads
   * at most about `every` events once snapshots exist; snapshots it passes
   * while folding further are written afterwards.
   */
  fold: <S>(fold: StreamFold<S>, streamId: string, bound?: StreamBound) => Promise<FoldedStream<S>>;
  /**
   * After an append moved a stream from `before` to `after`: when that crossed
   * a multiple of `every`, snapshots these folds of it in the background.
   * Returns at once and never throws: a failed snapshot is logged, and the
   * next reader just reads further.
   */
  appended: (folds: readonly AnyStreamFold[], streamId: string, before: number, after: number) => void;
  /** Resolves when every snapshot write started so far has ended (tests, shutdown). */
  settled: () => Promise<void>;
}>;

export type StreamFoldsOptions = Readonly<{
  eventLog: Pick<EventLog, 'readStreamFrom'>;
  snapshots: SnapshotStore;
  /** A snapshot every this many events of a stream; 0 turns snapshots off (every read folds from the start). */
  every: number;
  /** A snapshot that could not be read or written: worth a warning, never an error for the caller. */
  onError: (error: unknown, context: Readonly<{ streamId: string; fold: string; action: 'load' | 'save' }>) => void;
}>;

/** Events per read when no snapshot says how far the answer can be. */
const READ_CHUNK = 1000;
/** Streams remembered to have no snapshot yet (most streams are shorter than `every`). */
const KNOWN_WITHOUT_SNAPSHOT = 100_000;
/** Streams remembered to be at least `every` events long: their first read asks for a snapshot. */
const KNOWN_LONG = 10_000;

export function createStreamFolds({ eventLog, snapshots, every, onError }: StreamFoldsOptions): StreamFolds {
  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  // A stream shorter than `every` has no snapshot, and asking the store for one cost a query per
  // command. Remembered once a load found none at all; forgotten when this process saves one (before
  // and after the write, so a load racing it cannot put it back). A snapshot another instance wrote
  // stays unseen until this one saves its own: only a longer read, never another answer.
  const withoutSnapshot = createLruMap<string, true>(KNOWN_WITHOUT_SNAPSHOT);
  const noSnapshotKey = (fold: AnyStreamFold, streamId: string) => `${fold.name}\0${streamId}`;
  const longStreams = createLruMap<string, true>(KNOWN_LONG);

  const save = (fold: AnyStreamFold, streamId: string, passed: readonly Snapshot[]) => {
    if (passed.length === 0) return;
    const key = noSnapshotKey(fold, streamId);
    withoutSnapshot.delete(key);
    track(
      snapshots
        .saveSnapshots(passed)
        .catch((error: unknown) => onError(error, { streamId, fold: fold.name, action: 'save' }))
        .finally(() => withoutSnapshot.delete(key)),
    );
  };

  /** The newest usable snapshot within the bound, or null: a store that fails to answer only costs a longer read. */
  const load = async <S>(fold: StreamFold<S>, streamId: string, bound: StreamBound | undefined): Promise<FoldedStream<S> | null> => {
    if (every <= 0) return null;
    const key = noSnapshotKey(fold, streamId);
    if (withoutSnapshot.get(key)) return null;
    try {
      const snapshot = await snapshots.loadSnapshot(streamId, fold.name, bound);
      if (!snapshot && bound === undefined) withoutSnapshot.set(key, true);
      if (!snapshot || !snapshotWithin(snapshot, bound)) return null;
      const state = fold.decode(snapshot.state);
      if (state === undefined) throw new Error(`snapshot of ${streamId} at version ${snapshot.version} does not decode as ${fold.name}`);
      return { state, version: snapshot.version, position: snapshot.position, time: snapshot.time };
    } catch (error) {
      onError(error, { streamId, fold: fold.name, action: 'load' });
      return null;
    }
  };

  const foldFrom = async <S>(
    fold: StreamFold<S>,
    streamId: string,
    bound: StreamBound | undefined,
    start: FoldedStream<S> | null,
  ): Promise<FoldedStream<S> | 'snapshot does not match'> => {
    let folded: FoldedStream<S> = start ?? nothingFolded(fold);
    const passed: Snapshot[] = [];
    // From a snapshot, its own event is read again: a snapshot beyond the stream's end (a restored
    // database, a damaged row) is caught before anything is folded onto it.
    let next = start ? start.version : 1;
    let checkSnapshot = start !== null;
    // A snapshot is usually within `every` events of the answer (the next one lies beyond the bound);
    // reading on goes in larger steps.
    let chunk = every > 0 ? every + 2 : READ_CHUNK;
    for (;;) {
      if (bound?.type === 'version') chunk = Math.min(chunk, bound.version - next + 1);
      if (chunk <= 0) break;
      const events = await eventLog.readStreamFrom(streamId, { fromVersion: next, limit: chunk });
      let index = 0;
      if (checkSnapshot) {
        if (events[0]?.streamVersion !== folded.version) return 'snapshot does not match';
        checkSnapshot = false;
        index = 1;
      }
      for (; index < events.length; index++) {
        const event = events[index]!;
        if (beyond(event, bound)) {
          save(fold, streamId, passed);
          return folded;
        }
        folded = step(fold, folded, event);
        if (every > 0 && folded.version % every === 0) passed.push({ streamId, fold: fold.name, ...folded });
      }
      if (events.length < chunk) break;
      next = events.at(-1)!.streamVersion + 1;
      chunk = READ_CHUNK;
    }
    save(fold, streamId, passed);
    return folded;
  };

  /**
   * A stream never seen before, read from its start: when it holds fewer than `every` events it can have
   * no snapshot, and asking for one first would have cost a query (a round trip per command on
   * PostgreSQL). Null when it is longer: the caller then asks for a snapshot, one read later.
   */
  const foldIfShort = async <S>(fold: StreamFold<S>, streamId: string, bound: StreamBound | undefined): Promise<FoldedStream<S> | null> => {
    const key = noSnapshotKey(fold, streamId);
    if (every <= 0 || withoutSnapshot.get(key) || longStreams.get(key)) return null;
    const events = await eventLog.readStreamFrom(streamId, { fromVersion: 1, limit: every });
    if (events.length >= every) {
      longStreams.set(key, true);
      return null;
    }
    withoutSnapshot.set(key, true);
    let folded = nothingFolded(fold);
    for (const event of events) {
      if (beyond(event, bound)) break;
      folded = step(fold, folded, event);
    }
    return folded;
  };

  const fold = async <S>(fold: StreamFold<S>, streamId: string, bound?: StreamBound): Promise<FoldedStream<S>> => {
    const short = await foldIfShort(fold, streamId, bound);
    if (short) return short;
    const start = await load(fold, streamId, bound);
    const folded = await foldFrom(fold, streamId, bound, start);
    if (folded !== 'snapshot does not match') return folded;
    onError(new Error(`snapshot of ${streamId} at version ${start!.version} is beyond the stream's end`), { streamId, fold: fold.name, action: 'load' });
    return (await foldFrom(fold, streamId, bound, null)) as FoldedStream<S>;
  };

  return {
    fold,
    appended: (folds, streamId, before, after) => {
      if (every <= 0 || Math.floor(after / every) === Math.floor(before / every)) return;
      const target: StreamBound = { type: 'version', version: after - (after % every) };
      for (const each of folds) {
        // Not awaited, and started after the command's own continuation: the append's latency is not its concern.
        track(
          new Promise<void>((resolve) => setImmediate(resolve))
            .then(() => fold(each, streamId, target))
            .then(
              () => {},
              (error: unknown) => onError(error, { streamId, fold: each.name, action: 'save' }),
            ),
        );
      }
    },
    settled: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

/** A stream before its first event. */
const nothingFolded = <S>(fold: StreamFold<S>): FoldedStream<S> => ({ state: fold.initialState(), version: 0, position: LOG_START, time: '' });

/** One more event folded in; `position` and `time` are the maxima over the events, as in a Snapshot. */
const step = <S>(fold: StreamFold<S>, folded: FoldedStream<S>, event: StoredEvent): FoldedStream<S> => ({
  state: fold.evolve(folded.state, event),
  version: event.streamVersion,
  position: event.position > folded.position ? event.position : folded.position,
  time: event.metadata.occurredAt > folded.time ? event.metadata.occurredAt : folded.time,
});

/** Whether an event lies past the bound: reading stops at the first such event. */
function beyond(event: StoredEvent, bound: StreamBound | undefined): boolean {
  if (bound === undefined) return false;
  switch (bound.type) {
    case 'version':
      return event.streamVersion > bound.version;
    case 'position':
      return event.position > bound.position;
    case 'time':
      return event.metadata.occurredAt > bound.time;
  }
}
