import type { CommandBus } from './kernel/command-bus.js';
import type { EventLog, PositionCodec } from './kernel/event-store.js';
import type { QueryBus } from './kernel/query-bus.js';
import type { StreamCategory } from './kernel/stream-id.js';
import type { PgPool } from './stores/postgres/database.js';
import type { PostgresProjection } from './stores/postgres/projection-sink.js';
import type { SqliteDatabase } from './stores/sqlite/database.js';
import type { SqliteProjection } from './stores/sqlite/projection-sink.js';
import type { ProjectionSink } from './kernel/projector.js';
import type { EventVersions } from './kernel/upcasting.js';
import type { StreamFolds } from './kernel/stream-folds.js';
import type { PersonalDataPolicy } from './kernel/personal-data.js';
import type { StoredEvent } from './kernel/messages.js';
import type { CacheTag } from './graphql/cache-tags.js';

/** What a module's handlers and queries are given when the system starts. */
export type ModuleWiring<ReadModel> = Readonly<{
  commandBus: CommandBus;
  queryBus: QueryBus;
  eventLog: EventLog;
  positions: PositionCodec;
  readModel: ReadModel;
  /** Streams folded from their snapshots (SNAPSHOT_EVERY): for command handlers and time travel. */
  streamFolds: StreamFolds;
  /** Ids for entities created without one. */
  newId: () => string;
}>;

/** A module's projections on one kind of store, and how its read model is opened there. */
export type ReadSide<Projection, Connection, ReadModel> = Readonly<{
  projections: readonly Projection[];
  /** `onQuery` is called once per read-model query (tests count DataLoader batching with it). */
  readModel: (connection: Connection, onQuery: () => void) => ReadModel;
}>;

/** In memory a projection's rows are the read model's: the module opens both together. */
export type MemoryReadSide<ReadModel> = (onQuery: () => void) => Readonly<{ sinks: readonly ProjectionSink[]; readModel: ReadModel }>;

/**
 * A feature: its aggregate's commands, its projections and read model on
 * every kind of store, its queries and its GraphQL fields. The composition
 * root takes a list of these (src/modules.ts) and names no feature itself.
 */
export type FeatureModule<ReadModel> = Readonly<{
  name: string;
  /**
   * Streams written before stream ids carried a category (release 0.1.0,
   * whose only aggregate was users) are renamed into this category by the
   * stores' migration. At most one module may claim them.
   */
  adoptsStreamsWithoutCategory?: StreamCategory;
  sqlite: ReadSide<SqliteProjection, SqliteDatabase, ReadModel>;
  postgres: ReadSide<PostgresProjection, PgPool, ReadModel>;
  memory: MemoryReadSide<ReadModel>;
  /** Registers the module's command and query handlers. */
  register: (wiring: ModuleWiring<ReadModel>) => void;
  /**
   * Each event type's schema at every version and the upcasters between them
   * (src/kernel/upcasting.ts). Without it, the module's events are written at
   * version 1 and read as stored.
   */
  events?: EventVersions;
  /**
   * Which fields of which events are personal, sealed under a key per stream
   * and erased by destroying it (src/kernel/personal-data.ts). Without it the
   * module's events are stored as they are.
   */
  personalData?: PersonalDataPolicy;
  /**
   * What the response cache must drop when a projection applies an event:
   * the tags (src/server/response-cache/tags.ts) of every answer the event can
   * change. Its query root fields listed here are cached; the others never are.
   */
  responseCache?: Readonly<{ tagsOf: (event: StoredEvent) => readonly CacheTag[]; queryFields: readonly string[] }>;
  /** Adds the module's root fields to the shared Pothos builder; called once per process. */
  graphql?: () => void;
}>;

/** A module of any read model: how lists of modules are typed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a list holds modules of different read models; each is checked where defined.
export type AnyModule = FeatureModule<any>;

/** Checks a module's parts against each other (the read model its stores open is the one its queries use). */
export const defineModule = <ReadModel>(module: FeatureModule<ReadModel>): FeatureModule<ReadModel> => module;
