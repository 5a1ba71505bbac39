import { z } from 'zod';

/**
 * The only place user input is checked. Values are trimmed here, so the
 * decider, the idempotency hash and the store all see the normalised form.
 * Letters are ASCII on purpose: look-alike Unicode letters would let two
 * usernames read the same.
 */
const username = z
  .string()
  .trim()
  .min(3, { error: 'must be at least 3 characters', abort: true })
  .max(32, { error: 'must be at most 32 characters', abort: true })
  .regex(/^[A-Za-z0-9_.-]+$/, { error: 'may contain only letters, digits, "_", "." and "-"' });

const email = z
  .string()
  .trim()
  .max(254, { error: 'must be at most 254 characters', abort: true })
  .pipe(z.email({ error: 'must be a valid email address' }));

const userId = z
  .string()
  .min(1, { error: 'must not be empty', abort: true })
  .max(64, { error: 'must be at most 64 characters', abort: true })
  .regex(/^[A-Za-z0-9_-]+$/, { error: 'may contain only letters, digits, "_" and "-"' });

export const createUserRules = z.strictObject({
  userId: userId.optional(),
  username,
  email,
});

export const updateUserRules = z.strictObject({
  userId,
  username: username.optional(),
  email: email.optional(),
  expectedVersion: z.number().int({ error: 'must be a whole number' }).min(0, { error: 'must not be negative' }).optional(),
});

export const eraseUserRules = z.strictObject({ userId });
