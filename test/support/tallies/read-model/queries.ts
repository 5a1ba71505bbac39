import type { EventLog } from '../../../../src/kernel/event-store.js';
import type { QueryBus, TypedQuery } from '../../../../src/kernel/query-bus.js';
import { streamIdOf } from '../../../../src/kernel/stream-id.js';
import { TALLY_STREAMS } from '../tally.js';
import { tallyViewFromStream, type TalliesReadModel, type TallyView } from './read-model.js';

export type GetTally = TypedQuery<'GetTally', { tallyId: string }, TallyView | null>;

export const getTally = (tallyId: string): GetTally => ({ type: 'GetTally', data: { tallyId } });

export type TallyQueriesWiring = Readonly<{
  queryBus: QueryBus;
  readModel: TalliesReadModel;
  eventLog: Pick<EventLog, 'readStream'>;
}>;

export function registerTallyQueries({ queryBus, readModel, eventLog }: TallyQueriesWiring): void {
  // Executed with `atLeast` after a write: when the projections did not get there in time, the stream answers.
  queryBus.register<GetTally>('GetTally', async ({ data: { tallyId } }, { reached }) => {
    if (reached !== false) return readModel.byId(tallyId);
    const { events } = await eventLog.readStream(streamIdOf(TALLY_STREAMS, tallyId));
    return tallyViewFromStream(events);
  });
}
