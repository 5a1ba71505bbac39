import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli.js';

describe('parseCommandLine', () => {
  it.each([
    [[], { type: 'serve' }],
    [['serve'], { type: 'serve' }],
    [['migrate'], { type: 'migrate' }],
    [['migrate', '--batch-size', '20'], { type: 'migrate', batchSize: 20 }],
    [['migrate', '--batch-size=1'], { type: 'migrate', batchSize: 1 }],
    [['rebuild'], { type: 'rebuild', projections: [] }],
    [['rebuild', 'users'], { type: 'rebuild', projections: ['users'] }],
    [['serve', '--help'], { type: 'help' }],
    [['-h'], { type: 'help' }],
    [['serve', '--version'], { type: 'version' }],
  ])('reads %j', (argv, expected) => {
    expect(parseCommandLine(argv)).toEqual(expected);
  });

  it.each([
    [['serve', 'migrate'], 'serve takes no arguments, got "migrate"; to migrate, run npm run migrate'],
    [['serve', 'serve'], 'serve takes no arguments, got "serve"; to serve, run npm start'],
    [['serve', 'nonsense', 'words'], 'serve takes no arguments, got "nonsense" "words"'],
    [['serve', 'constructor'], 'serve takes no arguments, got "constructor"'],
    [['migrate', 'now'], 'migrate takes no arguments, got "now"'],
    [['migrate', '--batch-size', '0'], '--batch-size takes a whole number from 1 to 100000, got "0"'],
    [['migrate', '--batch-size=lots'], '--batch-size takes a whole number from 1 to 100000, got "lots"'],
    [['migrate', '--batch-size'], 'option "--batch-size" needs a value'],
    [['serve', '--batch-size', '5'], 'only migrate takes --batch-size'],
    [['nonsense'], 'unknown command "nonsense"'],
    [['serve', '--bogus'], 'unknown option "--bogus"'],
    [['-x'], 'unknown option "-x"'],
    [['--version=2'], 'option "--version" takes no value'],
    // An unknown flag is refused even beside --help: a typo must not pass unseen.
    [['--help', '--bogus'], 'unknown option "--bogus"'],
  ])('refuses %j as a usage error', (argv, message) => {
    expect(parseCommandLine(argv)).toEqual({ type: 'usage-error', message });
  });
});
