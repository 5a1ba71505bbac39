import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLruMap } from '../../src/kernel/lru-map.js';

/** The reference: an array of [key, value], least recently used first. */
function referenceLru(capacity: number) {
  let entries: [number, string][] = [];
  const touch = (key: number) => {
    const at = entries.findIndex(([k]) => k === key);
    if (at < 0) return undefined;
    const [entry] = entries.splice(at, 1);
    entries.push(entry!);
    return entry![1];
  };
  return {
    get: touch,
    set: (key: number, value: string) => {
      if (capacity <= 0) return;
      entries = entries.filter(([k]) => k !== key);
      entries.push([key, value]);
      if (entries.length > capacity) entries.shift();
    },
    delete: (key: number) => void (entries = entries.filter(([k]) => k !== key)),
    size: () => entries.length,
  };
}

const operation = fc.oneof(
  fc.record({ op: fc.constant('get' as const), key: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 12 }), value: fc.string({ maxLength: 3 }) }),
  fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 12 }) }),
);

describe('LRU map', () => {
  it('answers every get, and drops entries, exactly as a plain list in recency order does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(operation, { maxLength: 200 }), (capacity, operations) => {
        const lru = createLruMap<number, string>(capacity);
        const model = referenceLru(capacity);
        for (const step of operations) {
          if (step.op === 'get') expect(lru.get(step.key)).toBe(model.get(step.key));
          else if (step.op === 'set') {
            lru.set(step.key, step.value);
            model.set(step.key, step.value);
          } else {
            lru.delete(step.key);
            model.delete(step.key);
          }
          expect(lru.size()).toBe(model.size());
        }
        // Every key's presence at the end, read without changing the order first.
        for (let key = 0; key <= 12; key++) expect(lru.get(key)).toBe(model.get(key));
      }),
      { numRuns: 500 },
    );
  });

  it('drops the least recently used, where a get counts as a use', () => {
    const lru = createLruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.get('a');
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
  });
});
