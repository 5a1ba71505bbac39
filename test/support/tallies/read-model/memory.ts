import type { MemoryProjection } from '../../../../src/stores/memory/projection-sink.js';
import { tallyEventTypes, tallyIdOf } from '../tally.js';
import { evolveTallyView, type TalliesReadModel, type TallyView } from './read-model.js';

/** Tallies by id. Views are replaced, never changed in place. */
export type MemoryTallyRows = Map<string, TallyView>;

export const talliesMemoryProjection: MemoryProjection<MemoryTallyRows> = {
  name: 'tallies',
  eventTypes: tallyEventTypes,
  create: () => new Map(),
  apply: (rows, events) => {
    // Folded apart from the rows: nothing is stored unless the whole batch folds.
    const changed = new Map<string, TallyView>();
    for (const event of events) {
      const tallyId = tallyIdOf(event);
      const after = evolveTallyView(changed.get(tallyId) ?? rows.get(tallyId) ?? null, event);
      if (after !== null) changed.set(tallyId, after);
    }
    return () => {
      for (const [tallyId, view] of changed) rows.set(tallyId, view);
    };
  },
  reset: (rows) => rows.clear(),
};

export function createMemoryTalliesReadModel(rows: MemoryTallyRows, onQuery: () => void = () => {}): TalliesReadModel {
  return {
    byId: async (tallyId) => {
      onQuery();
      return rows.get(tallyId) ?? null;
    },
  };
}
