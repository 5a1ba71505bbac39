import type { Lease, Leases } from './leases.js';

/** Whether this process runs one projection: the lease it holds, bid for again at most every `bidIntervalMs`. */
export type ProjectionLeadership = Readonly<{
  isLeader: () => boolean;
  /**
   * Gives up a lease that was lost and, when due, bids for one. True when
   * this call made the process the leader: the previous leader may have moved
   * the checkpoint since it was last read.
   */
  renew: () => Promise<boolean>;
  /** Gives the lease up, if held; for stopping. */
  release: () => Promise<void>;
}>;

export type ProjectionLeadershipOptions = Readonly<{
  name: string;
  leases: Leases;
  bidIntervalMs: number;
  /** Called on every change, before anything else happens. */
  onChange: (leader: boolean) => void;
  /** A lease that could not be released; it runs out on its own. */
  onError: (error: unknown) => void;
}>;

export function createProjectionLeadership(options: ProjectionLeadershipOptions): ProjectionLeadership {
  const { name, leases, bidIntervalMs, onChange, onError } = options;
  let lease: Lease | null = null;
  let lastBid = -Infinity;
  const setLease = (next: Lease | null) => {
    if ((next === null) === (lease === null)) return;
    lease = next;
    onChange(lease !== null);
  };
  const giveUp = async () => {
    const held = lease;
    setLease(null);
    await held?.release().catch(onError);
  };

  return {
    isLeader: () => lease !== null,
    renew: async () => {
      if (lease?.lost.aborted) await giveUp();
      if (lease || performance.now() - lastBid < bidIntervalMs) return false;
      lastBid = performance.now();
      setLease(await leases.tryAcquire(name));
      return lease !== null;
    },
    release: giveUp,
  };
}
