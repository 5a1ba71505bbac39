import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';
import { graphiqlTabs } from './graphiql-tabs.js';

const ENCODINGS = ['br', 'gzip', 'identity'] as const;
type Encoding = (typeof ENCODINGS)[number];

/** The page in each encoding, made once; `tag` names this page's content. */
type Page = Readonly<{ tag: string; bodies: Readonly<Record<Encoding, Uint8Array<ArrayBuffer>>> }>;

const compressBrotli = promisify(brotliCompress);
const compressGzip = promisify(gzip);

/**
 * GraphiQL at the GraphQL endpoint for browsers (a GET that accepts
 * text/html), bundled with the server so it works with no CDN.
 *
 * The page is 9 MB of HTML and script that never changes while the server
 * runs, so it is rendered and compressed once, at the first request (not at
 * start: a server no browser visits never loads the bundle), and kept: brotli
 * or gzip as the browser's Accept-Encoding prefers, with an ETag per
 * encoding. `Cache-Control: no-cache` lets a browser keep it but ask each
 * time; the answer to a page it holds is a bodiless 304, so a new server
 * version is never hidden behind a stale copy.
 */
export function useGraphiQLPage({ endpoint }: { endpoint: string }): Plugin {
  return {
    async onRequest({ request, url, fetchAPI, endResponse }) {
      if (request.method !== 'GET' || !request.headers.get('accept')?.includes('text/html')) return;
      if (url.pathname !== endpoint && url.pathname !== `${endpoint}/`) return;
      endResponse(answer(await load(), request, fetchAPI.Response));
    },
  };
}

// Per process, not per app: the page depends on nothing an app is built with.
let page: Promise<Page> | undefined;
const load = () =>
  (page ??= renderPage().catch((error: unknown) => {
    page = undefined; // the next request tries again
    throw error;
  }));

async function renderPage(): Promise<Page> {
  const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
  const html = Buffer.from(renderGraphiQL({ title: 'cqrs-graphql', subscriptionsProtocol: 'WS', defaultTabs: [...graphiqlTabs] }), 'utf8');
  // Brotli's top qualities are too slow on a page this size; 9 with a 16 MB window gets close to them, far faster.
  const [br, gz] = await Promise.all([
    compressBrotli(html, {
      params: {
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_QUALITY]: 9,
        [constants.BROTLI_PARAM_LGWIN]: 24,
        [constants.BROTLI_PARAM_SIZE_HINT]: html.byteLength,
      },
    }),
    compressGzip(html, { level: 9 }),
  ]);
  const tag = createHash('sha256').update(html).digest('base64url').slice(0, 32);
  // Node's Buffers are views of plain (never shared) ArrayBuffers, which is what a Response body takes.
  const bytes = (buffer: Buffer) => buffer as Uint8Array<ArrayBuffer>;
  return { tag, bodies: { br: bytes(br), gzip: bytes(gz), identity: bytes(html) } };
}

function answer(page: Page, request: Request, Response: typeof globalThis.Response): Response {
  const encoding = preferredEncoding(request.headers.get('accept-encoding'));
  const etag = etagOf(page, encoding);
  const headers: Record<string, string> = { etag, 'cache-control': 'no-cache', vary: 'Accept-Encoding' };
  if (matches(request.headers.get('if-none-match'), page)) return new Response(null, { status: 304, headers });
  const body = page.bodies[encoding];
  return new Response(body, {
    status: 200,
    headers: {
      ...headers,
      'content-type': 'text/html; charset=utf-8',
      'content-length': String(body.byteLength),
      ...(encoding === 'identity' ? {} : { 'content-encoding': encoding }),
    },
  });
}

/**
 * The compressed form the browser weighs highest in Accept-Encoding (brotli on
 * a tie), or the page as it is when it takes neither (RFC 9110 12.5.3: `q=0`
 * refuses, `*` stands for any coding not named).
 */
function preferredEncoding(acceptEncoding: string | null): Encoding {
  if (!acceptEncoding) return 'identity';
  const weights = new Map<string, number>();
  for (const entry of acceptEncoding.split(',')) {
    const [coding = '', ...parameters] = entry.split(';').map((part) => part.trim().toLowerCase());
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    weights.set(coding, q === undefined ? 1 : Number(q.slice(2)) || 0);
  }
  const weightOf = (coding: string) => weights.get(coding) ?? weights.get('*') ?? 0;
  const [best] = (['br', 'gzip'] as const).filter((coding) => weightOf(coding) > 0).sort((a, b) => weightOf(b) - weightOf(a));
  return best ?? 'identity';
}

const etagOf = (page: Page, encoding: Encoding) => `"${page.tag}${encoding === 'identity' ? '' : `-${encoding}`}"`;

/**
 * If-None-Match holds any encoding's tag of this page: the browser has this
 * content (a proxy may have changed its encoding). Weak tags compare too (RFC 9110 13.1.2).
 */
function matches(ifNoneMatch: string | null, page: Page): boolean {
  if (!ifNoneMatch) return false;
  const held = new Set(ifNoneMatch.split(',').map((tag) => tag.trim().replace(/^W\//, '')));
  return held.has('*') || ENCODINGS.some((encoding) => held.has(etagOf(page, encoding)));
}
