import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { spawnServer } from '../support/process.js';
import { gql, startTestServer } from '../support/server.js';

describe('SIGTERM', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-sigterm-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('finishes in-flight mutations, closes subscriptions cleanly, exits 0, and loses nothing acknowledged', async () => {
    const server = await spawnServer(dataDir);

    const ws = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    const closed = new Promise<number>((resolve) => ws.on('closed', (event) => resolve((event as { code: number }).code)));
    let completed = false;
    const subscription = new Promise<void>((resolve, reject) =>
      ws.subscribe(
        { query: 'subscription { userEvents { position } }' },
        { next: () => {}, error: reject, complete: () => ((completed = true), resolve()) },
      ),
    );
    await new Promise<void>((resolve) => ws.on('connected', () => resolve()));

    const mutations = Array.from({ length: 40 }, (_, i) =>
      gql<{ createUser: { __typename: string } }>(
        server.url,
        `mutation { createUser(input: { id: "s${i}", username: "sig${i}", email: "s${i}@example.com" }) { __typename } }`,
      ).then(
        (r) => (r.body.data?.createUser.__typename === 'CreateUserSuccess' ? `s${i}` : null),
        () => null,
      ),
    );
    // Signal while the mutations are in flight.
    await new Promise((resolve) => setTimeout(resolve, 20));
    server.child.kill('SIGTERM');

    const acknowledged = (await Promise.all(mutations)).filter((id): id is string => id !== null);
    expect(await server.exited).toBe(0);
    await subscription;
    expect(completed).toBe(true);
    expect([1000, 1001]).toContain(await closed);
    expect(server.logs.some((line) => line.msg === 'stopped')).toBe(true);

    const reopened = await startTestServer({ dataDir });
    try {
      for (const id of acknowledged) {
        const { body } = await gql<{ user: { id: string } | null }>(reopened.url, `{ user(id: "${id}") { id } }`);
        expect(body.data?.user?.id, id).toBe(`User:${id}`);
      }
    } finally {
      await reopened.stop();
    }
  });
});
