import { createMemoryEventStore } from '../../src/stores/memory/event-store.js';
import { createMemoryProjectionSink } from '../../src/stores/memory/projection-sink.js';
import { createMemoryUserSearchReadModel, userSearchMemoryProjection } from '../../src/users/read-model/search/memory.js';
import { describeUserSearchContract } from './user-search.contract.js';

describeUserSearchContract('in-memory', async () => {
  const store = createMemoryEventStore();
  const { sink, rows } = createMemoryProjectionSink(userSearchMemoryProjection);
  return { store, sink, readModel: createMemoryUserSearchReadModel(rows), cleanup: () => store.close() };
});
