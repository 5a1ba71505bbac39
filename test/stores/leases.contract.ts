/**
 * Conformance suite for `Leases` adapters (src/kernel/leases.ts). A lease
 * table shared by several processes (PostgreSQL, or its in-memory stand-in)
 * runs all of it; a single-process adapter, which always grants, runs the
 * part that speaks of one instance, since exclusivity between instances
 * is not its job.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Lease, Leases } from '../../src/kernel/leases.js';
import { waitUntil } from '../support/wait.js';

export type SharedLeasesFixture = Readonly<{
  /** The leases one more process sees, sharing the table with every other instance of the fixture. */
  instance: () => Leases;
  /** Takes the hold on `name` away from its holder from outside, as a dying session does. */
  loseLease: (name: string) => Promise<void>;
  cleanup: () => Promise<void>;
}>;

export type LeasesAdapter =
  | Readonly<{ type: 'single-process'; create: () => Promise<Readonly<{ leases: Leases; cleanup: () => Promise<void> }>> }>
  | Readonly<{ type: 'shared'; create: () => Promise<SharedLeasesFixture> }>;

export function describeLeasesContract(adapterName: string, adapter: LeasesAdapter): void {
  describe(`Leases contract: ${adapterName}`, () => {
    let instance: () => Leases;
    let loseLease: (name: string) => Promise<void>;
    let cleanup: () => Promise<void>;
    const granted: Lease[] = [];

    beforeEach(async () => {
      if (adapter.type === 'shared') {
        ({ instance, loseLease, cleanup } = await adapter.create());
      } else {
        const fixture = await adapter.create();
        instance = () => fixture.leases;
        loseLease = async () => {
          throw new Error('a single-process adapter has nobody to lose a lease to');
        };
        cleanup = fixture.cleanup;
      }
    });
    afterEach(async () => {
      // A test may have released (or lost) some already; releasing again must not fail the cleanup.
      for (const lease of granted.splice(0)) await lease.release().catch(() => {});
      await cleanup();
    });

    /** A bid, remembered so that the lease is released after the test whatever happens. */
    const bid = async (leases: Leases, name: string) => {
      const lease = await leases.tryAcquire(name);
      if (lease) granted.push(lease);
      return lease;
    };

    describe('one instance', () => {
      it('grants a free name a lease that is not lost', async () => {
        const lease = await bid(instance(), 'projection-a');
        expect(lease).not.toBeNull();
        expect(lease!.lost.aborted).toBe(false);
      });

      it('grants a name again once its lease is released', async () => {
        const leases = instance();
        const first = await bid(leases, 'projection-a');
        await first!.release();
        const second = await bid(leases, 'projection-a');
        expect(second).not.toBeNull();
        expect(second!.lost.aborted).toBe(false);
      });

      it('holds leases on different names at the same time', async () => {
        const leases = instance();
        const leasesHeld = await Promise.all(['projection-a', 'projection-b', 'projection-c'].map((name) => bid(leases, name)));
        expect(leasesHeld.every((lease) => lease !== null && !lease.lost.aborted)).toBe(true);
      });
    });

    if (adapter.type !== 'shared') return;

    describe('instances sharing the table', () => {
      it('refuses a held name to every other bid, from any instance, without waiting', async () => {
        const holder = instance();
        expect(await bid(holder, 'projection-a')).not.toBeNull();
        expect(await bid(instance(), 'projection-a')).toBeNull();
        // Another bid of the holder's own process is another would-be runner: refused too.
        expect(await bid(holder, 'projection-a')).toBeNull();
      });

      it('grants exactly one of many bids made at once', async () => {
        const bids = await Promise.all(Array.from({ length: 8 }, () => bid(instance(), 'projection-a')));
        expect(bids.filter((lease) => lease !== null)).toHaveLength(1);
      });

      it('lets another instance take the name once the holder releases it', async () => {
        const first = await bid(instance(), 'projection-a');
        const other = instance();
        expect(await bid(other, 'projection-a')).toBeNull();
        await first!.release();
        const taken = await bid(other, 'projection-a');
        expect(taken).not.toBeNull();
        expect(taken!.lost.aborted).toBe(false);
      });

      it('keeps names apart across instances', async () => {
        expect(await bid(instance(), 'projection-a')).not.toBeNull();
        expect(await bid(instance(), 'projection-b')).not.toBeNull();
      });

      it('aborts a lost lease\'s signal and frees the name; releasing it late leaves the new holder alone', async () => {
        const lost = (await bid(instance(), 'projection-a'))!;
        const bystander = (await bid(instance(), 'projection-b'))!;
        await loseLease('projection-a');
        await waitUntil(() => lost.lost.aborted, 'the holder to learn its lease is lost');
        const successor = instance();
        let next: Lease | null = null;
        await waitUntil(async () => (next = await bid(successor, 'projection-a')) !== null, 'another instance to take the lost name');
        await lost.release();
        expect(await bid(instance(), 'projection-a')).toBeNull();
        expect(next!.lost.aborted).toBe(false);
        expect(bystander.lost.aborted).toBe(false);
      });
    });
  });
}
