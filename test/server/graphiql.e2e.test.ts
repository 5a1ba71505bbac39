/**
 * The GraphiQL page on the wire, read raw over HTTP (encodings, ETags, 304),
 * and its default tabs run as shipped against a real server, the subscription
 * tab over graphql-ws. What the app serves is in graphiql.int.test.ts.
 */
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphiqlTabs } from '../../src/server/graphiql-tabs.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { openClient } from '../support/subscriptions.js';

/** A GET as a browser sends it, read raw: fetch would decompress the body and hide the encoding. */
function getPage(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers: { accept: 'text/html,application/xhtml+xml', ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

describe('the GraphiQL page on the wire', () => {
  let server: TestServer;
  let plain: Buffer;
  beforeAll(async () => {
    server = await startTestServer();
    const identity = await getPage(server.url, {});
    expect(identity.headers['content-encoding']).toBeUndefined();
    plain = identity.body;
    expect(plain.toString('utf8')).toContain('renderYogaGraphiQL');
  });
  afterAll(() => server.stop());

  it.each([
    ['gzip, deflate, br, zstd', 'br'],
    ['br', 'br'],
    ['gzip', 'gzip'],
    ['gzip;q=1.0, br;q=0.5', 'gzip'],
    ['deflate', undefined],
    ['identity', undefined],
    ['br;q=0, gzip;q=0', undefined],
  ])('Accept-Encoding: %s is answered with %s, the same page', async (acceptEncoding, encoding) => {
    const page = await getPage(server.url, { 'accept-encoding': acceptEncoding });
    expect(page.status).toBe(200);
    expect(page.headers['content-encoding']).toBe(encoding);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['vary']).toMatch(/accept-encoding/i);
    expect(Number(page.headers['content-length'])).toBe(page.body.byteLength);
    const decoded = encoding === 'br' ? brotliDecompressSync(page.body) : encoding === 'gzip' ? gunzipSync(page.body) : page.body;
    expect(decoded.equals(plain)).toBe(true);
    // Compressed, the 9 MB page is a fraction of its size.
    if (encoding) expect(page.body.byteLength).toBeLessThan(plain.byteLength / 3);
  });

  it('carries an ETag per encoding and Cache-Control, and answers a page the browser holds with a bodiless 304', async () => {
    const first = await getPage(server.url, { 'accept-encoding': 'gzip, br' });
    const etag = first.headers['etag']!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers['cache-control']).toBe('no-cache');
    const again = await getPage(server.url, { 'accept-encoding': 'gzip, br' });
    expect(again.headers['etag']).toBe(etag);
    expect(again.body.equals(first.body)).toBe(true);
    const gzipped = await getPage(server.url, { 'accept-encoding': 'gzip' });
    expect(gzipped.headers['etag']).not.toBe(etag);

    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, gzipped.headers['etag']!, '*']) {
      const held = await getPage(server.url, { 'accept-encoding': 'gzip, br', 'if-none-match': ifNoneMatch });
      expect(held.status, ifNoneMatch).toBe(304);
      expect(held.body.byteLength).toBe(0);
      expect(held.headers['etag']).toBe(etag);
      expect(held.headers['cache-control']).toBe('no-cache');
    }
    const stale = await getPage(server.url, { 'accept-encoding': 'gzip, br', 'if-none-match': '"an-older-page"' });
    expect(stale.status).toBe(200);
    expect(stale.body.equals(first.body)).toBe(true);
  });

  it('is the page only for browsers: GraphQL GETs still run', async () => {
    const response = await fetch(`${server.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json' } });
    expect(await response.json()).toEqual({ data: { __typename: 'Query' }, extensions: { position: expect.any(String) } });
  });
});

describe('GraphiQL default tabs', () => {
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
