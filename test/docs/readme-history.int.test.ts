/**
 * The README's "History and time travel" queries are for pasting into
 * GraphiQL as they stand: each one parses and validates against the schema
 * the server serves, and each query runs (over the in-memory store, within
 * the server's operation limits) once USER_ID names a user.
 */
import { readFileSync } from 'node:fs';
import { parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaOf } from '../../src/graphql/schema.js';
import { modules } from '../../src/modules.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.split('\n## History and time travel\n')[1]?.split('\n## ')[0] ?? '';
const blocks = [...section.matchAll(/```graphql\n([\s\S]*?)```/g)].map(([, text]) => text!);

describe('README "History and time travel"', () => {
  it('has the history, follow-on and audit-feed queries', () => {
    expect(blocks.some((text) => text.includes('history('))).toBe(true);
    expect(blocks.some((text) => text.includes('userEvents(') && text.includes('END_CURSOR'))).toBe(true);
    expect(blocks.some((text) => text.includes('events('))).toBe(true);
  });

  it.each(blocks.map((text, index) => ({ index, text })))('query $index validates against the schema', ({ text }) => {
    expect(validate(schemaOf(modules), parse(text)).map((error) => error.message)).toEqual([]);
  });

  describe('run', () => {
    let api: InProcessApp;
    beforeAll(async () => {
      api = await createInProcessApp();
      const created = await api.gql('mutation { createUser(input: { id: "readme", username: "readme", email: "readme@example.com" }) { __typename } }');
      expect(created.body.errors).toBeUndefined();
    });
    afterAll(async () => {
      await api?.close();
    });

    // A query with variables needs values a reader fills in: the time-travel one runs in test/inprocess/time-travel.int.test.ts.
    const runnable = blocks.filter((text) => text.trimStart().startsWith('query') && !text.includes('$'));
    it('runs at least the history and audit-feed queries', () => expect(runnable.length).toBeGreaterThanOrEqual(2));
    it.each(runnable.map((text, index) => ({ index, text })))('query $index answers without errors', async ({ text }) => {
      const { status, body } = await api.gql(text.replaceAll('USER_ID', 'User:readme'));
      expect(body.errors).toBeUndefined();
      expect(status).toBe(200);
    });
  });
});
