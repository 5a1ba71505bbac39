import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = new URL('..', import.meta.url).pathname;

/**
 * Bundles one server entry point into a single ES module for Node 22 (the
 * oldest supported version), with every package left to node_modules.
 * `npm run build` uses it for the API; the bench uses it for the API and the
 * baseline, so both run compiled the same way (paths relative to the
 * repository root).
 */
export async function bundle(entryPoint: string, outfile: string): Promise<void> {
  await build({
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
  });
}

// `npm run build`
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await bundle('src/main.ts', 'dist/main.js');
