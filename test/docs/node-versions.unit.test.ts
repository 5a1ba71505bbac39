import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OLDEST_SUPPORTED_NODE, unsupportedNode } from '../../src/node-version.js';

/**
 * The supported Node versions are declared in four places that nothing else
 * ties together: `.ci/run` (what is tested), package.json `engines` (what npm
 * checks), `.nvmrc` (what a developer gets) and the README. `.ci/run` itself
 * fails when a tested version lies outside `engines` (npm ci prints
 * EBADENGINE for this package then); this keeps the other declarations in step.
 */
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const majorOf = (version: string) => Number(version.split('.')[0]);

const ciVersions = (/^NODE_VERSIONS=\(([^)]*)\)/m.exec(read('.ci/run'))?.[1] ?? '').trim().split(/\s+/);
const ciMajors = ciVersions.map(majorOf);
const engines: string = JSON.parse(read('package.json')).engines.node;

describe('supported Node versions', () => {
  it('are pinned in .ci/run as exact releases, one per major line', () => {
    expect(ciVersions.length).toBeGreaterThan(0);
    for (const version of ciVersions) expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(new Set(ciMajors).size).toBe(ciMajors.length);
  });

  it('are exactly the major lines package.json engines accepts', () => {
    const engineMajors = [...engines.matchAll(/\^(\d+)\.\d+\.\d+/g)].map(([, major]) => Number(major));
    expect(engines.split('||').length).toBe(engineMajors.length);
    const ascending = (a: number, b: number) => a - b;
    expect(engineMajors.sort(ascending)).toEqual([...ciMajors].sort(ascending));
  });

  it('end with the one .nvmrc names, which the benchmark smoke run uses', () => {
    expect(read('.nvmrc').trim()).toBe(String(ciMajors.at(-1)));
  });

  it('each have a row in the README saying what it gets', () => {
    const quickStart = read('README.md').split('## Quick start')[1]?.split('\n## ')[0] ?? '';
    for (const major of ciMajors) expect(quickStart).toMatch(new RegExp(`^\\| ${major}[ .]`, 'm'));
  });

  it('start at the floor the commands check before opening a store', () => {
    expect(engines).toMatch(new RegExp(`^\\^${OLDEST_SUPPORTED_NODE.replaceAll('.', '\\.')} `));
    expect(unsupportedNode('20.20.2')).toMatch(/Node 20\.20\.2 is not supported: .*22\.15\.0 or later/);
    expect(unsupportedNode('22.14.9')).not.toBeNull();
    expect(unsupportedNode('22.15.0')).toBeNull();
    expect(unsupportedNode('22.23.3')).toBeNull();
    expect(unsupportedNode('24.0.0')).toBeNull();
    for (const version of ciVersions) expect(unsupportedNode(version), version).toBeNull();
  });
});
