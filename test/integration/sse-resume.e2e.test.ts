import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestServer, type TestServer } from '../support/server.js';

/**
 * SSE frames carry `id: <position>`, and a request with `Last-Event-ID` (what
 * a browser's EventSource sends when it reconnects) resumes right after it.
 * Read as raw frames, the way EventSource parses them.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

type Frame = { event?: string; id?: string; data: string };
type Next = { data?: { userEvents: { position: string; version: number } }; errors?: { extensions?: { code?: string } }[] };

/** Reads frames until `count` `next` events arrived (or the stream ended), then cancels the request. */
async function readFrames(headers: Record<string, string>, variables: Record<string, unknown>, count: number): Promise<Frame[]> {
  const query = 'subscription($after: String, $userId: ID) { userEvents(after: $after, userId: $userId) { position version } }';
  const controller = new AbortController();
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const frames: Frame[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = response.body!.getReader();
  try {
    while (frames.filter((f) => f.event === 'next').length < count) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const frame: Frame = { data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue; // a ping
          const [field, ...rest] = line.split(':');
          const value = rest.join(':').replace(/^ /, '');
          if (field === 'event') frame.event = value;
          else if (field === 'id') frame.id = value;
          else if (field === 'data') frame.data += value;
        }
        if (frame.event) frames.push(frame);
      }
    }
  } finally {
    controller.abort();
  }
  return frames;
}

let counter = 0;
async function userWithThreeEvents(): Promise<string> {
  counter += 1;
  const created = await gql<{ createUser: { user: { id: string } } }>(
    server.url,
    'mutation($input: CreateUserInput!) { createUser(input: $input) { ... on CreateUserSuccess { user { id } } } }',
    { input: { username: `sse_${counter}`, email: `sse.${counter}@example.com` } },
  );
  const id = created.body.data!.createUser.user.id;
  for (const name of ['one', 'two']) {
    await gql(server.url, 'mutation($input: UpdateUserInput!) { updateUser(input: $input) { __typename } }', {
      input: { id, username: `${name}_${counter}` },
    });
  }
  return id;
}

describe('resumable SSE', () => {
  it('every event frame carries its log position as its id', async () => {
    const userId = await userWithThreeEvents();
    const frames = await readFrames({}, { after: '0', userId }, 3);
    const events = frames.filter((f) => f.event === 'next');
    expect(events).toHaveLength(3);
    for (const frame of events) {
      const { data } = JSON.parse(frame.data) as Next;
      expect(frame.id).toBe(data!.userEvents.position);
    }
  });

  it('Last-Event-ID resumes right after that event: nothing twice, nothing missed', async () => {
    const userId = await userWithThreeEvents();
    const first = (await readFrames({}, { after: '0', userId }, 3)).filter((f) => f.event === 'next');
    // The client saw the first event only, then lost the connection; it reconnects with the same request.
    const resumed = (await readFrames({ 'last-event-id': first[0]!.id! }, { after: '0', userId }, 2)).filter((f) => f.event === 'next');
    expect(resumed.map((f) => (JSON.parse(f.data) as Next).data!.userEvents.version)).toEqual([2, 3]);
    expect(resumed.map((f) => f.id)).toEqual(first.slice(1).map((f) => f.id));
  });

  it('a Last-Event-ID that is no position of this log is BAD_USER_INPUT, not a silent restart', async () => {
    const userId = await userWithThreeEvents();
    for (const id of ['not-a-position', 'sqlite:99999999', 'x'.repeat(300)]) {
      const frames = await readFrames({ 'last-event-id': id }, { after: '0', userId }, 1);
      const next = frames.find((f) => f.event === 'next');
      if (id.length > 256) {
        // Too long to be ours: ignored, the subscription starts from its own `after`.
        expect((JSON.parse(next!.data) as Next).data!.userEvents.version).toBe(1);
      } else {
        expect((JSON.parse(next!.data) as Next).errors?.[0]?.extensions?.code, id).toBe('BAD_USER_INPUT');
      }
    }
  });
});
