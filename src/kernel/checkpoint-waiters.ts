import { earliestOf, LOG_START, type Position } from './position.js';

/**
 * Read-your-writes bookkeeping for a projector: the checkpoint each of its
 * projections last reported, and the callers waiting until every one of them
 * has passed a position.
 */
export type CheckpointWaiters = Readonly<{
  checkpointOf: (name: string) => Position;
  /** Records a checkpoint; waiters learn of it at the next `settle`. */
  record: (name: string, position: Position) => void;
  /** Answers every waiter whose position is reached (true) or blocked (false). */
  settle: () => void;
  /**
   * Resolves true once every projection has passed `position`, false after
   * `timeoutMs`, and false at once when a halted projection stands before it.
   */
  waitFor: (position: Position, timeoutMs: number) => Promise<boolean>;
  /**
   * Leaves a projection out of the positions waited for, or takes it back:
   * a new projection being built beside serves nothing yet, and must not
   * hold every read-your-writes wait until its build switches in.
   */
  ignore: (name: string, ignored: boolean) => void;
  /** Answers false to everyone still waiting: the projector stopped. */
  releaseAll: () => void;
}>;

type Waiter = { position: Position; resolve: (reached: boolean) => void };

/**
 * @param names the projections a position must pass
 * @param blockedAt whether a halted projection stands at or before `position`:
 *   it will not pass its poisoned event on its own, so waiting for it is pointless
 */
export function createCheckpointWaiters(names: readonly string[], blockedAt: (position: Position) => boolean): CheckpointWaiters {
  const checkpoints = new Map<string, Position>();
  const waiters = new Set<Waiter>();
  const ignored = new Set<string>();
  const lowestCheckpoint = () => {
    const counted = names.filter((name) => !ignored.has(name));
    // With every projection left out, every position counts as passed.
    return counted.length === 0 ? ('\uffff' as Position) : earliestOf(counted.map((name) => checkpoints.get(name) ?? LOG_START));
  };

  return {
    checkpointOf: (name) => checkpoints.get(name) ?? LOG_START,
    record: (name, position) => {
      checkpoints.set(name, position);
    },
    settle: () => {
      const reached = lowestCheckpoint();
      for (const waiter of waiters) {
        if (waiter.position <= reached) waiter.resolve(true);
        else if (blockedAt(waiter.position)) waiter.resolve(false);
      }
    },
    waitFor: (position, timeoutMs) => {
      if (lowestCheckpoint() >= position) return Promise.resolve(true);
      if (blockedAt(position)) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const waiter = {
          position,
          resolve: (reached: boolean) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(reached);
          },
        };
        const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
        waiters.add(waiter);
      });
    },
    ignore: (name, ignore) => {
      if (ignore) ignored.add(name);
      else ignored.delete(name);
    },
    releaseAll: () => {
      for (const waiter of waiters) waiter.resolve(false);
      waiters.clear();
    },
  };
}
