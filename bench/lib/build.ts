/**
 * Bundles a bench entry for node the way scripts/build-bff.ts bundles the BFF's server.js (one ES
 * module, dependencies inside, whitespace and syntax minified, identifiers kept, no keepNames
 * wrappers), so a variant of the BFF built here and the BFF's own bundle differ only by their code.
 * Used for the BFF routed through @koa/router (bench/servers/bff-koa-router.ts) and for the probe
 * (bench/servers/probe.ts), which runs as a plain `--import` with no TypeScript loader.
 */
import { build } from 'esbuild';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** CommonJS dependencies (Koa's) call require(): give the ES module bundle one. */
const REQUIRE_SHIM = "import { createRequire as __benchCreateRequire } from 'node:module';\nconst require = __benchCreateRequire(import.meta.url);";

export async function bundleForNode(entry: string, outfile: string): Promise<void> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: false,
    keepNames: false,
    // For CPU profiles (bench/lib/cpuprofile.ts traces frames back to the source).
    sourcemap: 'linked',
    sourcesContent: false,
    banner: { js: REQUIRE_SHIM },
    define: { __LATCH_VERSION__: '"bench"', __LATCH_ENTRY__: '"bench"' },
    logLevel: 'warning',
  });
}
