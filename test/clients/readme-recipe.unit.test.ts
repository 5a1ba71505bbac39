import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('README "Reconnecting without duplicates"', () => {
  it('shows the resume helper exactly as the reconnect suite tests it', () => {
    const source = read('./resume.ts');
    const start = source.indexOf('export async function* resumingUserEvents');
    const helper = source.slice(start, source.indexOf('\n}\n', start) + 3);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(read('../../README.md').includes(helper), 'README.md: copy resumingUserEvents from test/clients/resume.ts').toBe(true);
  });
});

describe('README "Response cache and positions"', () => {
  it('shows the position link and exchange exactly as the client suites test them', () => {
    const source = read('./position-links.ts');
    const start = source.indexOf('/** The `position` of the last mutation answer seen');
    expect(start).toBeGreaterThanOrEqual(0);
    expect(read('../../README.md').includes(source.slice(start).trimEnd()), 'README.md: copy the recipe from test/clients/position-links.ts').toBe(true);
  });
});
