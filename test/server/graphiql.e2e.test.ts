import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

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
