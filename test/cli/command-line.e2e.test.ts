import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToExit, type Finished } from '../support/process.js';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

/** `npm start -- ARGS` as a user types it; a server that wrongly starts is killed after 45 s. */
const npmStart = (args: readonly string[], env: Record<string, string> = {}) =>
  runToExit('npm', ['start', ...(args.length > 0 ? ['--', ...args] : [])], { HOST: '127.0.0.1', PORT: '0', ...env }, 45_000);

/** The bundle `npm start` runs, called directly (after the build in beforeAll). */
const bundle = (args: readonly string[], env: Record<string, string> = {}) =>
  runToExit(process.execPath, ['dist/main.js', ...args], { HOST: '127.0.0.1', PORT: '0', ...env }, 20_000);

const STACK_FRAME = /^\s+at /m;

function expectUsageError(result: Finished, message: string) {
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(`${message}\n\nUsage:\n`);
  expect(result.stderr).not.toMatch(STACK_FRAME);
  expect(result.stdout).not.toContain('serving GraphQL');
}

describe('command line', () => {
  const root = mkdtempSync(join(tmpdir(), 'cqrs-graphql-cmdline-'));
  const dataDir = join(root, 'data');
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  beforeAll(async () => expect((await runToExit('npm', ['run', 'build', '--silent'])).code).toBe(0), 60_000);

  it('refuses a stray word after `npm start --` with status 2 and the usage, instead of serving', async () => {
    expectUsageError(await npmStart(['migrate'], { DATA_DIR: dataDir }), 'serve takes no arguments, got "migrate"; to migrate, run npm run migrate');
    expectUsageError(await npmStart(['nonsense-word'], { DATA_DIR: dataDir }), 'serve takes no arguments, got "nonsense-word"');
    expect(existsSync(dataDir)).toBe(false);
  }, 120_000);

  it('refuses an unknown command with status 2 and the usage', async () => {
    expectUsageError(await bundle(['nonsense-word'], { DATA_DIR: dataDir }), 'unknown command "nonsense-word"');
    expect(existsSync(dataDir)).toBe(false);
  }, 120_000);

  it('refuses unknown flags in one line with status 2 and the usage, through npm start and the bundle', async () => {
    expectUsageError(await npmStart(['--bogus'], { DATA_DIR: dataDir }), 'unknown option "--bogus"');
    expectUsageError(await bundle(['rebuild', '-x'], { DATA_DIR: dataDir }), 'unknown option "-x"');
    expectUsageError(await bundle(['--help=yes']), 'option "--help" takes no value');
    expect(existsSync(dataDir)).toBe(false);
  }, 120_000);

  it('prints the version with --version', async () => {
    const viaNpm = await npmStart(['--version'], { DATA_DIR: dataDir });
    expect(viaNpm.code).toBe(0);
    expect(viaNpm.stdout).toContain(`cqrs-graphql ${version}\n`);
    expect(viaNpm.stderr).not.toMatch(STACK_FRAME);
    const direct = await bundle(['--version']);
    expect(direct).toEqual({ code: 0, stdout: `cqrs-graphql ${version}\n`, stderr: '' });
  }, 120_000);

  describe('with the port already in use', () => {
    let taken: Server;
    let port: number;
    beforeAll(async () => {
      taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      port = (taken.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

    it('says so once, in one line, and exits 1 before opening the store or starting a projection', async () => {
      const result = await npmStart([], { PORT: String(port), DATA_DIR: dataDir });
      expect(result.code).toBe(1);
      const output = `${result.stdout}\n${result.stderr}`;
      expect(result.stderr).toContain(`port ${port} is already in use on 127.0.0.1: stop what listens on 127.0.0.1:${port} or set PORT\n`);
      expect(output.match(/already in use/g)).toHaveLength(1);
      expect(output).not.toMatch(STACK_FRAME);
      expect(output).not.toContain('storage opened');
      expect(output).not.toContain('running projection here');
      expect(existsSync(dataDir)).toBe(false);
    }, 120_000);
  });

  it('refuses a DATA_DIR that is a file in one line', async () => {
    const file = join(root, 'not-a-directory');
    writeFileSync(file, 'hello\n');
    const result = await npmStart([], { DATA_DIR: file });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`DATA_DIR ${file} is a file, not a directory: point DATA_DIR at a directory\n`);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(readFileSync(file, 'utf8')).toBe('hello\n');
  }, 120_000);
});
