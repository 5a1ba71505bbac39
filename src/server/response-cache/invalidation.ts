import type { EventLog } from '../../kernel/event-store.js';
import type { StoredEvent } from '../../kernel/messages.js';
import type { ProjectionListener } from '../../kernel/projector.js';
import { tagKey } from '../../graphql/cache-tags.js';
import type { AnyModule } from '../../module.js';
import type { TaggedCache } from './tagged-cache.js';

const FOLLOW_BATCH = 1000;

/**
 * Keeps the cache exact from the projector's side: what this process
 * applies is invalidated before the checkpoint is recorded; a checkpoint
 * another instance moved (PostgreSQL) is followed by reading the events in
 * between from the log, for invalidation only, before this instance records
 * it. So no instance reports a position its cache has not caught up with.
 */
export function cacheInvalidation(cache: TaggedCache, modules: readonly AnyModule[], log: Pick<EventLog, 'readAll'>, onError: (error: unknown) => void): ProjectionListener {
  const rules = modules.flatMap((module) => (module.responseCache ? [module.responseCache.tagsOf] : []));
  const tagsOf = (events: readonly StoredEvent[]) => events.flatMap((event) => rules.flatMap((tags) => tags(event).map(tagKey)));
  return {
    applied: (_projection, events) => cache.invalidateTags(tagsOf(events)),
    // Which answers read this projection is not recorded: drop them all.
    replaced: () => cache.clear(),
    moved: async (_projection, from, to) => {
      // Back to the start: the read model was reset or replaced.
      if (to < from) return cache.clear();
      try {
        for (let after = from; after < to; ) {
          const events = (await log.readAll({ after, limit: FOLLOW_BATCH })).filter((event) => event.position <= to);
          if (events.length === 0) break;
          cache.invalidateTags(tagsOf(events));
          after = events[events.length - 1]!.position;
        }
      } catch (error) {
        // Not knowing what changed, drop everything: a colder cache, never a stale one.
        onError(error);
        cache.clear();
      }
    },
  };
}
