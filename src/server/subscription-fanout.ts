import type { Socket } from 'node:net';
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import type { Context } from 'graphql-ws';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { followEvents, type FeedOrigin } from '../kernel/event-feed.js';
import type { StoredEvent } from '../kernel/messages.js';
import type { Position } from '../kernel/position.js';
import type { CoalescedWrites } from './coalesced-writes.js';
import type { FanOutMetrics } from './fanout-metrics.js';
import type { WebSocketExtra } from './graphql-ws-adapter.js';
import { createReadReceipts, type Receipts } from './read-receipts.js';
import { errorMessage, frameHeaderLength, nextHead, nextTail, writeTextFrame } from './ws-frames.js';

/**
 * Websocket subscriptions delivered per cohort, not per subscriber.
 *
 * A cohort is the subscribers of one document, operation and variables who
 * see the same fields (the viewer's visibility key: an admin never shares a
 * cohort with anyone who may not see what an admin sees), at the same place
 * in the log. For each event the cohort reads one feed, executes the
 * selection once, serialises the payload once, and writes each subscriber a
 * frame spliced from its own head (`{"id":…,"type":"next","payload":`) and the
 * shared tail (ws-frames.ts), straight to its socket, corked for the turn.
 * graphql-ws still owns everything else: the handshake, pings, errors before
 * the stream starts, `complete` when a stream ends, and the client's own
 * `complete`. It iterates each subscriber's stream as usual, but the stream
 * yields nothing: it only ends, when the subscriber leaves the cohort
 * (`parkedStream`). Per-event work through graphql-ws (its `for await`, a
 * JSON.stringify per subscriber, envelop's iterator layers) is what this
 * takes out of the path.
 *
 * Subscribers that start at another position (a replay, or a later `after`)
 * get a cohort of their own; two cohorts of one key merge as soon as one
 * delivers the event the other delivered last, so a catch-up joins the live
 * cohort once it has caught up, with nothing missed and nothing twice.
 *
 * A subscriber that does not read must not hold up the others, cost them
 * its writes, nor make the server hold its backlog. A frame is never awaited.
 * Nothing is written more than `maxBufferedBytes` past what its client
 * confirmed reading (read-receipts.ts): further frames are held,
 * sharing the cohort's buffers, until its next receipt. A subscriber is cut
 * when its socket holds more than `maxBufferedBytes` unsent, or more than
 * that is held for it (so the server keeps at most twice the limit for
 * anyone), or when it leaves a ping sent after its events unanswered for
 * `stallTimeoutMs`. Its subscription ends with a graphql-ws `error`
 * (RESUME_AFTER) carrying the position of the last event written to it, so
 * resubscribing with that `after` delivers the rest. A live cohort waits
 * only when none of its subscribers can be written to now (every socket past
 * its high-water mark or waiting for a receipt); a cohort still replaying the
 * log also waits for each of its subscribers' receipts, so it goes at its
 * slowest reader's pace (a stalled one holds it up until `stallTimeoutMs`
 * cuts it).
 */
export type SubscriptionFanOut = Readonly<{
  /** Takes the subscriber into a cohort; its stream ends when it leaves one (see `parkedStream`). */
  join: (request: JoinRequest) => AsyncIterableIterator<never>;
  /** The most bytes any subscriber's socket holds unsent. */
  largestBacklog: () => number;
}>;

export type FanOutOptions = Readonly<{
  /** Written at most this far past what a subscriber's client confirmed reading; one with more than this unsent, or held, is cut, with a RESUME_AFTER error. */
  maxBufferedBytes: number;
  /** A subscriber whose socket leaves a ping sent after its events unanswered this long is cut the same way (read-receipts.ts); 0: never. */
  stallTimeoutMs: number;
  formatPosition: (position: Position) => string;
  writes: CoalescedWrites;
  logger: Logger;
  metrics?: FanOutMetrics;
}>;

/** A websocket subscription, as websocket.ts hands it over in the operation's server context. */
export type WebSocketDelivery = Readonly<{
  fanOut: SubscriptionFanOut;
  connection: Context<Record<string, unknown>, WebSocketExtra>;
  id: string;
  /** The operation's enveloped execute: masking and error codes apply to each event's result as over HTTP. */
  execute: (args: ExecutionArgs) => unknown;
}>;

export type JoinRequest = Readonly<{
  /** Equal keys: the same selection, seen the same way. */
  key: string;
  delivery: WebSocketDelivery;
  args: ExecutionArgs;
  /** The feed the subscription's resolver opened (not read): where it starts and what it follows. */
  feed: FeedOrigin;
}>;

/** Marks the execution arguments of one event's execution for a cohort (see useSharedSubscriptionExecution's onExecute). */
export const EVENT_EXECUTION = Symbol('fan-out event execution');

type Outcome = Readonly<{ type: 'done' }> | Readonly<{ type: 'failed'; error: unknown }>;

type Member = {
  readonly id: string;
  readonly head: Buffer;
  readonly socket: WebSocket;
  readonly raw: Socket;
  readonly delivery: WebSocketDelivery;
  readonly args: ExecutionArgs;
  cohort: Cohort;
  readonly receipts: Receipts;
  /** The last event written to its socket: everything up to here is on its way. */
  written: Position;
  /** Frames waiting for a receipt from its client, oldest first; their tails are the cohort's own buffers. */
  held: Held | undefined;
  expiry: NodeJS.Timeout | undefined;
  outcome: Outcome | undefined;
  waiter: { resolve: (step: IteratorResult<never>) => void; reject: (error: unknown) => void } | undefined;
};

type Held = { readonly frames: { readonly tail: Buffer; readonly position: Position }[]; bytes: number };

type Cohort = {
  readonly key: string;
  readonly feed: AsyncIterableIterator<StoredEvent>;
  /** The last event delivered, or where the cohort started: every member has been sent everything up to here. */
  position: Position;
  readonly members: Set<Member>;
  /**
   * Its feed has handed out every event in the log once: it delivers live events. Until then it replays, and a
   * member waiting for a read receipt holds it back instead of being left behind and cut (see `deliver`).
   */
  live: boolean;
  /** Whose execution arguments (context, enveloped execute) run the selection: any member's serve. */
  executor: Member;
  stopped: boolean;
  /** Ends a wait for the sockets to drain. */
  wake: (() => void) | undefined;
};

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
const FINISHED = { type: 'done' } as const;
// setTimeout fires at once for delays past ~24.8 days; a later expiry is left to the token's next use.
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createSubscriptionFanOut(options: FanOutOptions): SubscriptionFanOut {
  const { maxBufferedBytes, stallTimeoutMs, formatPosition, writes, logger, metrics } = options;
  const cohorts = new Map<string, Set<Cohort>>();
  const members = new Set<Member>();
  /** Members with frames held, by socket: what a receipt lets go. */
  const holding = new Map<WebSocket, Set<Member>>();
  const receipts = createReadReceipts({
    windowBytes: maxBufferedBytes,
    stallTimeoutMs,
    onStalled: (socket) => {
      for (const member of [...members]) if (member.socket === socket && !member.outcome) cut(member, 'stalled');
    },
    onConfirmed: (socket) => {
      const waiting = holding.get(socket);
      if (!waiting) return;
      for (const member of [...waiting]) {
        release(member);
        member.cohort.wake?.();
      }
    },
  });

  /**
   * `sendHeld`: frames held for it go out first, past the window (they fit the limit), so a stream that ends
   * normally (its token expired, shutdown) ends with every event the cohort handed it; not when the client left.
   */
  const end = (member: Member, outcome: Outcome, sendHeld = true) => {
    if (member.outcome) return;
    member.outcome = outcome;
    members.delete(member);
    if (sendHeld) release(member, true);
    unhold(member);
    clearTimeout(member.expiry);
    const waiter = member.waiter;
    member.waiter = undefined;
    if (!waiter) return;
    if (outcome.type === 'done') waiter.resolve(DONE as IteratorResult<never>);
    else waiter.reject(outcome.error);
  };

  const stop = (cohort: Cohort) => {
    if (cohort.stopped) return;
    cohort.stopped = true;
    const siblings = cohorts.get(cohort.key);
    siblings?.delete(cohort);
    if (siblings?.size === 0) cohorts.delete(cohort.key);
    void cohort.feed.return?.();
    cohort.wake?.();
  };

  /** Takes `member` out of its cohort, which stops once nobody is left in it. */
  const withdraw = (member: Member) => {
    const { cohort } = member;
    if (!cohort.members.delete(member)) return;
    if (cohort.members.size === 0) stop(cohort);
    else if (cohort.executor === member) cohort.executor = cohort.members.values().next().value!;
    cohort.wake?.();
  };

  const leave = (member: Member, outcome: Outcome, sendHeld = true) => {
    withdraw(member);
    end(member, outcome, sendHeld);
  };

  /**
   * Ends the subscription with an `error` message instead of its next frame.
   * graphql-ws forgets the operation first, so it sends no `complete` after
   * the error, as the protocol asks.
   */
  const cut = (member: Member, why: 'buffered' | 'stalled') => {
    const after = formatPosition(member.written);
    withdraw(member);
    unhold(member);
    const behind =
      why === 'buffered'
        ? `fell more than ${maxBufferedBytes} bytes behind`
        : `left events unread for more than ${stallTimeoutMs} ms`;
    const message = errorMessage(member.id, [
      {
        message: `This subscriber ${behind} and was cut off. Subscribe again with after: "${after}" to receive every event since the last one sent.`,
        extensions: { code: 'RESUME_AFTER', after },
      },
    ]);
    // Past the limit already: the error is the last thing this operation queues.
    member.socket.send(message);
    delete member.delivery.connection.subscriptions[member.id];
    metrics?.cut.inc();
    logger.debug({ subscription: member.id, after, why, buffered: member.raw.writableLength, unconfirmed: member.receipts.unconfirmed() }, 'slow websocket subscriber cut off');
    end(member, FINISHED);
  };

  /** Bytes of the frame `head` + `tail` make on the wire (as writeTextFrame builds it). */
  const frameBytes = (member: Member, tail: Buffer) => {
    const length = member.head.length + tail.length;
    return length + frameHeaderLength(length);
  };

  /** Whether the client confirmed reading enough that `bytes` more stay within the window (a first frame always may go). */
  const mayWrite = (member: Member, bytes: number) => {
    const unconfirmed = member.receipts.unconfirmed();
    return unconfirmed === 0 || unconfirmed + bytes <= maxBufferedBytes;
  };

  /** Writes one frame (`bytes` on the wire) to the member's socket; false once the socket is past its high-water mark. */
  const write = (member: Member, tail: Buffer, position: Position, bytes: number): boolean => {
    writes.hold(member.raw);
    const underMark = writeTextFrame(member.socket, member.raw, member.head, tail);
    member.receipts.wrote(bytes);
    member.written = position;
    return underMark;
  };

  const unhold = (member: Member) => {
    if (!member.held) return;
    member.held = undefined;
    const waiting = holding.get(member.socket);
    waiting?.delete(member);
    if (waiting?.size === 0) holding.delete(member.socket);
  };

  /** Keeps the frame (`bytes` on the wire) for the member's next receipt; false when that takes it past the limit (it is cut). */
  const hold = (member: Member, tail: Buffer, position: Position, bytes: number): boolean => {
    const held = member.held ?? { frames: [], bytes: 0 };
    // Held apart from what the socket holds unsent (cut past the limit in `deliver`): a frame just written waits there until the turn ends.
    if (held.bytes + bytes > maxBufferedBytes) {
      cut(member, 'buffered');
      return false;
    }
    if (!member.held) {
      member.held = held;
      const waiting = holding.get(member.socket);
      if (waiting) waiting.add(member);
      else holding.set(member.socket, new Set([member]));
      member.receipts.ask();
    }
    held.frames.push({ tail, position });
    held.bytes += bytes;
    return true;
  };

  /** After a receipt: writes what was held, as far as the window now allows (`all`: past it). */
  const release = (member: Member, all = false) => {
    const held = member.held;
    if (!held || member.socket.readyState !== member.socket.OPEN) return;
    let next = 0;
    for (; next < held.frames.length; next++) {
      const { tail, position } = held.frames[next]!;
      const bytes = frameBytes(member, tail);
      if (!all && !mayWrite(member, bytes)) break;
      write(member, tail, position, bytes);
      held.bytes -= bytes;
    }
    metrics?.messages.inc(next);
    held.frames.splice(0, next);
    if (held.frames.length === 0) unhold(member);
    else member.receipts.ask();
  };

  /**
   * Writes or holds the event's frame for every member, and says when the cohort may go on to the next
   * event: at once while a member may be written to; after a drain when every socket is past its
   * high-water mark; and, while the cohort replays, only once no member waits for a read receipt. A live
   * cohort never waits for a member behind on its receipts (it would hold up everyone's live events for a
   * client that may have stopped reading); one replaying goes at the pace of its slowest reader instead of
   * its fastest: a hundred subscribers resuming together were otherwise cut again and again as the fastest
   * drew ahead (~30 cuts each in the bench), re-reading the log each time.
   */
  const deliver = (cohort: Cohort, tail: Buffer, position: Position): 'go' | 'drain' | 'receipts' => {
    let anyWritable = false;
    let anyHeld = false;
    let sent = 0;
    for (const member of cohort.members) {
      const { socket, raw } = member;
      // Closing: graphql-ws ends the stream (and so the membership) on close.
      if (socket.readyState !== socket.OPEN) continue;
      if (raw.writableLength > maxBufferedBytes) {
        cut(member, 'buffered');
        continue;
      }
      // Behind its client's receipts, or with frames held already (which go first): held until the next receipt.
      const bytes = frameBytes(member, tail);
      if (member.held || !mayWrite(member, bytes)) {
        if (hold(member, tail, position, bytes)) anyHeld = true;
        continue;
      }
      if (write(member, tail, position, bytes)) anyWritable = true;
      sent += 1;
    }
    metrics?.messages.inc(sent);
    if (anyHeld && !cohort.live) return 'receipts';
    return anyWritable ? 'go' : 'drain';
  };

  /** Cohorts of the same key at the position `cohort` just reached have sent the same events: one of them is enough. */
  const absorbSiblings = (cohort: Cohort) => {
    const siblings = cohorts.get(cohort.key);
    if (!siblings || siblings.size < 2) return;
    for (const other of siblings) {
      if (other === cohort || other.position !== cohort.position) continue;
      // An event `other` is executing now is after this position: this cohort sends it to them next.
      for (const member of other.members) {
        member.cohort = cohort;
        cohort.members.add(member);
      }
      other.members.clear();
      stop(other);
    }
  };

  /** Waits until a member's socket drains, a member's client sends a read receipt, or the membership changes. */
  const drained = (cohort: Cohort) =>
    new Promise<void>((resolve) => {
      // A socket once, however many of its subscriptions are in the cohort.
      const behind = new Set([...cohort.members].map((member) => member.raw));
      const wake = () => {
        for (const raw of behind) raw.off('drain', wake);
        cohort.wake = undefined;
        resolve();
      };
      for (const raw of behind) raw.once('drain', wake);
      cohort.wake = wake;
    });

  /** Waits until no member waits for a read receipt: each receipt, cut or leaving wakes it to look again. */
  const receiptsIn = async (cohort: Cohort) => {
    const holds = () => [...cohort.members].some((member) => member.held);
    while (!cohort.stopped && holds()) {
      await new Promise<void>((resolve) => {
        cohort.wake = () => {
          cohort.wake = undefined;
          resolve();
        };
      });
    }
  };

  const execute = async (cohort: Cohort, event: StoredEvent): Promise<ExecutionResult> => {
    const { delivery, args } = cohort.executor;
    const result = (await delivery.execute({ ...args, rootValue: event, [EVENT_EXECUTION]: true } as ExecutionArgs)) as ExecutionResult;
    metrics?.executions.inc();
    return result;
  };

  const run = async (cohort: Cohort) => {
    try {
      for (;;) {
        const step = await cohort.feed.next();
        if (cohort.stopped) return;
        if (step.done) {
          finish(cohort, FINISHED);
          return;
        }
        const result = await execute(cohort, step.value);
        if (cohort.stopped) return;
        const tail = nextTail(result);
        metrics?.serialisations.inc();
        const next = deliver(cohort, tail, step.value.position);
        cohort.position = step.value.position;
        if (cohort.members.size === 0) {
          stop(cohort);
          return;
        }
        absorbSiblings(cohort);
        if (next === 'drain') await drained(cohort);
        else if (next === 'receipts') await receiptsIn(cohort);
      }
    } catch (error) {
      if (!cohort.stopped) finish(cohort, { type: 'failed', error });
    }
  };

  const finish = (cohort: Cohort, outcome: Outcome) => {
    stop(cohort);
    for (const member of [...cohort.members]) end(member, outcome);
    cohort.members.clear();
  };

  const open = (key: string, feed: FeedOrigin, founder: Member): Cohort => {
    const { endsAt: _endsAt, ...follow } = feed.options;
    const cohort: Cohort = {
      key,
      // Each member ends at its own token's expiry; the cohort's feed only at shutdown.
      feed: followEvents(feed.store, feed.wake, {
        ...follow,
        onCaughtUp: () => {
          cohort.live = true;
        },
      }),
      position: feed.options.after,
      members: new Set(),
      live: false,
      executor: founder,
      stopped: false,
      wake: undefined,
    };
    let siblings = cohorts.get(key);
    if (!siblings) cohorts.set(key, (siblings = new Set()));
    siblings.add(cohort);
    void run(cohort);
    return cohort;
  };

  const join = ({ key, delivery, args, feed }: JoinRequest): AsyncIterableIterator<never> => {
    const { socket, request } = delivery.connection.extra;
    const member: Member = {
      id: delivery.id,
      head: nextHead(delivery.id),
      socket,
      raw: request.socket,
      delivery,
      args,
      cohort: undefined as unknown as Cohort,
      receipts: receipts.of(socket),
      written: feed.options.after,
      held: undefined,
      expiry: undefined,
      outcome: undefined,
      waiter: undefined,
    };
    const start = feed.options.after;
    let cohort: Cohort | undefined;
    for (const candidate of cohorts.get(key) ?? []) {
      if (candidate.position === start) {
        cohort = candidate;
        break;
      }
    }
    cohort ??= open(key, feed, member);
    member.cohort = cohort;
    cohort.members.add(member);
    cohort.wake?.();
    members.add(member);
    const { endsAt } = feed.options;
    if (endsAt !== undefined) {
      const remainingMs = Math.max(0, endsAt.getTime() - Date.now());
      if (remainingMs <= MAX_TIMER_MS) member.expiry = setTimeout(() => leave(member, FINISHED), remainingMs).unref();
    }
    return parkedStream(member, () => leave(member, FINISHED, false));
  };

  return {
    join,
    largestBacklog: () => {
      let largest = 0;
      for (const member of members) largest = Math.max(largest, member.raw.writableLength + (member.held?.bytes ?? 0));
      return largest;
    },
  };
}

/**
 * What graphql-ws iterates for a fanned-out subscriber: nothing is ever
 * yielded (the cohort writes the frames), and the stream ends when the
 * subscriber's part does: done (graphql-ws then sends `complete`, unless the
 * operation was cut and already forgotten), or failed (graphql-ws sends an
 * `error`, as for any stream that throws). `return()` is the client leaving.
 */
function parkedStream(member: Member, leave: () => void): AsyncIterableIterator<never> {
  return {
    next: () => {
      const { outcome } = member;
      if (outcome) return outcome.type === 'done' ? Promise.resolve(DONE as IteratorResult<never>) : Promise.reject(outcome.error);
      return new Promise((resolve, reject) => (member.waiter = { resolve, reject }));
    },
    return: () => {
      leave();
      return Promise.resolve(DONE as IteratorResult<never>);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
