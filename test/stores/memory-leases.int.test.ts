import { describe, expect, it } from 'vitest';
import { createMemoryLeaseTable } from '../../src/stores/memory/leases.js';
import { describeLeasesContract } from './leases.contract.js';

describeLeasesContract('in-memory', {
  type: 'shared',
  create: async () => {
    const table = createMemoryLeaseTable();
    return {
      instance: table.instance,
      loseLease: async (name) => {
        if (!table.breakLease(name)) throw new Error(`nobody held ${name}`);
      },
      cleanup: async () => {},
    };
  },
});

describe('in-memory leases specifics', () => {
  it('loses and frees every lease of an instance that crashes, and only those', async () => {
    const table = createMemoryLeaseTable();
    const crashing = table.instance();
    const survivor = table.instance();
    const [a, b] = [await crashing.tryAcquire('a'), await crashing.tryAcquire('b')];
    const c = await survivor.tryAcquire('c');
    crashing.crash();
    expect([a!.lost.aborted, b!.lost.aborted, c!.lost.aborted]).toEqual([true, true, false]);
    const other = table.instance();
    expect(await other.tryAcquire('a')).not.toBeNull();
    expect(await other.tryAcquire('b')).not.toBeNull();
    expect(await other.tryAcquire('c')).toBeNull();
  });

  it('says when there was no hold to break', () => {
    expect(createMemoryLeaseTable().breakLease('nobody')).toBe(false);
  });
});
