import { z } from 'zod';
import type { Position } from '../kernel/position.js';
import { deciderFold, type StreamFold } from '../kernel/stream-folds.js';
import { userDecider } from './decide.js';
import type { User } from './user.js';
import { evolveUserView, type UserView } from './user-view.js';

/*
 * The two folds of a user's stream that snapshots cache: the decider's state
 * (commands) and the view (time travel, `state` of an event). A snapshot is
 * read back only by the fold of the same name, so a change to a fold's
 * state or to the evolve behind it must bump the `@` revision: old snapshots
 * are then ignored, never misread. The schemas are strict for the same
 * reason: a stored state of another shape is damage, and is read past.
 */

const userStateSchema = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('absent') }),
  z.strictObject({ status: z.literal('registered'), userId: z.string(), username: z.string(), email: z.string() }),
  z.strictObject({ status: z.literal('erased'), userId: z.string() }),
]);

const userViewSchema = z
  .strictObject({
    id: z.string(),
    username: z.string().nullable(),
    email: z.string().nullable(),
    erased: z.boolean(),
    version: z.int().positive(),
    createdAt: z.string(),
    updatedAt: z.string(),
    createdPosition: z.string(),
  })
  .nullable();

/** The users decider's state, as the command handler reads it. */
export const userStateFold: StreamFold<User> = deciderFold(userDecider, 'user-state@2', (stored) => {
  const parsed = userStateSchema.safeParse(stored);
  return parsed.success ? parsed.data : undefined;
});

/** The user as readers see it, null before the stream's first event: what `user(asOf:)` answers. */
export const userViewFold: StreamFold<UserView | null> = {
  name: 'user-view@2',
  initialState: () => null,
  evolve: evolveUserView,
  decode: (stored) => {
    const parsed = userViewSchema.safeParse(stored);
    if (!parsed.success) return undefined;
    return parsed.data && { ...parsed.data, createdPosition: parsed.data.createdPosition as Position };
  },
};
