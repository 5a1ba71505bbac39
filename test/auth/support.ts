import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, type JWK, type JWTPayload } from 'jose';
import type { KeyObject } from 'node:crypto';

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'cqrs-graphql';

type Key = Uint8Array | KeyObject | CryptoKey;

export type TokenOptions = Readonly<{
  alg?: string;
  kid?: string;
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative: already expired. `null`: no `exp` claim. */
  expiresIn?: number | null;
  claims?: JWTPayload;
}>;

/** A real signed JWT, as an identity provider would issue it. */
export async function signToken(key: Key, subject: string | undefined, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({ ...options.claims })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', ...(options.kid ? { kid: options.kid } : {}) })
    .setIssuedAt(now - 60)
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE);
  if (subject !== undefined) jwt = jwt.setSubject(subject);
  const expiresIn = options.expiresIn === undefined ? 600 : options.expiresIn;
  if (expiresIn !== null) jwt = jwt.setExpirationTime(now + expiresIn);
  return jwt.sign(key);
}

export const bearer = (token: string) => `Bearer ${token}`;

/** A JWT with `alg: none` and no signature: must never be accepted. */
export function unsignedToken(subject: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: subject, iss: ISSUER, aud: AUDIENCE, exp: now + 600, roles: ['admin'] })}.`;
}

/** A tiny JWKS endpoint on loopback, as an identity provider publishes its keys. */
export async function serveJwks(
  keys: readonly JWK[],
): Promise<{ url: string; requests: () => number; setDown: (down: boolean) => void; close: () => Promise<void> }> {
  let requests = 0;
  let down = false;
  const server: Server = createServer((_request, response) => {
    requests += 1;
    if (down) {
      response.writeHead(502).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => requests,
    setDown: (value) => void (down = value),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
