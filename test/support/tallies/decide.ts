import type { TypedCommand } from '../../../src/kernel/command-bus.js';
import type { Decider } from '../../../src/kernel/decider.js';
import { assertNever } from '../../../src/kernel/messages.js';
import { fail, ok, type Result } from '../../../src/kernel/result.js';
import { evolve, initialState, type Tally, type TallyEvent } from './tally.js';

export type TallyNotFound = Readonly<{ type: 'TallyNotFound'; message: string; tallyId: string }>;
export type TallyAlreadyOpen = Readonly<{ type: 'TallyAlreadyOpen'; message: string; tallyId: string }>;
export type TallyRejection = TallyNotFound | TallyAlreadyOpen;

// One handler decides both, so both declare every rejection the decider may give.
export type OpenTally = TypedCommand<'OpenTally', { tallyId: string }, TallyRejection>;
export type AddToTally = TypedCommand<'AddToTally', { tallyId: string; amount: number }, TallyRejection>;
export type TallyCommand = OpenTally | AddToTally;

export const openTally = (tallyId: string): OpenTally => ({ type: 'OpenTally', data: { tallyId } });
export const addToTally = (tallyId: string, amount: number): AddToTally => ({ type: 'AddToTally', data: { tallyId, amount } });

export const tallyNotFound = (tallyId: string): TallyNotFound => ({ type: 'TallyNotFound', message: `No tally has id "${tallyId}"`, tallyId });
export const tallyAlreadyOpen = (tallyId: string): TallyAlreadyOpen => ({
  type: 'TallyAlreadyOpen',
  message: `The tally "${tallyId}" is already open`,
  tallyId,
});

/** Amounts are checked by the command schema (command-handlers.ts); here only what depends on the tally's state. */
export function decide(command: TallyCommand, state: Tally): Result<readonly TallyEvent[], TallyRejection> {
  switch (command.type) {
    case 'OpenTally':
      if (state.status === 'open') return fail(tallyAlreadyOpen(command.data.tallyId));
      return ok([{ type: 'TallyOpened', data: { tallyId: command.data.tallyId } }]);
    case 'AddToTally':
      if (state.status !== 'open') return fail(tallyNotFound(command.data.tallyId));
      return ok([{ type: 'TallyIncremented', data: { tallyId: command.data.tallyId, amount: command.data.amount } }]);
    default:
      return assertNever(command, 'tally command');
  }
}

export const tallyDecider: Decider<TallyCommand, TallyEvent, Tally, TallyRejection> = { decide, evolve, initialState };
