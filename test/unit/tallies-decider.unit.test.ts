import { describe, expect, it } from 'vitest';
import { addToTally, openTally, tallyDecider } from '../support/tallies/decide.js';
import type { TallyIncremented, TallyOpened } from '../support/tallies/tally.js';
import { givenWhenThen } from './given-when-then.js';

const given = givenWhenThen(tallyDecider);

const opened = (tallyId = 't1'): TallyOpened => ({ type: 'TallyOpened', data: { tallyId } });
const incremented = (amount: number, tallyId = 't1'): TallyIncremented => ({ type: 'TallyIncremented', data: { tallyId, amount } });

describe('tally decider (the test-only second module)', () => {
  describe('OpenTally', () => {
    it('opens a tally on an empty stream', () => {
      given([]).when(openTally('t1')).then([opened()]);
    });

    it('rejects opening a tally that is already open, naming it', () => {
      const rejection = given([opened(), incremented(3)]).when(openTally('t1')).thenRejects('TallyAlreadyOpen');
      expect(rejection).toMatchObject({ tallyId: 't1' });
    });
  });

  describe('AddToTally', () => {
    it('adds to an open tally', () => {
      given([opened()]).when(addToTally('t1', 5)).then([incremented(5)]);
    });

    it('keeps adding after earlier amounts, and the state holds their sum', () => {
      const history = given([opened(), incremented(2), incremented(3)]);
      expect(history.state).toEqual({ status: 'open', tallyId: 't1', total: 5 });
      history.when(addToTally('t1', 4)).then([incremented(4)]);
    });

    it('rejects adding to a tally that was never opened, naming it', () => {
      const rejection = given([]).when(addToTally('ghost', 1)).thenRejects('TallyNotFound');
      expect(rejection).toMatchObject({ tallyId: 'ghost' });
    });
  });
});
