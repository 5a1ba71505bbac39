import { assertNever, type StoredEvent } from '../../../../src/kernel/messages.js';
import { tallyIdOf, type TallyEvent } from '../tally.js';

/** A tally as readers see it: the row on every store, and the `Tally` GraphQL type. */
export type TallyView = Readonly<{ id: string; total: number; version: number }>;

/** What the tally query needs from a read store; one implementation per store. */
export interface TalliesReadModel {
  byId(tallyId: string): Promise<TallyView | null>;
}

/**
 * Folds one tally event into the view, for every store's projection and for
 * reading a tally from its stream. The id comes from the stream, so an event
 * of another aggregate's stream throws: handed one, a projection halts
 * rather than write a row for it.
 */
export function evolveTallyView(view: TallyView | null, stored: StoredEvent): TallyView | null {
  const id = tallyIdOf(stored);
  const event = stored as StoredEvent<TallyEvent>;
  switch (event.type) {
    case 'TallyOpened':
      return { id, total: 0, version: event.streamVersion };
    case 'TallyIncremented':
      return view === null ? null : { id, total: view.total + event.data.amount, version: event.streamVersion };
    default:
      return assertNever(event, 'tally event');
  }
}

export const tallyViewFromStream = (events: readonly StoredEvent[]): TallyView | null => events.reduce(evolveTallyView, null);
