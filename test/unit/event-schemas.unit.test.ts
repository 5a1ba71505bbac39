/**
 * Events are written once and read forever: the checked-in JSON Schema of
 * every event type at every version (src/event-schemas.json) must match what
 * the modules declare. A stored shape that changes without a version bump
 * fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeDifference, differences, snapshotOf, type EventSchemaSnapshot } from '../../src/kernel/event-schema-snapshot.js';
import { createUpcasting, eventSchema, upcaster } from '../../src/kernel/upcasting.js';
import { modules } from '../../src/modules.js';
import { upcastingOf } from '../../src/storage.js';
import { userEventVersions } from '../../src/users/event-schemas.js';

const recorded = JSON.parse(readFileSync(new URL('../../src/event-schemas.json', import.meta.url), 'utf8')) as EventSchemaSnapshot;

describe('the event schema snapshot', () => {
  it('records every version of every event type the server declares, each exactly as declared', () => {
    const found = differences(recorded, snapshotOf(upcastingOf(modules)));
    expect(found.map(describeDifference)).toEqual([]);
    expect(Object.keys(recorded['UserCreated']!)).toEqual(['v1', 'v2', 'v3']);
  });

  const { schemas } = userEventVersions;
  const userCreatedV2 = schemas.find((s) => s.type === 'UserCreated' && s.version === 2)!;
  const userCreatedV3 = schemas.find((s) => s.type === 'UserCreated' && s.version === 3)!;
  const withUserCreatedV2 = (schema: z.ZodType) =>
    snapshotOf(createUpcasting([{ schemas: schemas.map((s) => (s === userCreatedV2 ? eventSchema('UserCreated', 2, schema) : s)), upcasters: userEventVersions.upcasters }]));

  it('fails when a released shape changes without a version bump', () => {
    const renamed = z.object({ userId: z.string(), username: z.string(), email: z.string(), creator: z.string().nullable() });
    expect(differences(recorded, withUserCreatedV2(renamed))).toEqual([{ type: 'changed', eventType: 'UserCreated', version: 'v2' }]);
    const loosened = z.object({ userId: z.string(), username: z.string(), email: z.string(), createdBy: z.string().nullable().optional() });
    expect(differences(recorded, withUserCreatedV2(loosened))).toEqual([{ type: 'changed', eventType: 'UserCreated', version: 'v2' }]);
  });

  it('does not count reordering an object’s fields as a change of shape', () => {
    const reordered = z.object({ createdBy: z.string().nullable(), email: z.string(), username: z.string(), userId: z.string() });
    expect(differences(recorded, withUserCreatedV2(reordered))).toEqual([]);
  });

  it('fails when a released version is no longer declared (its stored events could not be read)', () => {
    const others = schemas.filter((s) => s.type !== 'UserCreated');
    const upcasters = userEventVersions.upcasters.filter((u) => u.type !== 'UserCreated');
    const dropped = snapshotOf(createUpcasting([{ schemas: [eventSchema('UserCreated', 1, userCreatedV3.schema), ...others], upcasters }]));
    expect(differences(recorded, dropped)).toEqual([
      { type: 'changed', eventType: 'UserCreated', version: 'v1' },
      { type: 'dropped', eventType: 'UserCreated', version: 'v2' },
      { type: 'dropped', eventType: 'UserCreated', version: 'v3' },
    ]);
  });

  it('asks only to record a new version declared the right way, with an upcaster', () => {
    const v4 = eventSchema('UserCreated', 4, z.object({ userId: z.string(), handle: z.string().nullable(), email: z.string().nullable(), createdBy: z.string().nullable() }));
    const bumped = snapshotOf(
      createUpcasting([
        {
          schemas: [...userEventVersions.schemas, v4],
          upcasters: [...userEventVersions.upcasters, upcaster(userCreatedV3, v4, (data) => {
            const { username, ...rest } = data as { userId: string; username: string | null; email: string | null; createdBy: string | null };
            return { ...rest, handle: username };
          })],
        },
      ]),
    );
    const found = differences(recorded, bumped);
    expect(found).toEqual([{ type: 'unrecorded', eventType: 'UserCreated', version: 'v4' }]);
    expect(describeDifference(found[0]!)).toMatch(/npm run event-schemas/);
  });
});
