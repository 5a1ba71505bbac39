import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFrequencySketch, hashOf } from '../../src/server/response-cache/frequency-sketch.js';

describe('frequency sketch', () => {
  it('never estimates below the true count (up to its cap), against a plain count per key', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 2_000 }), (asks) => {
        // 2,000 asks stay below the first halving (ten per counter of a 256-wide row).
        const sketch = createFrequencySketch(256);
        const counted = new Map<number, number>();
        for (const ask of asks) {
          sketch.increment(hashOf(`key${ask}`));
          counted.set(ask, (counted.get(ask) ?? 0) + 1);
        }
        for (const [ask, count] of counted) expect(sketch.estimate(hashOf(`key${ask}`))).toBeGreaterThanOrEqual(Math.min(15, count));
      }),
    );
  });

  it('is exact for a few keys in wide rows', () => {
    const sketch = createFrequencySketch(4_096);
    for (let i = 0; i < 7; i++) sketch.increment(hashOf('seven'));
    sketch.increment(hashOf('one'));
    expect(sketch.estimate(hashOf('seven'))).toBe(7);
    expect(sketch.estimate(hashOf('one'))).toBe(1);
    expect(sketch.estimate(hashOf('never'))).toBe(0);
  });

  it('halves every count after ten increments per counter, so old popularity fades', () => {
    const sketch = createFrequencySketch(256);
    for (let i = 0; i < 12; i++) sketch.increment(hashOf('old favourite'));
    for (let i = 0; i < 256 * 10 - 12; i++) sketch.increment(hashOf('the new favourite'));
    expect(sketch.estimate(hashOf('old favourite'))).toBe(6);
    expect(sketch.estimate(hashOf('the new favourite'))).toBe(7);
  });
});
