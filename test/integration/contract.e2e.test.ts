import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import codegenConfig from '../../codegen.js';
import { printedSchema } from '../../src/graphql/schema.js';
import { modules } from '../../src/modules.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

describe('the checked-in contract', () => {
  it('schema.graphql is the schema the server serves', () => {
    const served = printedSchema(modules);
    expect(served).toContain('type Query');
    const checkedIn = read('schema.graphql');
    expect(checkedIn === served, 'schema.graphql differs from src/graphql/schema.ts: run `npm run schema` and commit the result').toBe(true);
  });

  it('test/gql/ is what codegen makes of schema.graphql and the test operations', { timeout: 60_000 }, async () => {
    const outputs = await generate({ ...codegenConfig, cwd: root, silent: true }, false);
    const stale = 'test/gql/ is stale: run `npm run codegen` and commit the result';

    const generated = new Map<string, string>(outputs.map((o: { filename: string; content: string }) => [relative(root, resolve(root, o.filename)), o.content]));
    expect(generated.size, stale).toBeGreaterThan(0);
    const checkedIn = readdirSync(join(root, 'test/gql'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(root, join(entry.parentPath, String(entry.name))))
      .sort();
    expect(checkedIn, stale).toEqual([...generated.keys()].sort());
    for (const [path, content] of generated) {
      expect(read(path) === content, `${path}: ${stale}`).toBe(true);
    }
  });
});
