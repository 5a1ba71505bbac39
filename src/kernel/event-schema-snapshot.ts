import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { Upcasting } from './upcasting.js';

/**
 * The JSON Schema of every declared event type at every version, as checked
 * in (src/event-schemas.json). Released shapes are read forever, so the
 * snapshot only ever grows: test/contracts/event-schemas.unit.test.ts fails
 * when a recorded shape changes or disappears.
 */
export type EventSchemaSnapshot = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export function snapshotOf(upcasting: Pick<Upcasting, 'schemas'>): EventSchemaSnapshot {
  const types = [...upcasting.schemas.keys()].sort();
  return Object.fromEntries(
    types.map((type) => [type, Object.fromEntries(upcasting.schemas.get(type)!.map(({ version, schema }) => [`v${version}`, canonical(z.toJSONSchema(schema))]))]),
  );
}

export type SnapshotDifference =
  /** A recorded version is no longer declared: its stored events could not be read. */
  | Readonly<{ type: 'dropped'; eventType: string; version: string }>
  /** A recorded version's shape changed: events stored in the old shape would be misread. */
  | Readonly<{ type: 'changed'; eventType: string; version: string }>
  /** A declared version is not recorded yet: `npm run event-schemas` adds it. */
  | Readonly<{ type: 'unrecorded'; eventType: string; version: string }>;

export function differences(recorded: EventSchemaSnapshot, current: EventSchemaSnapshot): SnapshotDifference[] {
  const found: SnapshotDifference[] = [];
  for (const [eventType, versions] of Object.entries(recorded)) {
    for (const [version, schema] of Object.entries(versions)) {
      const now = current[eventType]?.[version];
      if (now === undefined) found.push({ type: 'dropped', eventType, version });
      else if (!isDeepStrictEqual(canonical(schema), now)) found.push({ type: 'changed', eventType, version });
    }
  }
  for (const [eventType, versions] of Object.entries(current)) {
    for (const version of Object.keys(versions)) {
      if (recorded[eventType]?.[version] === undefined) found.push({ type: 'unrecorded', eventType, version });
    }
  }
  return found;
}

export function describeDifference(difference: SnapshotDifference): string {
  const { eventType, version } = difference;
  switch (difference.type) {
    case 'dropped':
      return `${eventType} ${version} was released but is no longer declared: events stored in it could not be read. Keep its schema and its upcaster.`;
    case 'changed':
      return `${eventType} ${version} changed shape after release: events stored in it would be misread. Restore it, and declare the new shape as the next version with an upcaster.`;
    case 'unrecorded':
      return `${eventType} ${version} is not recorded in src/event-schemas.json yet: run npm run event-schemas.`;
  }
}

/** Key order and the order of `required` carry no meaning: reordering an object's fields is not a change of shape. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, v]) => [key, key === 'required' && Array.isArray(v) ? [...(v as string[])].sort() : canonical(v)]),
  );
}
