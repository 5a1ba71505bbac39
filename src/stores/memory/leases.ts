import type { Lease, Leases } from '../../kernel/leases.js';

/** One simulated process's leases; `crash` is that process dying. */
export type MemoryLeases = Leases &
  Readonly<{
    /** Every lease this instance holds is lost and freed at once, as when a process dies and its sessions end. */
    crash: () => void;
  }>;

/**
 * The lease table several in-process instances share, standing in for the
 * advisory locks of a PostgreSQL server that several processes talk to.
 */
export type MemoryLeaseTable = Readonly<{
  /** The leases of one more simulated process. */
  instance: () => MemoryLeases;
  /**
   * Ends the current hold on `name` from outside, as PostgreSQL does when the
   * holder's session is terminated: its `lost` signal aborts and the name is
   * free for the next bid. False when nobody held it.
   */
  breakLease: (name: string) => boolean;
}>;

type Hold = Readonly<{ instance: number; lost: AbortController }>;

/**
 * At most one holder per name across every instance of the table. A hold
 * lives in the table only while it is held, so the table never outgrows
 * the names held at the moment.
 */
export function createMemoryLeaseTable(): MemoryLeaseTable {
  const holds = new Map<string, Hold>();
  let instances = 0;

  /** Frees the name only if `hold` is still its holder: a lost lease released late must not free its successor's. */
  const end = (name: string, hold: Hold) => {
    if (holds.get(name) === hold) holds.delete(name);
    hold.lost.abort();
  };

  const acquire = (instance: number, name: string): Lease | null => {
    if (holds.has(name)) return null;
    const hold: Hold = { instance, lost: new AbortController() };
    holds.set(name, hold);
    return { lost: hold.lost.signal, release: async () => end(name, hold) };
  };

  return {
    instance: () => {
      const instance = (instances += 1);
      return {
        tryAcquire: async (name) => acquire(instance, name),
        crash: () => {
          for (const [name, hold] of [...holds]) if (hold.instance === instance) end(name, hold);
        },
      };
    },
    breakLease: (name) => {
      const hold = holds.get(name);
      if (!hold) return false;
      end(name, hold);
      return true;
    },
  };
}
