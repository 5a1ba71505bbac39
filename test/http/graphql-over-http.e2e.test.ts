/**
 * GraphQL-over-HTTP conformance: runs every server audit of the `graphql-http`
 * package against the real server (real listener, real fetch).
 *
 * A MUST audit that does not pass fails its test. SHOULD and MAY audits are
 * recommendations: their outcome is recorded and summarised, never a failure.
 */
import { serverAudits, type AuditResult } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer | undefined;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  const recommendations = results.filter((r) => !r.name.startsWith('MUST'));
  const notOk = recommendations.filter((r) => r.status !== 'ok');
  console.info(
    `GraphQL-over-HTTP audits: ${results.length} run; MUST ${results.length - recommendations.length} ` +
      `(all must be ok); SHOULD/MAY ${recommendations.length}, of which not ok: ${notOk.length}` +
      notOk.map((r) => `\n  ${r.status} ${r.id} ${r.name}: ${r.reason}`).join(''),
  );
  await server?.stop();
});

const url = () => {
  if (!server) throw new Error('server not started');
  return server.url;
};

// The audit list is built up front (one `it` each); the URL is resolved when an audit runs.
const audits = serverAudits({ url, fetchFn: fetch });
const results: AuditResult[] = [];

describe('GraphQL over HTTP (graphql-http server audits)', () => {
  it('has MUST audits to run (guards against an empty or renamed audit list)', () => {
    expect(audits.filter((a) => a.name.startsWith('MUST')).length).toBeGreaterThanOrEqual(10);
    expect(new Set(audits.map((a) => a.id)).size).toBe(audits.length);
  });

  for (const audit of audits) {
    it(`${audit.id}: ${audit.name}`, async () => {
      // `fn` throws only on a fatal problem (such as the server not answering): that fails the test.
      const result = await audit.fn();
      results.push(result);
      expect(result.id).toBe(audit.id);
      if (result.status !== 'ok') await result.response.body?.cancel();

      if (audit.name.startsWith('MUST')) {
        // Shown with its reason when it fails, so the report says what the server did.
        expect(result.status === 'ok' ? 'ok' : `${result.status}: ${result.reason}`).toBe('ok');
      } else if (result.status !== 'ok') {
        // A recommendation: recorded for the summary, reported as a warning or notice, never an error.
        expect(result.reason).toEqual(expect.any(String));
      }
    });
  }

  it('passes every MUST audit (zero MUST failures)', () => {
    const must = results.filter((r) => r.name.startsWith('MUST'));
    expect(must.length).toBe(audits.filter((a) => a.name.startsWith('MUST')).length);
    expect(must.filter((r) => r.status !== 'ok').map((r) => `${r.id} ${r.name}`)).toEqual([]);
  });
});
