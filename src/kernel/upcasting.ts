import type { z } from 'zod';
import type { EventLog } from './event-store.js';
import type { StoredEvent } from './messages.js';

/**
 * Events are written once and read forever. An event type's data may change
 * shape only by a new schema version: new events are written at the newest
 * version, and every reader gets older ones upcast to it on read. Nothing
 * rewrites a stored event.
 */

/** One version of an event type's stored data. Once released, its shape never changes (test/contracts/event-schemas.unit.test.ts). */
export type EventSchema<Schema extends z.ZodType = z.ZodType> = Readonly<{ type: string; version: number; schema: Schema }>;

/** Turns an event's data at `fromVersion` into its data at `fromVersion + 1`. Pure: no IO, no clock, no randomness. */
export type Upcaster = Readonly<{ type: string; fromVersion: number; upcast: (data: unknown) => object }>;

/** What a module declares about its events: every version's schema, and an upcaster from each version but the newest. */
export type EventVersions = Readonly<{ schemas: readonly EventSchema[]; upcasters: readonly Upcaster[] }>;

export const eventSchema = <Schema extends z.ZodType>(type: string, version: number, schema: Schema): EventSchema<Schema> => ({
  type,
  version,
  schema,
});

/** An upcaster typed by the two schemas it connects, which must be consecutive versions of one type. */
export function upcaster<From extends z.ZodType, To extends z.ZodType>(
  from: EventSchema<From>,
  to: EventSchema<To>,
  upcast: (data: z.output<From>) => z.output<To>,
): Upcaster {
  if (from.type !== to.type || to.version !== from.version + 1) {
    throw new Error(`An upcaster connects consecutive versions of one event type, not ${from.type} v${from.version} and ${to.type} v${to.version}`);
  }
  return { type: from.type, fromVersion: from.version, upcast: (data) => upcast(data as z.output<From>) as object };
}

/**
 * A stored event no reader may use: its version is newer than this server
 * knows, or its upcaster failed. Carries the event as stored. Retrying does
 * not help (upcasters are pure), so projections halt on it at once and
 * commands on its stream answer `StreamUnreadable`.
 */
export class UnreadableEvent extends Error {
  override readonly name = 'UnreadableEvent';
  constructor(
    readonly event: StoredEvent,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot read event ${event.type} v${event.schemaVersion} (stream ${event.streamId}, version ${event.streamVersion}): ${reason}`, options);
  }
}

export type Upcasting = Readonly<{
  /** The version new events of this type are written at; undefined for a type no module declares. */
  currentVersionOf: (type: string) => number | undefined;
  /** The event in its type's newest shape; throws UnreadableEvent. Events of undeclared types are returned as stored. */
  upcast: (event: StoredEvent) => StoredEvent;
  /** Every declared schema by type, oldest version first: what the schema snapshot records. */
  schemas: ReadonlyMap<string, readonly EventSchema[]>;
}>;

type TypeVersions = Readonly<{ current: number; schema: z.ZodType; upcasters: readonly Upcaster['upcast'][] }>;

/** Checks the declarations hang together (versions 1..N, an upcaster from each but N) and indexes them. */
export function createUpcasting(declared: readonly EventVersions[]): Upcasting {
  const schemas = new Map<string, EventSchema[]>();
  for (const schema of declared.flatMap((d) => d.schemas)) schemas.set(schema.type, [...(schemas.get(schema.type) ?? []), schema]);
  const upcasters = declared.flatMap((d) => d.upcasters);
  const types = new Map<string, TypeVersions>();
  for (const [type, list] of schemas) {
    const sorted = [...list].sort((a, b) => a.version - b.version);
    sorted.forEach((schema, i) => {
      if (schema.version !== i + 1) throw new Error(`${type} declares versions ${sorted.map((s) => s.version).join(', ')}: they must be 1, 2, … with none twice`);
    });
    schemas.set(type, sorted);
    const current = sorted.length;
    const steps = sorted.slice(0, -1).map((schema) => {
      const found = upcasters.filter((u) => u.type === type && u.fromVersion === schema.version);
      if (found.length !== 1) throw new Error(`${type} needs exactly one upcaster from v${schema.version} to v${schema.version + 1}, has ${found.length}`);
      return found[0]!.upcast;
    });
    types.set(type, { current, schema: sorted.at(-1)!.schema, upcasters: steps });
  }
  const stray = upcasters.find((u) => !types.has(u.type) || u.fromVersion >= types.get(u.type)!.current || u.fromVersion < 1);
  if (stray) throw new Error(`An upcaster from ${stray.type} v${stray.fromVersion} has no newer declared version to go to`);

  const upcast = (event: StoredEvent): StoredEvent => {
    const versions = types.get(event.type);
    if (!versions || event.schemaVersion === versions.current) return event;
    const { current, schema } = versions;
    if (!Number.isInteger(event.schemaVersion) || event.schemaVersion < 1) throw new UnreadableEvent(event, 'no such schema version');
    if (event.schemaVersion > current) {
      throw new UnreadableEvent(
        event,
        `this server knows ${event.type} up to v${current}. The event was written by a newer release: run that release (or a newer one); old servers never guess at new shapes`,
      );
    }
    let data: unknown = event.data;
    for (let version = event.schemaVersion; version < current; version++) {
      try {
        data = versions.upcasters[version - 1]!(data);
      } catch (error) {
        throw new UnreadableEvent(event, `its upcaster from v${version} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }
    // Only events that were upcast are checked: events at the newest version are what this release wrote.
    const checked = schema.safeParse(data);
    if (!checked.success) throw new UnreadableEvent(event, `upcast to v${current}, its data does not fit that version: ${checked.error.message}`);
    return { ...event, schemaVersion: current, data: data as object };
  };

  return { currentVersionOf: (type) => types.get(type)?.current, upcast, schemas };
}

/**
 * The event log as every reader must see it: each event upcast to its
 * type's newest version, and each new event stamped with that version. Applied
 * once where storage is opened (src/storage.ts), so no reader can forget.
 * Methods other than these pass through: any new read method of the log must
 * be added here.
 *
 * `readAll` stops before an event that cannot be read and returns what came
 * before it; a read that starts at that event throws UnreadableEvent. So a
 * projection applies everything up to the event and halts exactly on it, and
 * nothing after it is skipped.
 */
export function withUpcasting<Log extends EventLog>(log: Log, upcasting: Upcasting): Log {
  const { upcast, currentVersionOf } = upcasting;
  return {
    ...log,
    append: (request) =>
      log.append({
        ...request,
        events: request.events.map((event) =>
          event.schemaVersion === undefined ? { ...event, schemaVersion: currentVersionOf(event.type) ?? 1 } : event,
        ),
      }),
    readStream: async (...args: Parameters<EventLog['readStream']>) => {
      const slice = await log.readStream(...args);
      return { ...slice, events: upcastAll(slice.events, upcast) };
    },
    readStreamFrom: async (...args: Parameters<EventLog['readStreamFrom']>) => upcastAll(await log.readStreamFrom(...args), upcast),
    // A page is shown to a client: an event it cannot read fails the page, it is never left out.
    readPage: async (...args: Parameters<EventLog['readPage']>) => upcastAll(await log.readPage(...args), upcast),
    readAll: async (...args: Parameters<EventLog['readAll']>) => {
      const events = await log.readAll(...args);
      try {
        return upcastAll(events, upcast);
      } catch (error) {
        if (!(error instanceof UnreadableEvent)) throw error;
        const at = events.indexOf(error.event);
        if (at <= 0) throw error;
        return upcastAll(events.slice(0, at), upcast);
      }
    },
  };
}

/** The same array when nothing needed upcasting: the common case costs no copy. */
function upcastAll(events: readonly StoredEvent[], upcast: Upcasting['upcast']): readonly StoredEvent[] {
  let result: StoredEvent[] | undefined;
  events.forEach((event, i) => {
    const read = upcast(event);
    if (read !== event) (result ??= events.slice())[i] = read;
  });
  return result ?? events;
}
