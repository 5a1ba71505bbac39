import type { EventLog } from './event-store.js';

export type EventReader = Pick<EventLog, 'readAll'>;

/**
 * Live feeds woken by the same append all ask the store the same question at
 * once: "what comes after position X?". This shares each answer among the
 * reads of one turn of the event loop, so a thousand subscribers cost one
 * query and one JSON parse per wake-up instead of a thousand. Events are
 * immutable, so sharing them is safe; answers are dropped at the end of the
 * turn and at every append this process hears of, so a reader never gets an
 * answer older than the wake-up it acted on, and nothing is held for a slow reader.
 */
export function shareReads(store: Pick<EventLog, 'readAll' | 'onAppended'>): EventReader {
  let answers = new Map<string, ReturnType<EventLog['readAll']>>();
  let clearing = false;
  const forget = () => {
    answers = new Map();
  };
  store.onAppended(forget);
  return {
    readAll: (options) => {
      const key = `${String(options.after)}|${options.limit}|${options.streamId ?? ''}`;
      let answer = answers.get(key);
      if (!answer) {
        answer = store.readAll(options);
        answers.set(key, answer);
        if (!clearing) {
          clearing = true;
          setImmediate(() => {
            clearing = false;
            forget();
          });
        }
      }
      return answer;
    },
  };
}
