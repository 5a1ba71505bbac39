import { parseArgs } from 'node:util';

/** What the command line asks for; a usage error is an expected outcome, printed with the usage and status 2. */
export type Invocation =
  | Readonly<{ type: 'serve' }>
  | Readonly<{ type: 'rebuild'; projections: readonly string[] }>
  | Readonly<{ type: 'migrate'; batchSize?: number }>
  | Readonly<{ type: 'help' }>
  | Readonly<{ type: 'version' }>
  | Readonly<{ type: 'usage-error'; message: string }>;

export const COMMANDS_USAGE = `Usage:
  npm start                      bundle src/ into dist/main.js (npm run build), then serve the API
  npm run rebuild [-- NAME...]   rebuild read models from the event store (all when no NAME);
                                 beside a running server, that server builds them beside
                                 its live read models and switches (README: Rebuilds)
  npm run migrate [-- --batch-size N]
                                 create or upgrade the store's tables, seal the personal fields
                                 of events written before sealing (N events per transaction,
                                 default 500), then exit
  npm start -- --help            this text and the settings
  npm start -- --version         the version
`;

/** How a user runs each command (package.json's scripts), for hints. */
const NPM_SCRIPTS: ReadonlyMap<string, string> = new Map([
  ['serve', 'npm start'],
  ['rebuild', 'npm run rebuild'],
  ['migrate', 'npm run migrate'],
]);
const OPTIONS = { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' }, 'batch-size': { type: 'string' } } as const;
const VALUED: ReadonlySet<string> = new Set(['batch-size']);

/**
 * Reads `main.js [COMMAND] [ARGS...] [--help | --version]`. `npm start` runs
 * `main.js serve`, so a word typed after `npm start --` arrives as an argument
 * of `serve`: refused rather than ignored, so `npm start -- migrate` cannot
 * quietly start a server instead of migrating.
 */
export function parseCommandLine(argv: readonly string[]): Invocation {
  const { values, positionals, tokens } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (!(token.name in OPTIONS)) return usageError(`unknown option "${token.rawName}"`);
    if (VALUED.has(token.name) ? token.value === undefined : token.value !== undefined) {
      return usageError(VALUED.has(token.name) ? `option "${token.rawName}" needs a value` : `option "${token.rawName}" takes no value`);
    }
  }
  if (values.help) return { type: 'help' };
  if (values.version) return { type: 'version' };
  const [command = 'serve', ...rest] = positionals;
  const batchSize = values['batch-size'];
  if (batchSize !== undefined && command !== 'migrate') return usageError('only migrate takes --batch-size');
  switch (command) {
    case 'serve':
      return rest.length === 0 ? { type: command } : usageError(strayArguments(command, rest));
    case 'migrate': {
      if (rest.length > 0) return usageError(strayArguments(command, rest));
      if (batchSize === undefined) return { type: 'migrate' };
      const size = Number(batchSize);
      return Number.isInteger(size) && size >= 1 && size <= 100_000
        ? { type: 'migrate', batchSize: size }
        : usageError(`--batch-size takes a whole number from 1 to 100000, got "${String(batchSize)}"`);
    }
    case 'rebuild':
      return { type: 'rebuild', projections: rest };
    default:
      return usageError(`unknown command "${command}"`);
  }
}

function strayArguments(command: string, rest: readonly string[]): string {
  const script = NPM_SCRIPTS.get(rest[0] ?? '');
  const hint = script ? `; to ${rest[0]}, run ${script}` : '';
  return `${command} takes no arguments, got ${rest.map((word) => `"${word}"`).join(' ')}${hint}`;
}

function usageError(message: string): Invocation {
  return { type: 'usage-error', message };
}
