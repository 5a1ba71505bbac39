/**
 * GraphQL-over-HTTP conformance: runs every server audit of the `graphql-http`
 * package against the app in process (its `app.fetch` as the audits' fetch,
 * as yoga's own tests run them), with every hardening setting at its default
 * (operation limits, body limit, CSRF prevention, error masking).
 *
 * A MUST audit that does not pass fails its test. SHOULD and MAY audits are
 * recommendations: their outcome is recorded and summarised, and the set that
 * is not ok must be exactly the one expected, so a new failure shows up.
 *
 * The audits run twice: as a plain client, and as a client that sends yoga's
 * CSRF header. Neither carries cookies, so CSRF prevention lets both GET
 * and POST through (see Security in the README): every audit is ok for both.
 */
import { serverAudits, type AuditResult } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER } from '../../src/server/app.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';

let api: InProcessApp | undefined;

beforeAll(async () => {
  api = await createInProcessApp();
});

afterAll(async () => {
  await api?.close();
});

const started = () => {
  if (!api) throw new Error('app not started');
  return api;
};
const url = () => started().url;

// The audits call `fetchFn(url, init)` with the URL as a string.
const plainFetch = (input: string, init: RequestInit = {}) => started().fetch(input, init);
const csrfFetch = (input: string, init?: RequestInit) =>
  started().fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), [CSRF_HEADER]: '1' } });

const clients = [
  { name: 'a plain client', fetchFn: plainFetch, expectedNotOk: [] },
  { name: `a client sending ${CSRF_HEADER}`, fetchFn: csrfFetch, expectedNotOk: [] },
];

for (const client of clients) {
  describe(`GraphQL over HTTP (graphql-http server audits), ${client.name}`, () => {
    // The audit list is built up front (one `it` each); the URL is resolved when an audit runs.
    const audits = serverAudits({ url, fetchFn: client.fetchFn });
    const results: AuditResult[] = [];

    afterAll(() => {
      const recommendations = results.filter((r) => !r.name.startsWith('MUST'));
      const notOk = recommendations.filter((r) => r.status !== 'ok');
      console.info(
        `GraphQL-over-HTTP audits (${client.name}): ${results.length} run; MUST ${results.length - recommendations.length} ` +
          `(all must be ok); SHOULD/MAY ${recommendations.length}, of which not ok: ${notOk.length}` +
          notOk.map((r) => `\n  ${r.status} ${r.id} ${r.name}: ${r.reason}`).join(''),
      );
    });

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

    it(`misses no recommendation but ${client.expectedNotOk.length ? client.expectedNotOk.join(', ') : 'none'}`, () => {
      expect(results.length).toBe(audits.length);
      expect(results.filter((r) => r.status !== 'ok').map((r) => r.id).sort()).toEqual([...client.expectedNotOk].sort());
    });
  });
}
