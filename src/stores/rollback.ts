import type { AppendConflict } from '../kernel/event-store.js';

/**
 * Thrown inside an append's transaction to roll it back; the store catches
 * it and answers with its conflict, so it never escapes a store.
 */
export class Rollback {
  constructor(readonly conflict: AppendConflict) {}
}
