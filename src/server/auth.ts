import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { fail, ok, type Result } from '../kernel/result.js';
import { readIdArgument } from '../graphql/global-id.js';
import type { Viewer } from '../graphql/viewer.js';
import type { Config } from './config.js';

/** A token that does not prove who sent it: the client's mistake (or forgery), answered 401. */
export type InvalidToken = Readonly<{ type: 'InvalidToken'; message: string }>;
/** The JWKS endpoint could not be read: no one can be authenticated for now (503, not the client's fault). */
export type KeysUnavailable = Readonly<{ type: 'KeysUnavailable'; message: string; cause: unknown }>;
export type AuthFailure = InvalidToken | KeysUnavailable;

export type Authenticator = Readonly<{
  enabled: boolean;
  /**
   * The viewer behind an `Authorization` value ("Bearer <jwt>"; graphql-ws
   * clients send the same string as `connectionParams.authorization`).
   * No value: `anonymous` (or `everyone` when authentication is off).
   */
  viewerFor: (authorization: unknown) => Promise<Result<Viewer, AuthFailure>>;
}>;

type AuthConfig = Pick<
  Config,
  'AUTH_JWT_SECRET' | 'AUTH_JWT_PUBLIC_KEY' | 'AUTH_JWKS_URL' | 'AUTH_JWT_ISSUER' | 'AUTH_JWT_AUDIENCE' | 'AUTH_ROLES_CLAIM' | 'AUTH_ADMIN_ROLE'
>;

const EVERYONE: Viewer = { type: 'everyone' };
const ANONYMOUS: Viewer = { type: 'anonymous' };
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;
/** A JWT far larger than this is no token of ours; refused before any crypto. */
const MAX_TOKEN_LENGTH = 8192;

/**
 * Verifies bearer JWTs with jose against the one key source configured:
 * an HMAC secret, a PEM public key, or a remote JWKS. The algorithms follow
 * the key (HMAC only for a secret), so a token cannot pick a weaker one.
 */
export function createAuthenticator(config: AuthConfig): Authenticator {
  const key = verificationKey(config);
  if (!key) return { enabled: false, viewerFor: async () => ok(EVERYONE) };
  const algorithms = typeof key === 'function' ? undefined : algorithmsFor(key);
  const options: JWTVerifyOptions = {
    requiredClaims: ['sub', 'exp'],
    ...(algorithms ? { algorithms } : {}),
    ...(config.AUTH_JWT_ISSUER ? { issuer: config.AUTH_JWT_ISSUER } : {}),
    ...(config.AUTH_JWT_AUDIENCE ? { audience: config.AUTH_JWT_AUDIENCE } : {}),
  };
  const verify = (token: string) =>
    typeof key === 'function' ? jwtVerify(token, key, options) : jwtVerify(token, key, options);

  return {
    enabled: true,
    viewerFor: async (authorization) => {
      if (authorization === undefined || authorization === null || authorization === '') return ok(ANONYMOUS);
      if (typeof authorization === 'string' && authorization.length > MAX_TOKEN_LENGTH) return fail(invalid('The token is too long.'));
      const match = typeof authorization === 'string' ? BEARER.exec(authorization) : null;
      if (!match) return fail(invalid('Authorization must be "Bearer <token>".'));
      try {
        const { payload } = await verify(match[1]!);
        return ok(viewerOf(payload, config));
      } catch (error) {
        const refused = refusal(error);
        if (refused) return fail(refused);
        if (typeof key === 'function') return fail(keysUnavailable(error));
        throw error;
      }
    },
  };
}

function verificationKey(config: AuthConfig): KeyObject | JWTVerifyGetKey | undefined {
  if (config.AUTH_JWT_SECRET) return createSecretKey(Buffer.from(config.AUTH_JWT_SECRET, 'utf8'));
  if (config.AUTH_JWT_PUBLIC_KEY) return createPublicKey(config.AUTH_JWT_PUBLIC_KEY);
  if (config.AUTH_JWKS_URL) return createRemoteJWKSet(new URL(config.AUTH_JWKS_URL));
  return undefined;
}

/**
 * The algorithms a key can verify. A token naming any other is refused
 * before the key is used, so an HS256 token "signed" with the public key's
 * text (algorithm confusion) never reaches the crypto. (A JWKS's keys carry
 * their own kty/alg, which jose matches itself.)
 */
function algorithmsFor(key: KeyObject): string[] {
  if (key.type === 'secret') return ['HS256', 'HS384', 'HS512'];
  const { asymmetricKeyType, asymmetricKeyDetails } = key;
  switch (asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec':
      return [EC_ALGORITHMS[asymmetricKeyDetails?.namedCurve ?? ''] ?? 'unsupported-curve'];
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      throw new Error(`AUTH_JWT_PUBLIC_KEY: unsupported key type ${String(asymmetricKeyType)}`);
  }
}

const EC_ALGORITHMS: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

function viewerOf(payload: JWTPayload, config: AuthConfig): Viewer {
  const roles = payload[config.AUTH_ROLES_CLAIM];
  const admin = roles === config.AUTH_ADMIN_ROLE || (Array.isArray(roles) && roles.includes(config.AUTH_ADMIN_ROLE));
  return { type: 'user', subject: userIdOfSubject(payload.sub!), admin, expiresAt: payload.exp === undefined ? null : new Date(payload.exp * 1000) };
}

const invalid = (message: string): InvalidToken => ({ type: 'InvalidToken', message });
/** Anything else the remote key set throws (timeout, connection refused, not a JWKS) is its outage. */
const keysUnavailable = (cause: unknown): KeysUnavailable => ({
  type: 'KeysUnavailable',
  message: 'The keys that verify tokens cannot be fetched right now; try again later.',
  cause,
});

/** jose's reasons a token is refused, in words for the client; anything else is not the token's fault. */
function refusal(error: unknown): InvalidToken | undefined {
  if (error instanceof errors.JWTExpired) return invalid('The token has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) return invalid(`The token's "${error.claim}" claim is ${describeReason(error.reason)}.`);
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid('The token signature is not valid.');
  if (error instanceof errors.JWKSNoMatchingKey) return invalid('The token was not signed by a known key.');
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return invalid('The token is malformed or uses an algorithm this server does not accept.');
  }
  return undefined;
}

function describeReason(reason: string): string {
  switch (reason) {
    case 'missing':
      return 'missing';
    case 'check_failed':
    case 'mismatch':
      return 'not accepted here';
    default:
      return 'invalid';
  }
}

/**
 * A token's `sub` names a user by the user id, bare or as the global id the
 * API returns (`User:<id>`); rules compare bare ids.
 */
function userIdOfSubject(subject: string): string {
  const read = readIdArgument(subject, 'User');
  return read.type === 'own' ? read.id : subject;
}
