import { parseArgs } from 'node:util';

/** What the command line asks for; a usage error is an expected outcome, printed with the usage and status 2. */
export type Invocation =
  | Readonly<{ type: 'serve' }>
  | Readonly<{ type: 'rebuild'; projections: readonly string[] }>
  | Readonly<{ type: 'migrate' }>
  | Readonly<{ type: 'help' }>
  | Readonly<{ type: 'version' }>
  | Readonly<{ type: 'usage-error'; message: string }>;

export const COMMANDS_USAGE = `Usage:
  npm start                      bundle src/ into dist/main.js (npm run build), then serve the API
  npm run rebuild [-- NAME...]   rebuild read models from the event store (all when no NAME);
                                 beside a running server, that server builds them beside
                                 its live read models and switches (README: Rebuilds)
  npm run migrate                create or upgrade the store's tables, then exit
  npm start -- --help            this text and the settings
  npm start -- --version         the version
`;

/** How a user runs each command (package.json's scripts), for hints. */
const NPM_SCRIPTS: ReadonlyMap<string, string> = new Map([
  ['serve', 'npm start'],
  ['rebuild', 'npm run rebuild'],
  ['migrate', 'npm run migrate'],
]);
const OPTIONS = { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } } as const;

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
    if (token.value !== undefined) return usageError(`option "${token.rawName}" takes no value`);
  }
  if (values.help) return { type: 'help' };
  if (values.version) return { type: 'version' };
  const [command = 'serve', ...rest] = positionals;
  switch (command) {
    case 'serve':
    case 'migrate':
      return rest.length === 0 ? { type: command } : usageError(strayArguments(command, rest));
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
