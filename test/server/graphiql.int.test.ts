/**
 * The GraphiQL page as the app serves it, in process (`app.fetch`): served to
 * browsers with every asset inline, off with GRAPHIQL=false, its default tabs
 * in it. The page on the wire (encodings, ETags, 304) and the tabs run against
 * a real server are in graphiql.e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphiqlTabs } from '../../src/server/graphiql-tabs.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';

const pageOf = async (app: InProcessApp) => (await app.fetch(app.url, { headers: { accept: 'text/html' } })).text();

// One app for the file: each renders and compresses the 9 MB page once, at its first page request.
let api: InProcessApp;
beforeAll(async () => {
  api = await createInProcessApp();
});
afterAll(() => api.close());

describe('GraphiQL', () => {
  it('is served to browsers with every asset inline (no CDN), set to run subscriptions over the websocket', async () => {
    const response = await api.fetch(api.url, { headers: { accept: 'text/html' } });
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
    const plain = await createInProcessApp({ env: { GRAPHIQL: 'false' } });
    try {
      expect(await pageOf(plain)).not.toContain('renderYogaGraphiQL');
    } finally {
      await plain.close();
    }
  });
});

describe('GraphiQL default tabs', () => {
  it('are in the page, the create first', async () => {
    const html = await pageOf(api);
    expect(html).toContain('"defaultTabs"');
    for (const tab of graphiqlTabs) expect(html).toContain(JSON.stringify(tab.query).slice(1, 60));
    expect(graphiqlTabs[0]!.query).toMatch(/mutation CreateUser/);
  });
});
