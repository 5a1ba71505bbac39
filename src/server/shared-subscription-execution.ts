import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs } from 'graphql';
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga';
import { feedOrigin } from '../kernel/event-feed.js';
import { EVENT_EXECUTION, type WebSocketDelivery } from './subscription-fanout.js';

export type SharedSubscriptionOptions<Context> = Readonly<{
  /**
   * What, besides the event and the operation, a subscription's result may
   * depend on — for this API, who the viewer is. Subscribers with equal keys
   * get one shared execution per event; `null` opts a subscriber out.
   */
  sharingKey: (context: Context) => string | null;
}>;

/**
 * One execution per event per distinct subscription, not per subscriber.
 *
 * Over websockets, a subscription whose resolver follows the event log
 * (`ctx.followEvents`) goes to the fan-out (subscription-fanout.ts), which
 * also serialises once per event and cohort and writes the frames itself.
 * The rest of this comment is about SSE and multipart, whose writers pull
 * results per subscriber.
 *
 * Otherwise a thousand clients on the same `userEvents` selection run the same
 * selection set on the same event a thousand times, the largest share of the
 * server's CPU under a fan-out load. Subscribers that read an
 * event in the same turn receive the very same event object (`shareReads`), so
 * the result is memoised on that object, per operation, variables and sharing
 * key. Subscribers that read it at another time simply execute again: sharing
 * can only ever skip work, never hand one subscriber another's event.
 *
 * The contract this relies on: executing a subscription's selection set on an
 * event reads nothing per request but the viewer (no request ids, no per-request
 * loaders). Events are immutable, and results are only read after this point
 * (masking and serialisation copy them), so sharing them is safe.
 */
export function useSharedSubscriptionExecution<Context>(options: SharedSubscriptionOptions<Context>): Plugin {
  const executions = new WeakMap<object, Map<string, ReturnType<typeof execute>>>();
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  const documentId = (document: DocumentNode) => {
    let id = documentIds.get(document);
    if (id === undefined) documentIds.set(document, (id = nextDocumentId++));
    return id;
  };

  const subscribe = async (args: ExecutionArgs) => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const viewerKey = options.sharingKey(args.contextValue as Context);
    const key =
      viewerKey === null ? null : `${documentId(args.document)}|${args.operationName ?? ''}|${JSON.stringify(args.variableValues ?? {})}|${viewerKey}`;
    const delivery = (args.contextValue as { webSocketDelivery?: WebSocketDelivery }).webSocketDelivery;
    const feed = feedOrigin(source);
    if (key !== null && delivery && feed) {
      // The resolver's own feed has read nothing yet: the cohort reads one for all its members instead.
      void (source as AsyncIterableIterator<unknown>).return?.();
      const { streamId, types } = feed.options;
      const followed = `${streamId ?? ''}|${types ? [...types].sort().join(',') : ''}`;
      return delivery.fanOut.join({ key: `${key}|${followed}`, delivery, args, feed });
    }
    // envelop's mapper: its `return()` goes straight to the source, so a client
    // leaving ends the feed at once rather than at its next event.
    return mapAsyncIterator(source, (event: unknown) => {
      const run = () => execute({ ...args, rootValue: event });
      if (key === null || typeof event !== 'object' || event === null) return run();
      let byKey = executions.get(event);
      if (!byKey) executions.set(event, (byKey = new Map()));
      let result = byKey.get(key);
      if (!result) byKey.set(key, (result = run()));
      return result;
    });
  };

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribe as never);
    },
    // The fan-out executes a subscription's selection on one event through the operation's enveloped
    // execute, so masking and error codes apply as to any result. Yoga's executor would start a
    // subscription for a subscription document; graphql-js's `execute` runs the selection on the event.
    onExecute({ args, setExecuteFn }) {
      if ((args as { [EVENT_EXECUTION]?: true })[EVENT_EXECUTION]) setExecuteFn(execute);
    },
  };
}
