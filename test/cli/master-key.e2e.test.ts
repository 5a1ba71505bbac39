/**
 * The master key at start (issue 21): SQLite generates one into DATA_DIR with
 * a warning; a missing key on PostgreSQL, a wrong key, or a store whose older
 * events are not sealed makes `serve` refuse in one line, before it writes
 * anything. Real server processes, as an operator starts them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { keyIdOf, masterKey } from '../../src/kernel/crypto/master-key.js';
import { createSqliteEventStore } from '../../src/stores/sqlite/event-store.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { runToExit, spawnServer } from '../support/process.js';

const root = mkdtempSync(join(tmpdir(), 'cqrs-master-key-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** `serve` from source, to its end: a server that wrongly starts is killed after 30 s ('timeout'). */
const serve = (env: Record<string, string>) =>
  runToExit(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', MASTER_KEY: '', MASTER_KEY_FILE: '', ...env }, 30_000);

const fingerprint = (dataDir: string) =>
  Object.fromEntries(
    readdirSync(dataDir)
      .filter((name) => name !== 'lock')
      .sort()
      .map((name) => [name, createHash('sha256').update(readFileSync(join(dataDir, name))).digest('hex')]),
  );

async function stopCleanly(server: Awaited<ReturnType<typeof spawnServer>>) {
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

describe('the master key on SQLite', () => {
  it('is generated into DATA_DIR on first start, with a warning to keep it apart; a wrong key is then refused before any write', async () => {
    const dataDir = join(root, 'generated');
    const first = await spawnServer(dataDir, { MASTER_KEY: '', MASTER_KEY_FILE: '' });
    await stopCleanly(first);
    const keyFile = join(dataDir, 'master.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const generated = masterKey(Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64'), 'file');
    expect(first.output()).toContain(`WARNING: generated a master key at ${keyFile} (id ${keyIdOf(generated)}). Back it up APART from the data`);

    const before = fingerprint(dataDir);
    const other = randomBytes(32);
    const refused = await serve({ DATA_DIR: dataDir, MASTER_KEY: other.toString('base64') });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `the master key from MASTER_KEY (id ${keyIdOf(masterKey(other, 'x'))}) does not open this store, which was sealed under the key with id ${keyIdOf(generated)}: start with that key (MASTER_KEY_FILE or MASTER_KEY)`,
    );
    expect(refused.stdout).not.toContain('serving GraphQL');
    expect(fingerprint(dataDir)).toEqual(before);

    // The same key from a file of raw bytes opens it.
    const rawKeyFile = join(root, 'raw.key');
    writeFileSync(rawKeyFile, Buffer.from(generated.bytes), { mode: 0o600 });
    const again = await spawnServer(dataDir, { MASTER_KEY: '', MASTER_KEY_FILE: rawKeyFile });
    expect(again.output()).not.toContain('WARNING');
    await stopCleanly(again);
  });

  it('refuses to serve a store whose events were written before sealing, pointing to `npm run migrate`, which is not refused', async () => {
    const dataDir = join(root, 'plaintext');
    mkdirSync(dataDir);
    const old = createSqliteEventStore({ path: join(dataDir, 'events.db') });
    await old.append({
      streamId: 'user-u1',
      expectedVersion: 0,
      events: [{ type: 'UserCreated', schemaVersion: 2, data: { userId: 'u1', username: 'plain', email: 'plain@example.com', createdBy: null }, metadata: { occurredAt: new Date().toISOString() } }],
    });
    await old.close();
    const refused = await serve({ DATA_DIR: dataDir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('run `npm run migrate`');
    // Sealing needs the store's own key: another one is refused as `serve` refuses it, and nothing is sealed.
    const migrateWith = (key: string) =>
      runToExit(process.execPath, ['--import', 'tsx', 'src/main.ts', 'migrate'], { DATA_DIR: dataDir, MASTER_KEY: key, MASTER_KEY_FILE: '' });
    const wrong = await migrateWith(randomBytes(32).toString('base64'));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('does not open this store');
    expect(readFileSync(join(dataDir, 'events.db')).toString('latin1')).toContain('plain@example.com');
    const migrate = await migrateWith('');
    expect(migrate.code).toBe(0);
    expect(migrate.stderr).toContain('sealed 1 events');
    expect(readFileSync(join(dataDir, 'events.db')).toString('latin1')).not.toContain('plain@example.com');
    await stopCleanly(await spawnServer(dataDir, { MASTER_KEY: '', MASTER_KEY_FILE: '' }));
  });
});

describe.skipIf(postgresUnavailable !== null)('the master key on PostgreSQL', () => {
  it('is required: without one the server refuses, naming the setting, and creates nothing', async () => {
    const database = await createTestDatabase('no_key');
    try {
      const refused = await serve({ DATA_DIR: join(root, 'unused'), DATABASE_URL: database.url });
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim()).toBe(
        'PostgreSQL needs a master key to seal personal data: set MASTER_KEY_FILE (a file of 32 random bytes, `openssl rand -base64 32`) or MASTER_KEY',
      );
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        expect((await client.query("SELECT FROM pg_tables WHERE schemaname = 'public'")).rowCount).toBe(0);
      } finally {
        await client.end();
      }
    } finally {
      await database.drop();
    }
  });

  it('refuses another key than the one the store was sealed under, naming both', async () => {
    const database = await createTestDatabase('wrong_key');
    try {
      const keyFile = join(root, 'pg.key');
      const key = randomBytes(32);
      writeFileSync(keyFile, `${key.toString('base64')}\n`, { mode: 0o600 });
      const first = await spawnServer(join(root, 'pg-unused'), { DATABASE_URL: database.url, MASTER_KEY_FILE: keyFile });
      await stopCleanly(first);
      const other = randomBytes(32);
      const refused = await serve({ DATA_DIR: join(root, 'pg-unused'), DATABASE_URL: database.url, MASTER_KEY: other.toString('base64') });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`the master key from MASTER_KEY (id ${keyIdOf(masterKey(other, 'x'))}) does not open this store, which was sealed under the key with id ${keyIdOf(masterKey(key, 'x'))}`);
    } finally {
      await database.drop();
    }
  });
});
