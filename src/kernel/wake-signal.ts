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
  /**
   * `wait` for callers that wait after every append: calls `wake` once, on
   * the same terms, with no promise or abort signal of its own. Returns a
   * function that withdraws the wait without calling `wake`.
   */
  onChange: (seen: number, timeoutMs: number, wake: () => void) => () => void;
  /** Waits registered now: one per caught-up live feed, say. */
  waiting: () => number;
}>;

type Waiter = { wake: () => void; due: number };

/**
 * A thousand live feeds all wait again after every append, so a wait is kept
 * cheap: waiters share one timer, armed for the earliest deadline, instead of
 * each arming and clearing its own.
 */
export function createWakeSignal(): WakeSignal {
  let version = 0;
  let waiters = new Set<Waiter>();
  let timer: NodeJS.Timeout | undefined;
  let timerDue = Infinity;

  const disarm = () => {
    clearTimeout(timer);
    timer = undefined;
    timerDue = Infinity;
  };
  const arm = (due: number) => {
    if (due >= timerDue) return;
    clearTimeout(timer);
    timerDue = due;
    timer = setTimeout(expire, Math.max(0, due - Date.now()));
  };
  const expire = () => {
    disarm();
    const now = Date.now();
    let earliest = Infinity;
    for (const waiter of waiters) {
      if (waiter.due <= now) {
        waiters.delete(waiter);
        waiter.wake();
      } else if (waiter.due < earliest) {
        earliest = waiter.due;
      }
    }
    if (earliest < Infinity) arm(earliest);
  };

  const onChange = (seen: number, timeoutMs: number, wake: () => void) => {
    if (version !== seen) {
      wake();
      return () => {};
    }
    const waiter: Waiter = { wake, due: Date.now() + timeoutMs };
    waiters.add(waiter);
    arm(waiter.due);
    // `waiters` is replaced at each notify; a withdrawal after that finds nothing to remove.
    const registeredIn = waiters;
    return () => void registeredIn.delete(waiter);
  };

  return {
    version: () => version,
    notify: () => {
      version += 1;
      const woken = waiters;
      waiters = new Set();
      disarm();
      for (const waiter of woken) waiter.wake();
    },
    onChange,
    wait: (seen, timeoutMs, abort) => {
      if (version !== seen || abort?.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        if (!abort) return void onChange(seen, timeoutMs, resolve);
        const onAbort = () => {
          withdraw();
          resolve();
        };
        const withdraw = onChange(seen, timeoutMs, () => {
          abort.removeEventListener('abort', onAbort);
          resolve();
        });
        abort.addEventListener('abort', onAbort, { once: true });
      });
    },
    waiting: () => waiters.size,
  };
}
