import { describe, expect, it } from 'vitest';
import { cutPage, readKeysetPage, type KeysetSource } from '../../src/kernel/keyset-page.js';

/** Rows 1..n in memory, answering as an indexed store would, and counting its existence probes. */
function source(n: number) {
  const keys = Array.from({ length: n }, (_, i) => i + 1);
  const probes: string[] = [];
  const rows: KeysetSource<number, number> = {
    fetch: (direction, count, after = -Infinity, before = Infinity) => {
      const inRange = keys.filter((key) => key > after && key < before);
      return (direction === 'forward' ? inRange : inRange.reverse()).slice(0, count);
    },
    anyAtOrBefore: (key) => (probes.push(`<=${key}`), keys.some((k) => k <= key)),
    anyAtOrAfter: (key) => (probes.push(`>=${key}`), keys.some((k) => k >= key)),
  };
  return { rows, probes };
}

describe('keyset page', () => {
  it('keeps a backward page whole when fewer rows than its limit precede the cursor', async () => {
    expect(await readKeysetPage({ direction: 'backward', limit: 3 }, source(2).rows)).toEqual({ items: [1, 2], hasPreviousPage: false, hasNextPage: false });
    expect(await readKeysetPage({ direction: 'backward', limit: 20 }, source(15).rows)).toMatchObject({ items: source(15).rows.fetch('forward', 15, undefined, undefined) });
    expect(await readKeysetPage({ direction: 'backward', limit: 3, before: 3 }, source(9).rows)).toEqual({ items: [1, 2], hasPreviousPage: false, hasNextPage: true });
  });

  it('takes the rows nearest the cursor and puts them in ascending order', () => {
    expect(cutPage('forward', 2, ['a', 'b', 'c'])).toEqual({ items: ['a', 'b'], more: true });
    expect(cutPage('backward', 2, ['c', 'b', 'a'])).toEqual({ items: ['b', 'c'], more: true });
    expect(cutPage('backward', 2, ['c'])).toEqual({ items: ['c'], more: false });
    expect(cutPage('forward', 2, ['a', 'b'])).toEqual({ items: ['a', 'b'], more: false });
    expect(cutPage('backward', 0, ['c'])).toEqual({ items: [], more: true });
  });

  it('probes beyond a cursor only when the limit did not already answer the flag', async () => {
    const full = source(9);
    expect(await readKeysetPage({ direction: 'backward', limit: 2, after: 3, before: 7 }, full.rows)).toEqual({ items: [5, 6], hasPreviousPage: true, hasNextPage: true });
    expect(full.probes).toEqual(['>=7']);
    const forward = source(9);
    expect(await readKeysetPage({ direction: 'forward', limit: 5, after: 0, before: 4 }, forward.rows)).toEqual({ items: [1, 2, 3], hasPreviousPage: false, hasNextPage: true });
    expect(forward.probes).toEqual(['<=0', '>=4']);
  });
});
