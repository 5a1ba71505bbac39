/**
 * The import graph of src/, read from the files themselves: the layers the
 * README describes hold (issue 19, "Done when"). A feature is any top-level
 * folder of src/ other than the shared layers; only the composition list
 * (src/modules.ts) and the entry points may name one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const SHARED_LAYERS = ['kernel', 'stores', 'graphql', 'server'];

/** `import … from '…'`, `export … from '…'` (one or many lines), `import '…'` and `import('…')`. */
const IMPORT_PATTERNS = [
  /^\s*(?:import|export)\b[^;'"`]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

const specifiersIn = (text: string): string[] => IMPORT_PATTERNS.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]!));

/** An import between two files of src/ (paths relative to src/, with "/"), or out of src/ (`to` starts with "../"). */
type Edge = Readonly<{ from: string; to: string }>;

const sourceFiles = (): string[] =>
  readdirSync(SRC, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(SRC, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .sort();

/** Relative specifiers name project files (`./x.js` is `x.ts` on disk); any other names a package, outside the graph. */
function edgesOf(file: string, specifiers: readonly string[]): Edge[] {
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => ({ from: file, to: posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.ts') }));
}

const features = (): string[] =>
  readdirSync(SRC, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !SHARED_LAYERS.includes(entry.name))
    .map((entry) => entry.name);

const under = (folder: string) => (path: string) => path.startsWith(`${folder}/`);

/** Each rule: which importing files it covers, and which imports they may not make. */
function rules(featureFolders: readonly string[]) {
  const isFeature = (path: string) => featureFolders.some((feature) => under(feature)(path));
  return [
    { rule: 'src/kernel and src/stores import no feature', covers: (f: string) => under('kernel')(f) || under('stores')(f), forbids: isFeature },
    {
      rule: 'storage.ts, system.ts, module.ts and graphql/schema.ts import no feature',
      covers: (f: string) => ['storage.ts', 'system.ts', 'module.ts', 'graphql/schema.ts'].includes(f),
      forbids: isFeature,
    },
    { rule: 'src/server imports no feature', covers: under('server'), forbids: isFeature },
    { rule: 'src/kernel imports nothing outside src/kernel', covers: under('kernel'), forbids: (to: string) => !under('kernel')(to) },
  ];
}

const violations = (edges: readonly Edge[], featureFolders: readonly string[]) =>
  rules(featureFolders).map(({ rule, covers, forbids }) => ({
    rule,
    imports: edges.filter((edge) => covers(edge.from) && forbids(edge.to)).map((edge) => `${edge.from} -> ${edge.to}`),
  }));

const files = sourceFiles();
const specifiers = new Map(files.map((file) => [file, specifiersIn(readFileSync(join(SRC, file), 'utf8'))]));
const edges = files.flatMap((file) => edgesOf(file, specifiers.get(file)!));

describe('the import graph of src/', () => {
  it("reads every file's imports as TypeScript does", () => {
    expect(files).toContain('kernel/projector.ts');
    expect(features()).toContain('users');
    for (const file of files) {
      const text = readFileSync(join(SRC, file), 'utf8');
      const byCompiler = ts.preProcessFile(text, true, true).importedFiles.map((imported) => imported.fileName);
      expect([...specifiers.get(file)!].sort(), file).toEqual(byCompiler.sort());
    }
    expect(edges).toContainEqual({ from: 'modules.ts', to: 'users/module.ts' });
  });

  it('catches a planted arrow under every rule', () => {
    const plants: Edge[] = [
      { from: 'kernel/planted.ts', to: 'users/user.ts' },
      { from: 'stores/sqlite/planted.ts', to: 'users/read-model/sqlite.ts' },
      { from: 'system.ts', to: 'users/module.ts' },
      { from: 'graphql/schema.ts', to: 'users/graphql/index.ts' },
      { from: 'server/planted.ts', to: 'users/read-model/queries.ts' },
      { from: 'kernel/planted.ts', to: 'stores/rollback.ts' },
    ];
    const before = new Map(violations(edges, features()).map(({ rule, imports }) => [rule, imports]));
    const caught = violations([...edges, ...plants], features()).map(({ rule, imports }) => ({
      rule,
      imports: imports.filter((arrow) => !before.get(rule)!.includes(arrow)),
    }));
    expect(caught).toEqual([
      { rule: 'src/kernel and src/stores import no feature', imports: ['kernel/planted.ts -> users/user.ts', 'stores/sqlite/planted.ts -> users/read-model/sqlite.ts'] },
      { rule: 'storage.ts, system.ts, module.ts and graphql/schema.ts import no feature', imports: ['system.ts -> users/module.ts', 'graphql/schema.ts -> users/graphql/index.ts'] },
      { rule: 'src/server imports no feature', imports: ['server/planted.ts -> users/read-model/queries.ts'] },
      { rule: 'src/kernel imports nothing outside src/kernel', imports: ['kernel/planted.ts -> users/user.ts', 'kernel/planted.ts -> stores/rollback.ts'] },
    ]);
  });

  for (const { rule, imports } of violations(edges, features())) {
    it(rule, () => {
      expect(imports).toEqual([]);
    });
  }
});
