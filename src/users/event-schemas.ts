import { z } from 'zod';
import { eventSchema, upcaster, type EventVersions } from '../kernel/upcasting.js';

/**
 * The stored shape of every user event at every version it was ever written
 * in. A released version never changes (its JSON Schema is recorded in
 * src/event-schemas.json): a new shape is a new version with an upcaster
 * from the one before. README: "Changing an event".
 */

const userCreatedV1 = eventSchema(
  'UserCreated',
  1,
  z.object({ userId: z.string(), username: z.string(), email: z.string() }),
);
/** v2: who created the user; null when no one signed in, and for every v1 event. */
const userCreatedV2 = eventSchema(
  'UserCreated',
  2,
  z.object({ userId: z.string(), username: z.string(), email: z.string(), createdBy: z.string().nullable() }),
);
/** Carries only what changed; an absent field kept its value. */
const userUpdatedV1 = eventSchema(
  'UserUpdated',
  1,
  z.object({ userId: z.string(), username: z.string().optional(), email: z.string().optional() }),
);

export type UserCreatedData = z.output<typeof userCreatedV2.schema>;
export type UserUpdatedData = z.output<typeof userUpdatedV1.schema>;

export const userEventVersions: EventVersions = {
  schemas: [userCreatedV1, userCreatedV2, userUpdatedV1],
  upcasters: [
    // Who created a user before v2 was never recorded: unknown, not anyone in particular.
    upcaster(userCreatedV1, userCreatedV2, (data) => ({ ...data, createdBy: null })),
  ],
};
