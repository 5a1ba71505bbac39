/**
 * Leadership for work that must run in exactly one place at a time, such as
 * a projection. A store that serves several processes (PostgreSQL) hands out
 * leases backed by the database; an embedded store has a single process, so
 * its leases are always granted.
 */
export interface Lease {
  /** Aborted when the lease is lost (its connection broke); stop the work at once. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export interface Leases {
  /** The lease on `name`, or null when another process holds it now. Never waits for it. */
  tryAcquire(name: string): Promise<Lease | null>;
}

export const localLeases: Leases = {
  tryAcquire: async () => ({ lost: new AbortController().signal, release: async () => {} }),
};
