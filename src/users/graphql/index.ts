import { defineUserEventsSubscription } from './events.js';
import { defineUserHistory } from './history.js';
import { defineUserMutations } from './mutations.js';
import { defineUserQueries } from './user-type.js';

/** The users module's root fields; its types come with them. */
export function defineUsersGraphQL(): void {
  defineUserQueries();
  defineUserMutations();
  defineUserHistory(defineUserEventsSubscription());
}
