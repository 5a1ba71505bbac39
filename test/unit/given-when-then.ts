import { expect } from 'vitest';
import { foldEvents, type Decider } from '../../src/kernel/decider.js';
import type { Command, CommandMetadata, Event } from '../../src/kernel/messages.js';

export const fixedMetadata: CommandMetadata = { commandId: 'command-1', now: new Date('2026-01-01T00:00:00.000Z') };

/**
 * `given(events).when(command).then(expectedEvents)` for any decider: the
 * history is folded with the decider's own `evolve`, the command decided,
 * and the outcome compared exactly.
 */
export function givenWhenThen<C extends Command, E extends Event, S, R extends { type: string }>(decider: Decider<C, E, S, R>) {
  return function given(events: readonly E[]) {
    const state = foldEvents(decider, events);
    return {
      state,
      when(command: C, metadata: CommandMetadata = fixedMetadata) {
        const result = decider.decide(command, state, metadata);
        return {
          result,
          then(expected: readonly E[]): void {
            // Strict: an event carrying `email: undefined` is not "only the username".
            expect(result).toStrictEqual({ ok: true, value: expected });
          },
          thenRejects(type: R['type']): R {
            expect(result.ok, `expected a ${type} rejection, got ${JSON.stringify(result)}`).toBe(false);
            if (result.ok) throw new Error('unreachable');
            expect(result.error.type).toBe(type);
            return result.error;
          },
        };
      },
    };
  };
}
