/**
 * The listeners behind `EventStore.onAppended`. Each one is called in
 * isolation: a listener's failure is its own, because by the time it runs the
 * append has committed and must not be reported (and retried) as failed.
 */
export function createAppendListeners() {
  const listeners = new Set<() => void>();
  return {
    get size() {
      return listeners.size;
    },
    notify: () => {
      for (const listener of listeners) {
        try {
          listener();
        } catch {
          // See above: other listeners still run.
        }
      }
    },
    subscribe: (listener: () => void): (() => void) => {
      // Wrapped, so subscribing the same function twice gives two independent subscriptions.
      const own = () => listener();
      listeners.add(own);
      return () => listeners.delete(own);
    },
    clear: () => listeners.clear(),
  };
}
