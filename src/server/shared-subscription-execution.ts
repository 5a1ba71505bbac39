import { createSourceEventStream, execute, Kind, visit, type ASTNode, type DocumentNode, type ExecutionArgs } from 'graphql';
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
 * loaders), and the root field's arguments only choose the feed (where it
 * starts, which stream it follows), which the event itself and the feed's
 * position stand for. Events are immutable, and results are only read after
 * this point (masking and serialisation copy them), so sharing them is safe.
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

  const variablesInResults = new WeakMap<DocumentNode, Map<string, ReadonlySet<string>>>();
  /**
   * The variables an event's result can depend on: all but those used only in the root field's arguments,
   * so that subscribers resuming after different positions (`after`) share a key: each joins the live
   * cohort once it has caught up (subscription-fanout.ts), instead of executing every event on its own
   * for as long as it stays subscribed.
   */
  const resultVariables = ({ document, operationName, variableValues }: ExecutionArgs): Record<string, unknown> => {
    let byOperation = variablesInResults.get(document);
    if (!byOperation) variablesInResults.set(document, (byOperation = new Map()));
    let used = byOperation.get(operationName ?? '');
    if (!used) byOperation.set(operationName ?? '', (used = variablesOutsideRootArguments(document, operationName)));
    const names = used;
    return Object.fromEntries(Object.entries(variableValues ?? {}).filter(([name]) => names.has(name)));
  };

  const subscribe = async (args: ExecutionArgs) => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const viewerKey = options.sharingKey(args.contextValue as Context);
    const key =
      viewerKey === null ? null : `${documentId(args.document)}|${args.operationName ?? ''}|${JSON.stringify(resultVariables(args))}|${viewerKey}`;
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

/** Every variable the operation uses except in its root fields' arguments (fragments and directives count in full). */
function variablesOutsideRootArguments(document: DocumentNode, operationName: string | null | undefined): ReadonlySet<string> {
  const used = new Set<string>();
  const collect = (node: ASTNode) => visit(node, { Variable: (variable) => void used.add(variable.name.value) });
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  const operation = operations.find((definition) => (operationName ? definition.name?.value === operationName : operations.length === 1));
  // No single operation to pick: execution fails anyway; every variable keeps keys apart meanwhile.
  if (!operation) {
    collect(document);
    return used;
  }
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) collect(definition);
    else if (definition === operation) {
      for (const directive of definition.directives ?? []) collect(directive);
      for (const selection of definition.selectionSet.selections) {
        if (selection.kind !== Kind.FIELD) collect(selection);
        else {
          for (const directive of selection.directives ?? []) collect(directive);
          if (selection.selectionSet) collect(selection.selectionSet);
        }
      }
    }
  }
  return used;
}
