import { assertNever, type Event } from '../../../src/kernel/messages.js';
import { requireEntityIdOf, streamCategory } from '../../../src/kernel/stream-id.js';

/** One stream per tally: `tally-<tally id>`. A tally may share its id with a user; their streams never meet. */
export const TALLY_STREAMS = streamCategory('tally');

/** The id of the tally whose stream an event is in; an event of any other stream is a bug (a projection was handed it). */
export const tallyIdOf = (event: Readonly<{ streamId: string }>): string => requireEntityIdOf(TALLY_STREAMS, event.streamId);

export type TallyOpened = Event<'TallyOpened', { tallyId: string }>;
export type TallyIncremented = Event<'TallyIncremented', { tallyId: string; amount: number }>;

export type TallyEvent = TallyOpened | TallyIncremented;

export const tallyEventTypes: readonly TallyEvent['type'][] = ['TallyOpened', 'TallyIncremented'];

export type Tally = Readonly<{ status: 'absent' }> | Readonly<{ status: 'open'; tallyId: string; total: number }>;

export const initialState = (): Tally => ({ status: 'absent' });

export function evolve(state: Tally, event: TallyEvent): Tally {
  switch (event.type) {
    case 'TallyOpened':
      return { status: 'open', tallyId: event.data.tallyId, total: 0 };
    case 'TallyIncremented':
      return state.status === 'open' ? { ...state, total: state.total + event.data.amount } : state;
    default:
      return assertNever(event, 'tally event');
  }
}
