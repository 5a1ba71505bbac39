/**
 * Runs tasks one at a time per key. Used so that commands on one stream in
 * this process queue up instead of racing each other into optimistic
 * concurrency retries; conflicts then only come from other processes.
 * Memory is bounded by the number of keys with work in flight.
 */
export function createKeyedLock() {
  const tails = new Map<string, Promise<unknown>>();
  return async function withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve();
    const current = previous.then(task, task);
    const tail = current.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
