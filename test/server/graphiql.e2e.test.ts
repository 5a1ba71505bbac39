import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphiqlTabs } from '../../src/server/graphiql-tabs.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { openClient } from '../support/subscriptions.js';

describe('GraphiQL', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('is served to browsers with every asset inline (no CDN), set to run subscriptions over the websocket', async () => {
    const response = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toContain('renderYogaGraphiQL');
    // Every <script>/<link> is inline: none names a source to fetch.
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link[^>]*\shref="(https?:)?\/\//i);
    expect(html).toContain('"subscriptionsProtocol":"WS"');
  });

  it('is off when GRAPHIQL=false', async () => {
    const plain = await startTestServer({ env: { GRAPHIQL: 'false' } });
    try {
      const response = await fetch(plain.url, { headers: { accept: 'text/html' } });
      expect(await response.text()).not.toContain('renderYogaGraphiQL');
    } finally {
      await plain.stop();
    }
  });
});

describe('GraphiQL default tabs', () => {
  it('are in the page, the create first', async () => {
    const server = await startTestServer();
    try {
      const html = await (await fetch(server.url, { headers: { accept: 'text/html' } })).text();
      expect(html).toContain('"defaultTabs"');
      for (const tab of graphiqlTabs) expect(html).toContain(JSON.stringify(tab.query).slice(1, 60));
      expect(graphiqlTabs[0]!.query).toMatch(/mutation CreateUser/);
    } finally {
      await server.stop();
    }
  });

  it('each works as shipped, in order, against an empty store', async () => {
    const server = await startTestServer();
    const client = openClient('graphql-ws', server);
    try {
      const answers: Record<string, unknown>[] = [];
      for (const tab of graphiqlTabs) {
        if (/^subscription /m.test(tab.query)) {
          const document = parse(tab.query) as unknown as TypedDocumentNode<Record<string, unknown>, Record<string, unknown>>;
          const subscription = client.subscribe(document, {});
          await subscription.waitForResults(2); // the create and the update, replayed from "0"
          expect(subscription.results.every((result) => !result.errors), JSON.stringify(subscription.results)).toBe(true);
          answers.push(subscription.data()[1]!);
          subscription.dispose();
          continue;
        }
        // No variables: a tab must run exactly as GraphiQL shows it.
        const { status, body } = await gql<Record<string, unknown>>(server.url, tab.query);
        expect([status, body.errors], tab.query).toEqual([200, undefined]);
        answers.push(body.data!);
      }
      expect(answers).toMatchObject([
        { createUser: { __typename: 'CreateUserSuccess', user: { id: 'User:ada', version: 1 } } },
        { users: { totalCount: 1, edges: [{ node: { id: 'User:ada' } }] } },
        { users: { edges: [{ node: { id: 'User:ada' } }], pageInfo: { hasPreviousPage: false } } },
        { updateUser: { __typename: 'UpdateUserSuccess', user: { username: 'ada_lovelace', version: 2 } } },
        { userEvents: { __typename: 'UserUpdated', user: { id: 'User:ada', version: 2 }, state: { version: 2 } } },
        { node: { __typename: 'User', id: 'User:ada', username: 'ada_lovelace' } },
      ]);
    } finally {
      await client.dispose();
      await server.stop();
    }
  });
});
