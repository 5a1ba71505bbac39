/**
 * How often each request key was asked lately, approximately and in fixed
 * memory: a count-min sketch of four rows of 4-bit counters (kept in bytes),
 * as TinyLFU uses for admission (Einziger, Friedman and Manes, "TinyLFU: A
 * Highly Efficient Cache Admission Policy", 2017). A key's estimate is the
 * smallest of its four counters, so collisions only ever overestimate.
 * After ten increments per counter of a row, every counter is halved: old
 * popularity fades, and a key hot an hour ago does not keep its place.
 */
export type FrequencySketch = Readonly<{
  increment: (hash: number) => void;
  estimate: (hash: number) => number;
  /** Bytes the counters take. */
  bytes: number;
}>;

const ROWS = 4;
const MAX_COUNT = 15;
/** Narrower rows make a small cache's few keys collide: estimates rise and the rule admits by accident. */
const MIN_WIDTH = 256;

/** FNV-1a over the key's UTF-16 code units: cheap, and spread well enough for counters. */
export function hashOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** `width` counters per row, rounded up to a power of two. */
export function createFrequencySketch(width: number): FrequencySketch {
  const size = 2 ** Math.ceil(Math.log2(Math.max(MIN_WIDTH, width)));
  const mask = size - 1;
  const counters = new Uint8Array(size * ROWS);
  const resetAfter = size * 10;
  let increments = 0;

  // Row i's slot from two halves of one hash (Kirsch and Mitzenmacher's double hashing).
  const slot = (hash: number, row: number) => row * size + ((hash + Math.imul(row, (hash >>> 16) | 1)) & mask);

  return {
    increment: (hash) => {
      for (let row = 0; row < ROWS; row++) {
        const at = slot(hash, row);
        if (counters[at]! < MAX_COUNT) counters[at]! += 1;
      }
      if (++increments >= resetAfter) {
        for (let i = 0; i < counters.length; i++) counters[i]! >>= 1;
        increments = Math.floor(increments / 2);
      }
    },
    estimate: (hash) => {
      let least = MAX_COUNT;
      for (let row = 0; row < ROWS; row++) least = Math.min(least, counters[slot(hash, row)]!);
      return least;
    },
    bytes: counters.byteLength,
  };
}
