import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';
import { UPDATE_USER } from './documents.js';
import { createRelayApp } from './relay-app/src/app.js';
import { freshUser, isGlobalUserId, otherClient, trackedWebSocket } from './support.js';

const relayApp = fileURLToPath(new URL('./relay-app/', import.meta.url));
const relayCompiler = createRequire(import.meta.url).resolve('relay-compiler/cli.js');

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('Relay 21 (relay-compiler + relay-runtime)', () => {
  it('relay-compiler compiles the app against schema.graphql, and the checked-in artifacts are what it writes', { timeout: 60_000 }, async () => {
    // --validate: compile everything, write nothing, fail when an artifact would change.
    const outcome = await promisify(execFile)(process.execPath, [relayCompiler, '--validate'], { cwd: relayApp }).then(
      () => ({ ok: true, output: '' }),
      (error: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
    );
    expect(outcome.ok, `relay-compiler --validate failed (run \`npx relay-compiler\` in test/clients/relay-app and commit):\n${outcome.output}`).toBe(true);
  });

  let app: ReturnType<typeof createRelayApp>;
  let sockets: { terminate: () => void }[];
  const created: string[] = [];
  beforeAll(() => {
    const tracked = trackedWebSocket();
    sockets = tracked.sockets;
    app = createRelayApp({ http: server.url, ws: server.wsUrl }, tracked.WebSocketImpl);
  });
  afterAll(() => app?.dispose());

  it('creates users; each has a global id', async () => {
    for (let i = 0; i < 7; i++) created.push((await app.createUser(freshUser('relay'))).id);
    expect(created.every(isGlobalUserId)).toBe(true);
  });

  it('pages the @connection forward to the end, and back from the end', async () => {
    await app.loadUsers({ first: 3 });
    while (app.userList().hasNextPage) await app.loadNextUsers(3);
    expect(app.userList()).toMatchObject({ ids: created, totalCount: created.length, hasNextPage: false });

    const back = createRelayApp({ http: server.url, ws: server.wsUrl });
    try {
      await back.loadUsers({ last: 3 });
      expect(back.userList().ids).toEqual(created.slice(-3));
      while (back.userList().hasPreviousPage) await back.loadPreviousUsers(3);
      expect(back.userList()).toMatchObject({ ids: created, hasPreviousPage: false });
    } finally {
      back.dispose();
    }
  });

  it('an update shows in the store; a change made elsewhere shows after refetching the @refetchable user', async () => {
    const id = created[1]!;
    await app.updateUser({ id, username: 'relay_renamed', expectedVersion: 1 });
    expect(app.user(id)).toMatchObject({ username: 'relay_renamed', version: 2 });

    await otherClient(server, UPDATE_USER, { input: { id, username: 'relay_elsewhere' } });
    expect(app.user(id)).toMatchObject({ username: 'relay_renamed', version: 2 });
    await app.refetchUser(id);
    expect(app.user(id)).toMatchObject({ username: 'relay_elsewhere', version: 3 });
  });

  it('a subscription event updates the store record; a replay and a reconnect never move it backwards', async () => {
    const id = created[3]!;
    const versions: number[] = [];
    const events: { version: number }[] = [];
    let failure: unknown;
    const subscription = app.subscribeUserEvents(
      { after: '0', userId: id },
      {
        next: (event) => {
          events.push(event);
          versions.push(app.user(id)?.version ?? 0);
        },
        error: (error) => void (failure = error),
      },
    );
    const progress = () => `${events.length} events, error ${String(failure)}`;
    try {
      await waitUntil(() => events.length >= 1 || failure !== undefined, `the replayed creation (${progress()})`);
      expect(failure).toBeUndefined();

      await otherClient(server, UPDATE_USER, { input: { id, username: 'relay_live' } });
      await waitUntil(() => events.length >= 2 || failure !== undefined, `the live update (${progress()})`);
      expect(app.user(id)).toMatchObject({ username: 'relay_live', version: 2 });

      const before = sockets.length;
      sockets.at(-1)?.terminate();
      await waitUntil(() => sockets.length > before, 'a reconnect');
      await otherClient(server, UPDATE_USER, { input: { id, username: 'relay_after_drop' } });
      await waitUntil(() => events.some((e) => e.version === 3) || failure !== undefined, `the update after the reconnect (${progress()})`);
      expect(failure).toBeUndefined();
      expect(app.user(id)).toMatchObject({ username: 'relay_after_drop', version: 3 });
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    } finally {
      subscription.dispose();
    }
  });
});
