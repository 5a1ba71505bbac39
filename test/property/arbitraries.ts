import fc from 'fast-check';

/**
 * Inputs for the users feature: plausible values from small pools (so
 * collisions, no-op updates and email case variants actually happen),
 * values at the edges of every rule, and arbitrary text.
 */

const USERNAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-';

/** Characters that break naive handling: controls, invisible and bidi marks, look-alikes, a lone surrogate, emoji. */
const TRICKY = ['\u0000', '\n', '\t', '\r', '\u007f', '\u200b', '\u202e', '\ufeff', '\u00a0', ' ', 'é', 'Ｋ', '\u212a', 'ß', 'İ', '\ud800', '😀', '@', '.', '"', '\\', '%', '<'];

/** Whitespace the rules trim (JavaScript's `trim`, which includes Unicode spaces). */
const padding = fc.constantFrom('', ' ', '  ', '\t', '\n', '\u00a0', '\ufeff', '\u2003');

export const arbitraryText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.oneof(fc.constantFrom(...USERNAME_CHARS), fc.constantFrom(...TRICKY)), maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000'),
);

const padded = (value: fc.Arbitrary<string>) => fc.tuple(padding, value, padding).map(([a, v, b]) => `${a}${v}${b}`);

/** Exactly `length` characters of the allowed alphabet: 2 and 33 must be refused, 3 and 32 accepted. */
export const usernameOfLength = (length: number) =>
  fc.string({ unit: fc.constantFrom(...USERNAME_CHARS), minLength: length, maxLength: length });

export const username = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('alice', 'Alice', 'bob_1', 'a.b-c', 'zed') },
  { weight: 2, arbitrary: fc.constantFrom(2, 3, 32, 33).chain(usernameOfLength) },
  { weight: 1, arbitrary: padded(fc.constantFrom('carol', 'dave')) },
  { weight: 2, arbitrary: arbitraryText },
);

/**
 * A syntactically valid address of exactly `length` characters (length ≥ 70):
 * labels of 63 characters, the local part takes the rest. `tag` keeps it
 * distinct between runs against one server.
 */
export function emailOfLength(length: number, tag = ''): string {
  const labels = Math.floor((length - 5 - tag.length) / 64);
  const local = `${tag}${'a'.repeat(length - 4 - 64 * labels - tag.length)}`;
  return `${local}@${`${'b'.repeat(63)}.`.repeat(labels)}com`;
}

/** Pool emails are `p<n>@<domain>` with some letters upper-cased: the same address to the uniqueness rule. */
export const email = (domain: string, tag = '') =>
  fc.oneof(
    {
      weight: 10,
      arbitrary: fc
        .tuple(fc.integer({ min: 1, max: 3 }), fc.boolean())
        .map(([n, shout]) => (shout ? `P${n}@${domain.toUpperCase()}` : `p${n}@${domain}`)),
    },
    { weight: 1, arbitrary: padded(fc.constant(`pad@${domain}`)) },
    { weight: 1, arbitrary: fc.constantFrom(253, 254, 255).map((length) => emailOfLength(length, tag)) },
    { weight: 1, arbitrary: fc.constantFrom('x@y', '@example.com', 'a@b.c', 'ü@bücher.de', 'a b@example.com', 'a@@example.com', 'ok@例え.jp') },
    { weight: 2, arbitrary: arbitraryText },
    { weight: 1, arbitrary: arbitraryText.map((text) => `${text}@${domain}`) },
  );

export const userId = (pool: readonly string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...pool) },
    { weight: 1, arbitrary: fc.constantFrom('x'.repeat(64), 'x'.repeat(65), '', ' ', 'a/b', 'ä') },
    { weight: 1, arbitrary: arbitraryText },
  );

export const idempotencyKey = (pool: readonly string[]) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.constantFrom(...pool) },
    { weight: 1, arbitrary: fc.constantFrom('k'.repeat(255), 'k'.repeat(256), 'has space', '') },
    { weight: 1, arbitrary: arbitraryText },
  );

export const expectedVersion = fc.option(fc.integer({ min: -1, max: 4 }), { nil: undefined, freq: 2 });
