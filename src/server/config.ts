import { z } from 'zod';

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every setting, its default and what it means: `--help` prints this table and README.md mirrors it. */
export const settings = {
  HOST: { schema: z.string().min(1).default('127.0.0.1'), help: 'Interface to listen on.' },
  PORT: { schema: int(0, 65535).default(4000), help: 'TCP port; 0 picks a free one.' },
  DATA_DIR: { schema: z.string().min(1).default('./data'), help: 'Where the embedded SQLite store keeps events.db and read.db; created on first start.' },
  DATABASE_URL: {
    schema: z.string().optional(),
    help: 'Reserved for the PostgreSQL store (not available yet); must be unset.',
  },
  DURABILITY: {
    schema: z.enum(['process', 'fsync']).default('process'),
    help: '"process": an acknowledged write survives a crash of the server process. "fsync": it also survives power loss (fsync per commit).',
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
  SHUTDOWN_TIMEOUT_MS: {
    schema: int(0, 600_000).default(10_000),
    help: 'On SIGTERM/SIGINT, how long in-flight requests may take before connections are cut.',
  },
  GRAPHIQL: { schema: flag.default(true), help: 'Serve GraphiQL at /graphql to browsers.' },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    help: 'Log level of the JSON logs on stdout.',
  },
} as const;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: z.output<Settings[K]['schema']> };

const configSchema = z
  .object(Object.fromEntries(Object.entries(settings).map(([name, s]) => [name, s.schema])) as { [K in keyof Settings]: Settings[K]['schema'] })
  .refine((c) => !c.DATABASE_URL, {
    path: ['DATABASE_URL'],
    message: 'the PostgreSQL store is not available yet; unset DATABASE_URL to use the embedded SQLite store',
  });

export class ConfigError extends Error {}

/** Reads settings from the environment; empty values count as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw = Object.fromEntries(Object.keys(settings).map((name) => [name, env[name] === '' ? undefined : env[name]]));
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}=${JSON.stringify(raw[String(issue.path[0])] ?? '')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}\nRun with --help to list the settings.`);
  }
  return parsed.data as Config;
}

export function configHelp(): string {
  const rows = Object.entries(settings).map(([name, s]) => {
    const fallback = s.schema.safeParse(undefined);
    const shown = fallback.success && fallback.data !== undefined ? String(fallback.data) : '(unset)';
    return `  ${name.padEnd(30)} default ${shown.padEnd(10)} ${s.help}`;
  });
  return rows.join('\n');
}
