/**
 * What a cached answer read, in the response-cache plugin's own record shape:
 * an entity (`{ typename: 'User', id: 'User:42' }`) or a whole list
 * (`{ typename: 'UserConnection' }`, no id). Projections invalidate the same
 * records for the events they apply (a module's `responseCache.tagsOf`).
 */
export type CacheTag = Readonly<{ typename: string; id?: string | number }>;

/** One string per tag: `User:42` for an entity (its global id), the typename for a list. */
export function tagKey(tag: CacheTag): string {
  if (tag.id === undefined) return tag.typename;
  const id = String(tag.id);
  return id.startsWith(`${tag.typename}:`) ? id : `${tag.typename}:${id}`;
}

/**
 * What one operation read, for the response cache: kept beside the request's
 * context (which resolvers cannot extend) and filled by the resolvers that
 * read the read model. Absent when the cache does not watch the request.
 */
export type ReadRecord = {
  readonly tags: Set<string>;
  /** A field the tags cannot describe was read (time travel): never cache this answer. */
  uncacheable: boolean;
  /** A personal field was shown to its owner (or an admin): `no-store`, never a shared cache. */
  personal: boolean;
};

const records = new WeakMap<object, ReadRecord>();

export function startReadRecord(context: object): ReadRecord {
  const record: ReadRecord = { tags: new Set(), uncacheable: false, personal: false };
  records.set(context, record);
  return record;
}

export const readRecordOf = (context: object): ReadRecord | undefined => records.get(context);

/** The answer depends on these entities or lists. */
export function recordRead(context: object, ...tags: readonly CacheTag[]): void {
  const record = records.get(context);
  if (record) for (const tag of tags) record.tags.add(tagKey(tag));
}

export function recordUncacheable(context: object): void {
  const record = records.get(context);
  if (record) record.uncacheable = true;
}

export function recordPersonal(context: object): void {
  const record = records.get(context);
  if (record) record.personal = true;
}
