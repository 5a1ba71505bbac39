/**
 * "Something new may be in the store." Readers note `version` before they
 * read; if the read comes back empty they wait for a newer version, so a
 * notification between the read and the wait is never lost. Carries no data:
 * the store stays the only source of events, and a waiting reader costs one
 * closure however far behind it is.
 */
export type WakeSignal = Readonly<{
  version: () => number;
  notify: () => void;
  /** Resolves when `version()` differs from `seen`, after `timeoutMs`, or on abort. */
  wait: (seen: number, timeoutMs: number, abort?: AbortSignal) => Promise<void>;
}>;

export function createWakeSignal(): WakeSignal {
  let version = 0;
  const waiters = new Set<() => void>();
  return {
    version: () => version,
    notify: () => {
      version += 1;
      for (const wake of [...waiters]) wake();
    },
    wait: (seen, timeoutMs, abort) => {
      if (version !== seen || abort?.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          abort?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        waiters.add(done);
        abort?.addEventListener('abort', done, { once: true });
      });
    },
  };
}
