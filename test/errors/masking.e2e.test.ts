import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modules } from '../../src/modules.js';
import { loadConfig } from '../../src/server/config.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { gql } from '../support/server.js';

describe('unexpected errors', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-mask-'));
  const logLines: Record<string, unknown>[] = [];
  let server: RunningServer;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const config = loadConfig({ PORT: '0', DATA_DIR: dataDir });
    server = await startServer(config, { logger: pino({ level: 'info' }, sink), modules });
  });
  afterAll(async () => {
    await server.close().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('are masked for the client, logged with their cause, and the server keeps serving', async () => {
    const created = await gql(server.url, 'mutation { createUser(input: { id: "m1", username: "mask", email: "m@example.com" }) { __typename } }');
    expect(created.body.data).toEqual({ createUser: { __typename: 'CreateUserSuccess' } });

    // Break the event store underneath the running server: every command now fails unexpectedly.
    await server.system.store.close();
    const broken = await gql(server.url, 'mutation { updateUser(input: { id: "m1", username: "other" }) { __typename } }');

    expect(broken.status).toBe(200);
    expect(broken.body.data).toBeNull();
    expect(broken.body.errors).toHaveLength(1);
    expect(broken.body.errors?.[0]?.message).toBe('Unexpected error.');
    expect(JSON.stringify(broken.body)).not.toMatch(/database|sqlite|connection/i);

    const logged = logLines.find((line) => line.msg === 'unexpected error (masked for the client)');
    expect(logged).toBeDefined();
    expect(JSON.stringify(logged)).toMatch(/database connection is not open/i);

    // Reads go to the read model, which still works.
    const read = await gql(server.url, '{ user(id: "m1") { username } }');
    expect(read.body).toEqual({ data: { user: { username: 'mask' } }, extensions: { position: expect.any(String) } });
  });
});
