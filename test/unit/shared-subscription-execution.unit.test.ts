import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useSharedSubscriptionExecution } from '../../src/server/shared-subscription-execution.js';

type Event = { n: number };
type Context = { viewer: string };

/**
 * A source that hands every subscriber the same event objects, as the event
 * feed does for reads shared in one turn, and a field resolver that counts
 * how often it runs.
 */
function harness(options: { share: boolean }) {
  const events: Event[] = [{ n: 1 }, { n: 2 }, { n: 3 }];
  const calls: string[] = [];
  const schema = createSchema<Context>({
    typeDefs: `
      type Query { ok: Boolean }
      type Event { n: Int!, seenBy(suffix: String): String! }
      type Subscription { events(from: Int): Event! }`,
    resolvers: {
      Subscription: {
        events: {
          subscribe: async function* () {
            for (const event of events) yield event;
          },
          resolve: (event: Event) => event,
        },
      },
      Event: {
        seenBy: (event: Event, { suffix }: { suffix?: string | null }, context: Context) => {
          calls.push(`${event.n}:${context.viewer}`);
          return `${context.viewer}${suffix ?? ''}`;
        },
      },
    },
  });
  const yoga = createYoga<{ viewer: string }>({
    schema,
    context: ({ viewer }) => ({ viewer }),
    plugins: options.share ? [useSharedSubscriptionExecution<Context>({ sharingKey: (context) => context.viewer })] : [],
  });
  const subscribe = async (viewer: string, query = 'subscription { events { n seenBy } }', variables: Record<string, unknown> = {}) => {
    const response = await yoga.fetch(
      'http://localhost/graphql',
      { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ query, variables }) },
      { viewer },
    );
    const text = await response.text();
    return [...text.matchAll(/^data: (.+)$/gm)].map((match) => JSON.parse(match[1]!) as { data: { events: { n: number; seenBy: string } } });
  };
  return { calls, subscribe };
}

describe('useSharedSubscriptionExecution', () => {
  it('runs the selection once per event for subscribers with the same operation and sharing key', async () => {
    const { calls, subscribe } = harness({ share: true });
    const results = await Promise.all([subscribe('alice'), subscribe('alice'), subscribe('alice')]);
    for (const received of results) expect(received.map((r) => r.data.events)).toEqual([1, 2, 3].map((n) => ({ n, seenBy: 'alice' })));
    expect(calls.sort()).toEqual(['1:alice', '2:alice', '3:alice']);
  });

  it('keeps executions apart for different sharing keys and different operations', async () => {
    const { calls, subscribe } = harness({ share: true });
    const [alice, bob, aliceOther] = await Promise.all([
      subscribe('alice'),
      subscribe('bob'),
      subscribe('alice', 'subscription { events { seenBy n } }'),
    ]);
    expect(alice.map((r) => r.data.events.seenBy)).toEqual(['alice', 'alice', 'alice']);
    expect(bob.map((r) => r.data.events.seenBy)).toEqual(['bob', 'bob', 'bob']);
    expect(aliceOther.map((r) => r.data.events.n)).toEqual([1, 2, 3]);
    expect(calls.length).toBe(9);
  });

  it('shares executions across values of variables used only in the root field’s arguments, not of others', async () => {
    const { calls, subscribe } = harness({ share: true });
    const query = 'subscription ($from: Int, $suffix: String) { events(from: $from) { n seenBy(suffix: $suffix) } }';
    const [first, second, other] = await Promise.all([
      subscribe('alice', query, { from: 1, suffix: '!' }),
      subscribe('alice', query, { from: 2, suffix: '!' }),
      subscribe('alice', query, { from: 1, suffix: '?' }),
    ]);
    expect(first.map((r) => r.data.events.seenBy)).toEqual(['alice!', 'alice!', 'alice!']);
    expect(second.map((r) => r.data.events.seenBy)).toEqual(['alice!', 'alice!', 'alice!']);
    expect(other.map((r) => r.data.events.seenBy)).toEqual(['alice?', 'alice?', 'alice?']);
    expect(calls.length).toBe(6);
  });

  it('without the plugin every subscriber executes every event (the cost it removes)', async () => {
    const { calls, subscribe } = harness({ share: false });
    await Promise.all([subscribe('alice'), subscribe('alice'), subscribe('alice')]);
    expect(calls.length).toBe(9);
  });
});
