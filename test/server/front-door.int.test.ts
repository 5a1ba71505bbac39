import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Position } from '../../src/kernel/position.js';
import { createFrontDoor } from '../../src/server/response-cache/front-door.js';
import { createTaggedCache, type TaggedCache } from '../../src/server/response-cache/tagged-cache.js';

const BODY = JSON.stringify({ query: '{ users(first: 1) { edges { node { id } } } }' });
/** The request key the front door builds for BODY from fetch: method and URL, token, Accept, Origin, content type, body. */
const KEY = `POST /graphql\n\n*/*\n\napplication/json\n${BODY}`;
const AT = '0000000000000007' as Position;

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A real HTTP server whose app answers "from the app", with the front door in front of it. */
async function serve(cache: TaggedCache, warnings: unknown[] = []) {
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
  const door = createFrontDoor({
    cache,
    projector: { position: () => AT },
    positions: { parsePosition: (text) => ({ ok: true, value: text as Position }), formatPosition: (position) => position },
    authenticator: { viewerFor: async () => ({ ok: true, value: { type: 'everyone' } }) },
    logger,
    maxBodyBytes: 10_000,
    endpoint: '/graphql',
  });
  const app: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    const body = (req as { body?: Buffer }).body;
    if (body) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(`from the app: ${body.toString()}`);
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`from the app: ${Buffer.concat(chunks).toString()}`));
  };
  server = createServer(door.listener(app));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return (init: RequestInit = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, ...init });
}

describe('response cache front door', () => {
  it('answers a hit itself, with the position it reflects', async () => {
    const cache = createTaggedCache({ maxBytes: 1_000_000 });
    cache.set(KEY, { body: ['{"data":{"cached":true},"extensions":{"position":"', '"}}'], headers: ['content-type', 'application/json'], etag: undefined, session: 'everyone' }, { startedAt: 0, tags: new Set(['users']) });
    const response = await (await serve(cache))();
    expect(response.headers.get('x-position')).toBe(AT);
    expect(await response.json()).toEqual({ data: { cached: true }, extensions: { position: AT } });
  });

  it('hands a miss to the app with the body it read', async () => {
    const response = await (await serve(createTaggedCache({ maxBytes: 1_000_000 })))();
    expect(await response.text()).toBe(`from the app: ${BODY}`);
  });

  it('turns a cache that throws into a miss: the app answers, and a warning is logged', async () => {
    const broken: TaggedCache = {
      ...createTaggedCache({ maxBytes: 1_000_000 }),
      get: () => {
        throw new Error('cache lost its mind');
      },
    };
    const warnings: { msg?: string }[] = [];
    const response = await (await serve(broken, warnings))();
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(`from the app: ${BODY}`);
    expect(warnings.map((line) => line.msg)).toContain('response cache could not answer; handing the request on');
  });

  it('hands a hit it may not send to the app: a position header the projections have not reached', async () => {
    const cache = createTaggedCache({ maxBytes: 1_000_000 });
    cache.set(KEY, { body: ['{"data":{"cached":true},"extensions":{"position":"', '"}}'], headers: ['content-type', 'application/json'], etag: undefined, session: 'everyone' }, { startedAt: 0, tags: new Set(['users']) });
    const response = await (await serve(cache))({ headers: { 'content-type': 'application/json', 'x-min-position': '0000000000000009' } });
    expect(await response.text()).toBe(`from the app: ${BODY}`);
  });
});
