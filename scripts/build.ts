import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = new URL('..', import.meta.url).pathname;

/**
 * Bundles one server entry point into a single ES module for Node 22 (the
 * oldest supported version), with every package left to node_modules.
 * `npm run build` uses it for the API; the bench uses it for the API and the
 * baseline, so both run compiled the same way (paths relative to the
 * repository root).
 */
export async function bundle(entryPoint: string, outfile: string, plugins: Plugin[] = []): Promise<void> {
  const { outputFiles } = await build({
    plugins,
    absWorkingDir: ROOT,
    entryPoints: [entryPoint],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
    write: false,
  });
  // Each file written whole, then renamed over the old one: two `npm start`s at once (one of
  // them refused by the data directory's lock) must never run a half-written bundle.
  for (const file of outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    const partial = `${file.path}.${process.pid}.partial`;
    writeFileSync(partial, file.contents);
    renameSync(partial, file.path);
  }
}

// `npm run build`
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await bundle('src/main.ts', 'dist/main.js');
