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

/*
 * Erasure (README: "Erasure") destroys a user's data key, and from then on
 * the personal fields of their events read as null, whatever version they
 * were stored at. Nothing is written in the new versions that the old ones
 * could not hold: they exist because the newest version is what every
 * reader is typed and checked against, and it must admit the null.
 */
const personal = z.string().nullable();
/** v3: `username` and `email` are null once the user is erased. */
const userCreatedV3 = eventSchema(
  'UserCreated',
  3,
  z.object({ userId: z.string(), username: personal, email: personal, createdBy: z.string().nullable() }),
);
/** v2: a changed field is null once the user is erased; an absent one still did not change. */
const userUpdatedV2 = eventSchema(
  'UserUpdated',
  2,
  z.object({ userId: z.string(), username: personal.optional(), email: personal.optional() }),
);
/** The user's personal data was destroyed: by whom (an admin's id), null with authentication off. */
const userErasedV1 = eventSchema('UserErased', 1, z.object({ userId: z.string(), erasedBy: z.string().nullable() }));

export type UserCreatedData = z.output<typeof userCreatedV3.schema>;
export type UserUpdatedData = z.output<typeof userUpdatedV2.schema>;
export type UserErasedData = z.output<typeof userErasedV1.schema>;

export const userEventVersions: EventVersions = {
  schemas: [userCreatedV1, userCreatedV2, userCreatedV3, userUpdatedV1, userUpdatedV2, userErasedV1],
  upcasters: [
    // Who created a user before v2 was never recorded: unknown, not anyone in particular.
    upcaster(userCreatedV1, userCreatedV2, (data) => ({ ...data, createdBy: null })),
    // The stored shape is the same; only the reader's type widens.
    upcaster(userCreatedV2, userCreatedV3, (data) => data),
    upcaster(userUpdatedV1, userUpdatedV2, (data) => data),
  ],
};
