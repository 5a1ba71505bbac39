import { Counter, Gauge, type Registry } from 'prom-client';

/** What the websocket fan-out (subscription-fanout.ts) counts: the proof that work is per cohort, not per subscriber. */
export type FanOutMetrics = Readonly<{
  executions: Counter;
  serialisations: Counter;
  messages: Counter;
  cut: Counter;
  /** Read at scrape time: the most bytes any websocket holds unsent. */
  observeLargestBacklog: (largest: () => number) => void;
}>;

export function createFanOutMetrics(registry: Registry): FanOutMetrics {
  const registers = [registry];
  let largest: () => number = () => 0;
  new Gauge({
    name: 'cqrs_websocket_send_buffer_bytes_max',
    help: "The most bytes any websocket subscriber has waiting in this server: unsent on its socket, plus held for its client's next read receipt; read at scrape time.",
    registers,
    collect() {
      this.set(largest());
    },
  });
  return {
    executions: new Counter({
      name: 'cqrs_subscription_executions_total',
      help: "Websocket subscriptions: executions of a selection set on an event. One per event and cohort (subscribers of the same document and variables who see the same fields), however many subscribers the cohort has.",
      registers,
    }),
    serialisations: new Counter({
      name: 'cqrs_subscription_serialisations_total',
      help: 'Websocket subscriptions: results serialised to JSON. One per event and cohort, like executions.',
      registers,
    }),
    messages: new Counter({
      name: 'cqrs_subscription_messages_total',
      help: 'Websocket subscriptions: next messages written, one per event and subscriber.',
      registers,
    }),
    cut: new Counter({
      name: 'cqrs_subscriptions_cut_total',
      help: 'Websocket subscriptions ended with a RESUME_AFTER error because more than SUBSCRIPTION_MAX_BUFFERED_BYTES waited for them in this server or they left a ping unanswered for SUBSCRIPTION_STALL_TIMEOUT_MS.',
      registers,
    }),
    observeLargestBacklog: (read) => {
      largest = read;
    },
  };
}
