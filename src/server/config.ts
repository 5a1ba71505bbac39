import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import type { StorageOptions } from '../storage.js';
import { readTrustedDocuments } from './trusted-documents.js';
import { PREFLIGHT_PROOF_HEADERS } from './csrf.js';
import { masterKeyOf } from '../stores/master-key-source.js';

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const isPublicKeyPem = (pem: string) => {
  try {
    return createPublicKey(pem).type === 'public';
  } catch {
    return false;
  }
};

/** Comma-separated origins such as `https://app.example.com`, or `*`. */
const origins = z
  .string()
  .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
  .pipe(z.array(z.union([z.literal('*'), z.url({ protocol: /^https?$/ }).transform((url) => new URL(url).origin)])).min(1));

/** Comma-separated HTTP header names, kept in lower case. */
const headerNames = z
  .string()
  .transform((value) => value.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[!#$%&'*+.^_`|~0-9a-z-]+$/, 'must be HTTP header names')).min(1));

/** Every request header the clients this API expects may send cross-origin. */
export const DEFAULT_CORS_ALLOWED_HEADERS = [
  'content-type',
  'accept',
  'authorization',
  'x-request-id',
  ...PREFLIGHT_PROOF_HEADERS,
  'apollographql-client-name',
  'apollographql-client-version',
  'traceparent',
  'tracestate',
  'baggage',
  'last-event-id',
  'x-min-position',
  'if-none-match',
] as const;

/**
 * Every setting, its default and what it means: `--help` prints this table and README.md mirrors it.
 * `secret` settings are never echoed in error messages.
 */
export const settings = {
  HOST: { schema: z.string().min(1).default('127.0.0.1'), help: 'Interface to listen on.' },
  PORT: { schema: int(0, 65535).default(4000), help: 'TCP port; 0 picks a free one.' },
  DATA_DIR: {
    schema: z.string().min(1).default('./data'),
    help: 'Where the embedded SQLite store keeps events.db, read.db and snapshots.db; created on first start. Unused with DATABASE_URL.',
  },
  DATABASE_URL: {
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection URL')
      .optional(),
    help: 'PostgreSQL connection URL (postgres://user:password@host:port/database). Set it to keep events and read models in PostgreSQL, shared by any number of instances; unset, the embedded SQLite store in DATA_DIR is used.',
  },
  MASTER_KEY_FILE: {
    schema: z.string().min(1).optional(),
    help: 'File holding the master key (32 random bytes, raw or base64: `openssl rand -base64 32`) that seals the per-user keys of personal fields. Required with DATABASE_URL (or MASTER_KEY); on SQLite, unset means DATA_DIR/master.key, generated on first start (back it up apart from the data).',
  },
  MASTER_KEY: {
    schema: z
      .string()
      .refine((value) => Buffer.from(value.trim(), 'base64').length === 32, 'must be 32 bytes in base64')
      .optional(),
    secret: true,
    help: 'The master key itself, in base64, instead of MASTER_KEY_FILE.',
  },
  PG_POOL_SIZE: {
    schema: int(3, 1000).default(10),
    help: "Size of each instance's PostgreSQL connection pool; each projection the instance runs holds one pooled connection for its lease. One more connection, outside the pool, LISTENs for appends and checkpoint moves.",
  },
  DURABILITY: {
    schema: z.enum(['process', 'fsync']).default('process'),
    help: 'SQLite only. "process": an acknowledged write survives a crash of the server process. "fsync": it also survives power loss (fsync per commit). PostgreSQL follows its own synchronous_commit setting.',
  },
  READ_YOUR_WRITES_TIMEOUT_MS: {
    schema: int(0, 60_000).default(2000),
    help: 'How long a mutation waits for the projections to process its events before answering from the event stream instead.',
  },
  PROJECTION_POLL_INTERVAL_MS: {
    schema: int(10, 60_000).default(1000),
    help: 'Fallback poll of the event store by projections and subscriptions when no append signal arrives.',
  },
  PROJECTION_MAX_RETRIES: {
    schema: int(0, 1000).default(10),
    help: 'Retries of an event a projection fails on (backoff from 200 ms, doubling, at most 30 s apart) before the projection halts at it; 0 halts at the first failure.',
  },
  SNAPSHOT_EVERY: {
    schema: int(0, 1_000_000).default(100),
    help: "Keep a snapshot of a stream's folded state every this many events, so commands and time travel (user(asOf:)) read at most about this many events of a long stream; 0 turns snapshots off. Snapshots are a cache: deleting them changes no answer.",
  },
  IDEMPOTENCY_RETENTION_SECONDS: {
    schema: int(1, 366 * 86_400).default(86_400),
    help: 'How long an idempotency key answers with its first outcome (86400: 24 hours). Afterwards the key is free: reusing it is a new request. Expired records are deleted in the background, in small batches.',
  },
  RESPONSE_CACHE: {
    schema: flag.default(true),
    help: 'Keep query answers in memory, per document, variables and viewer scope; projections drop exactly the answers their events change, so none is ever stale. false: every query runs.',
  },
  RESPONSE_CACHE_MAX_BYTES: {
    schema: int(64 * 1024, 2 ** 40).default(16 * 1024 * 1024),
    help: 'Memory the response cache may hold (estimated from the answers, plus its sketch of how often each request was asked); the least recently used answers go first, and once it is nearly full a miss is kept only if asked more often lately than the answer it would displace.',
  },
  SHUTDOWN_TIMEOUT_MS: {
    schema: int(0, 600_000).default(10_000),
    help: 'On SIGTERM/SIGINT, how long in-flight requests may take before connections are cut.',
  },
  NODE_ENV: {
    schema: z.string().optional(),
    help: '"production" turns GraphiQL and introspection off unless GRAPHIQL / INTROSPECTION turn them on.',
  },
  GRAPHIQL: { schema: flag.optional(), help: 'Serve GraphiQL at /graphql to browsers. Unset: on, except with NODE_ENV=production.' },
  METRICS: {
    schema: flag.default(true),
    help: 'Serve Prometheus metrics at /metrics (on the API port: keep it from the public at the proxy).',
  },
  INTROSPECTION: {
    schema: flag.optional(),
    help: 'Answer introspection (__schema, __type) and suggest field names in errors. Unset: on, except with NODE_ENV=production.',
  },
  CORS_ORIGINS: {
    schema: origins.optional(),
    help: 'Browser origins allowed to call the API cross-origin, comma-separated (https://app.example.com), or * for any. Unset: none.',
  },
  CORS_ALLOWED_HEADERS: {
    schema: headerNames.default([...DEFAULT_CORS_ALLOWED_HEADERS]),
    help: 'Request headers an allowed origin may send, comma-separated; replaces the default list (what Apollo Client, urql, Relay and graphql-sse send, W3C trace context, and the CSRF headers).',
  },
  CORS_EXPOSED_HEADERS: {
    schema: headerNames.default(['x-request-id', 'x-position']),
    help: 'Response headers an allowed origin may read, comma-separated.',
  },
  CORS_MAX_AGE_SECONDS: {
    schema: int(0, 86_400).default(7200),
    help: 'How long browsers may cache a preflight answer (Chromium caps it at 7200); 0 sends no Access-Control-Max-Age.',
  },
  MAX_BODY_BYTES: {
    schema: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
    help: 'Largest HTTP request body and websocket message; a larger body is refused with 413 before it is read.',
  },
  MAX_DEPTH: { schema: int(1, 100).default(8), help: 'Deepest selection nesting an operation may have (introspection excepted).' },
  MAX_ALIASES: { schema: int(0, 10_000).default(100), help: 'Most aliased fields in one operation.' },
  MAX_COST: {
    schema: int(1, 10_000_000).default(10_000),
    help: 'Highest estimated cost of one operation (graphql-armor: objects 2, scalars 1, x1.5 per level, x first/last).',
  },
  MAX_TOKENS: { schema: int(1, 1_000_000).default(2000), help: 'Most lexical tokens in one GraphQL document.' },
  MAX_DIRECTIVES: { schema: int(0, 10_000).default(20), help: 'Most directives in one operation.' },
  MAX_SUBSCRIPTIONS_PER_CONNECTION: {
    schema: int(1, 10_000).default(100),
    help: 'Most subscriptions one websocket connection may run at once; more are refused with an error.',
  },
  SUBSCRIPTION_MAX_BUFFERED_BYTES: {
    schema: int(16 * 1024, 1024 * 1024 * 1024).default(1024 * 1024),
    help: 'Most bytes of events that may wait in the server for a websocket subscriber (unsent on its socket, or held until its client confirms reading what it was written) before its subscription ends with a RESUME_AFTER error naming the position to resubscribe after. A subscriber is written at most this far past the last ping its client answered (a read receipt): this bounds both the memory and the writes a stalled client costs.',
  },
  SUBSCRIPTION_STALL_TIMEOUT_MS: {
    schema: int(0, 3_600_000).default(10_000),
    help: 'A websocket subscriber that leaves a ping sent after its events unanswered this long ends with the same RESUME_AFTER error: a client that stopped reading after too few bytes to reach the byte limit; 0: never.',
  },
  AUTH_JWT_SECRET: {
    schema: z.string().min(32, 'must be at least 32 characters').optional(),
    help: 'Turns authentication on: HMAC secret (HS256/384/512, at least 32 characters) that bearer tokens are signed with. Unset (and no key below): the API is open.',
    secret: true,
  },
  AUTH_JWT_PUBLIC_KEY: {
    schema: z
      .string()
      // Many deployment tools cannot put newlines in a variable and write "\n" instead.
      .transform((pem) => pem.replaceAll('\\n', '\n'))
      .refine(isPublicKeyPem, 'must be a PEM public key (-----BEGIN PUBLIC KEY-----)')
      .optional(),
    help: 'Turns authentication on: PEM public key (RSA, EC or Ed25519) that verifies bearer tokens; newlines may be written as \\n.',
  },
  AUTH_JWKS_URL: {
    schema: z.url({ protocol: /^https?$/ }).optional(),
    help: 'Turns authentication on: URL of the JSON Web Key Set that verifies bearer tokens (fetched and cached).',
  },
  AUTH_JWT_ISSUER: { schema: z.string().min(1).optional(), help: 'When set, tokens must carry this "iss".' },
  AUTH_JWT_AUDIENCE: { schema: z.string().min(1).optional(), help: 'When set, tokens must name this "aud".' },
  AUTH_ROLES_CLAIM: { schema: z.string().min(1).default('roles'), help: 'Token claim holding the roles: a string or an array of strings.' },
  AUTH_ADMIN_ROLE: { schema: z.string().min(1).default('admin'), help: 'Role (in AUTH_ROLES_CLAIM) that may update any user and see every email.' },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    help: 'Log level of the JSON logs on stdout.',
  },
  // Persisted operations and batching (persisted-operations.ts, batching.ts).
  AUTOMATIC_PERSISTED_QUERIES: {
    schema: flag.optional(),
    help: "Apollo's automatic persisted queries: clients may send a query's SHA-256 instead of its text once registered. Unset: on, unless TRUSTED_DOCUMENTS_FILE is set.",
  },
  APQ_MAX_ENTRIES: {
    schema: int(1, 1_000_000).default(1000),
    help: 'Most automatic persisted queries remembered; the least recently used is forgotten first (its client registers it again).',
  },
  TRUSTED_DOCUMENTS_FILE: {
    schema: z
      .string()
      .min(1)
      .transform((path, context) => {
        try {
          return readTrustedDocuments(path);
        } catch (error) {
          context.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      })
      .optional(),
    help: "JSON manifest of the only operations the server runs (GraphQL Code Generator's persisted-documents.json, or an Apollo persisted query manifest); clients send their ids. Unset: any operation runs.",
  },
  MAX_BATCH_SIZE: {
    schema: int(0, 1000).default(10),
    help: 'Most operations in one batched request (a JSON array, as Apollo BatchHttpLink sends); 0 turns batching off.',
  },
} as const;

type Settings = typeof settings;
const AUTH_KEYS = ['AUTH_JWT_SECRET', 'AUTH_JWT_PUBLIC_KEY', 'AUTH_JWKS_URL'] as const;

const configSchema = z
  .object(Object.fromEntries(Object.entries(settings).map(([name, s]) => [name, s.schema])) as { [K in keyof Settings]: Settings[K]['schema'] })
  .refine((c) => AUTH_KEYS.filter((key) => c[key] !== undefined).length <= 1, {
    path: ['AUTH_JWT_SECRET'],
    message: `set at most one of ${AUTH_KEYS.join(', ')}`,
  })
  .refine((c) => AUTH_KEYS.some((key) => c[key] !== undefined) || (c.AUTH_JWT_ISSUER === undefined && c.AUTH_JWT_AUDIENCE === undefined), {
    path: ['AUTH_JWT_ISSUER'],
    message: `AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE need a key to verify tokens with (${AUTH_KEYS.join(', ')})`,
  })
  .refine((c) => !(c.MASTER_KEY && c.MASTER_KEY_FILE), { path: ['MASTER_KEY'], message: 'set MASTER_KEY or MASTER_KEY_FILE, not both' })
  .refine((c) => !(c.TRUSTED_DOCUMENTS_FILE && c.AUTOMATIC_PERSISTED_QUERIES), {
    path: ['AUTOMATIC_PERSISTED_QUERIES'],
    message: 'cannot be on with TRUSTED_DOCUMENTS_FILE: registering queries would let any operation in',
  })
  .transform((c) => {
    const production = c.NODE_ENV === 'production';
    return { ...c, GRAPHIQL: c.GRAPHIQL ?? !production, INTROSPECTION: c.INTROSPECTION ?? !production };
  });

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {}

const isSecret = (name: string) => (settings as Record<string, { secret?: boolean }>)[name]?.secret === true;

/** Reads settings from the environment; empty values count as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw = Object.fromEntries(Object.keys(settings).map((name) => [name, env[name] === '' ? undefined : env[name]]));
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const shown = isSecret(name) ? '(hidden)' : JSON.stringify(raw[name] ?? '');
      return `  ${issue.path.join('.')}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}\nRun with --help to list the settings.`);
  }
  return parsed.data;
}

export function configHelp(): string {
  const rows = Object.entries(settings).map(([name, s]) => {
    const fallback = s.schema.safeParse(undefined);
    const shown = fallback.success && fallback.data !== undefined ? String(fallback.data) : '(unset)';
    return `  ${name.padEnd(34)} default ${shown.padEnd(10)} ${s.help}`;
  });
  return rows.join('\n');
}

/** Which store the configuration selects. */
export function storageOptions(config: Config): Exclude<StorageOptions, { kind: 'memory' }> {
  // A server refuses a store whose older events still hold personal fields in plaintext; `migrate` and `rebuild` do not.
  const masterKey = { masterKey: masterKeyOf({ base64: config.MASTER_KEY, file: config.MASTER_KEY_FILE }), refuseUnsealedEvents: true };
  return config.DATABASE_URL
    ? { kind: 'postgres', url: config.DATABASE_URL, poolSize: config.PG_POOL_SIZE, ...masterKey }
    : { kind: 'sqlite', dataDir: config.DATA_DIR, durability: config.DURABILITY, ...masterKey };
}
