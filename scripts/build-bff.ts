/**
 * `npm run build:bff`: the BFF as one self-contained ES module per entry, with esbuild.
 *
 *   dist/bff/server.js   the container's entry (node dist/bff/server.js)
 *   dist/bff/lambda.js   the Lambda entry (handler: dist/bff/lambda.handler)
 *   dist/bff/cli.js      `latch-bff` (the package's bin), with a #!/usr/bin/env node line
 *   dist/bff/lazy/*.js   what the entries import on demand (ioredis, prom-client, @opentelemetry/api)
 *   dist/bff/**.js.map   source maps (node --enable-source-maps)
 *   dist/bff/THIRD-PARTY-LICENSES.txt  the licence of every package bundled in
 *   dist/bff/package.json  {"type":"module"}, so dist/ runs without the repository's package.json
 *
 * Dependencies are bundled, not left external: the output needs no node_modules at all. So the
 * container's runtime stage and a Lambda zip hold dist/ only (production code only, by
 * construction), start-up resolves no packages (cold start), and what runs is exactly what the
 * lockfile gave the build. The build fails if a devDependency (oidc-provider, vite...) ever ends up
 * in a bundle. dist/ beside dist/bff/ also holds the widget (vite), which this script leaves alone.
 */
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface BuildBffOptions {
  /** Default: <repo>/dist/bff. */
  outdir?: string;
  /** Default true: whitespace and syntax. Identifiers are never minified (stack traces, error names). */
  minify?: boolean;
}

type PackageDeps = Partial<Record<'dependencies' | 'devDependencies' | 'peerDependencies', Record<string, string>>>;

export interface BuiltFile {
  path: string;
  bytes: number;
  gzipBytes: number;
}

/** CommonJS dependencies call require() and read __dirname: give the ES module bundle both. */
const ESM_SHIMS = [
  "import { createRequire as __latchCreateRequire } from 'node:module';",
  "import { fileURLToPath as __latchFileURLToPath } from 'node:url';",
  "import { dirname as __latchDirname } from 'node:path';",
  'const require = __latchCreateRequire(import.meta.url);',
  'const __filename = __latchFileURLToPath(import.meta.url);',
  'const __dirname = __latchDirname(__filename);',
].join('\n');

/**
 * Koa 3 pulls in two copies of mime-types (2.1 through accepts 1.x, 3.0 for Koa itself), each with its
 * own mime-db (1.52 and 1.54): 140 KiB of JSON each, a fifth of the bundle, parsed and indexed at
 * every cold start (~12 ms of a Lambda's import for the second copy). The newer ones are supersets
 * with the same API (accepts only calls `lookup(extension)`): use them for both, its tables built on
 * first use (bff/lazy-mime-types.cjs).
 */
const oneMimeDb: Plugin = {
  name: 'latch-one-mime-db',
  setup(b) {
    b.onResolve({ filter: /^mime-db$/ }, () => ({ path: join(root, 'node_modules/mime-db/index.js') }));
    // Every 'mime-types' but the one bff/lazy-mime-types.cjs asks for gets that module: the tables built on first use.
    const lazy = join(root, 'bff/lazy-mime-types.cjs');
    b.onResolve({ filter: /^mime-types$/ }, (args) => ({ path: args.importer === lazy ? join(root, 'node_modules/mime-types/index.js') : lazy }));
  },
};

export async function buildBff(options: BuildBffOptions = {}): Promise<BuiltFile[]> {
  const outdir = options.outdir ?? join(root, 'dist/bff');
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as PackageDeps & { version: string };
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });

  const common: BuildOptions = {
    absWorkingDir: root,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    // What the BFF imports on demand (ioredis with LATCH_SESSION_STORE=redis or LATCH_REDIS_URL,
    // prom-client with LATCH_METRICS, @opentelemetry/api with LATCH_TRACING) goes to a file of its own
    // under lazy/, read only when first imported: in one file it was ~250 KiB that every cold start
    // compiled for nothing (docs/bench.md, "what moved each figure").
    splitting: true,
    chunkNames: 'lazy/[name]-[hash]',
    // Whitespace and syntax are minified; identifiers are not, so names survive in stack traces and
    // error names without esbuild's keepNames wrappers, which cost ~18% of a warm /me's CPU and ~25 ms
    // of Lambda cold start in `npm run bench` A/B runs (bundle 1.0 MB instead of 0.78 MB).
    minifyWhitespace: options.minify ?? true,
    minifySyntax: options.minify ?? true,
    minifyIdentifiers: false,
    keepNames: false,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none', // THIRD-PARTY-LICENSES.txt carries the licences whole
    metafile: true,
    logLevel: 'warning',
    define: { __LATCH_VERSION__: JSON.stringify(pkg.version) },
    plugins: [oneMimeDb],
  };
  // One build an entry: each bundle knows which entry it is (server.ts starts itself only in server.js).
  const entry = (name: string, banner: string) =>
    build({
      ...common,
      entryPoints: { [name]: `bff/${name}.ts` },
      banner: { js: banner },
      define: { ...common.define, __LATCH_ENTRY__: JSON.stringify(name) },
    });
  const results = await Promise.all([
    entry('server', ESM_SHIMS),
    entry('lambda', ESM_SHIMS),
    entry('cli', `#!/usr/bin/env node\n${ESM_SHIMS}`),
    // The library surface (requireToken, verifyAccessToken, createBff...) for `import ... from 'latch/bff'`.
    entry('index', ESM_SHIMS),
  ]);
  refuseDevDependencies(results.map((r) => r.metafile), pkg);
  await writeFile(join(outdir, 'THIRD-PARTY-LICENSES.txt'), await thirdPartyLicenses(results.map((r) => r.metafile)));
  await chmod(join(outdir, 'cli.js'), 0o755);
  await writeFile(join(outdir, 'package.json'), `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);

  const files: BuiltFile[] = [];
  for (const name of ['server.js', 'lambda.js', 'cli.js', 'index.js']) {
    const path = join(outdir, name);
    const body = await readFile(path);
    files.push({ path, bytes: (await stat(path)).size, gzipBytes: gzipSync(body).length });
  }
  return files;
}

/**
 * A devDependency inside a bundle means bff/ imported test or build tooling: fail the build. So does
 * any code of dev/, test/, widget/ or testing/ (`latch/testing`, which runs oidc-provider).
 */
export function refuseDevDependencies(metafiles: Array<Metafile | undefined>, pkg: PackageDeps) {
  // Peer dependencies too: oidc-provider is one (optional, for latch/testing), never the BFF's.
  const devOnly = [...Object.keys(pkg.devDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})].filter((name) => !(name in (pkg.dependencies ?? {})));
  const found = new Set<string>();
  for (const metafile of metafiles) {
    for (const input of Object.keys(metafile?.inputs ?? {})) {
      for (const name of devOnly) if (input.includes(`node_modules/${name}/`)) found.add(`${name} (${input})`);
      if (/^(dev|test|testing|widget)\//.test(input)) found.add(input);
    }
  }
  if (found.size > 0) throw new Error(`build-bff: the BFF bundle must not contain development code:\n  ${[...found].join('\n  ')}`);
}

/** Name, version, licence and licence text of every package whose code is in a bundle. */
async function thirdPartyLicenses(metafiles: Array<Metafile | undefined>): Promise<string> {
  const packageDirs = new Set<string>();
  for (const metafile of metafiles) {
    for (const input of Object.keys(metafile?.inputs ?? {})) {
      const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m) packageDirs.add(m[1]!);
    }
  }
  const sections: string[] = [];
  for (const dir of [...packageDirs].sort()) {
    const abs = join(root, dir);
    const meta = JSON.parse(await readFile(join(abs, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
    const licenceFile = (await readdir(abs)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = licenceFile ? (await readFile(join(abs, licenceFile), 'utf8')).trim() : `(no licence file; package.json says ${meta.license ?? 'nothing'})`;
    sections.push(`${meta.name}@${meta.version} (${meta.license ?? 'unknown'})\n\n${text}`);
  }
  return `The BFF bundles (dist/bff/*.js) contain code from these packages:\n\n${sections.join(`\n\n${'-'.repeat(72)}\n\n`)}\n`;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const files = await buildBff();
  for (const f of files) console.log(`  ${relative(root, f.path).padEnd(20)} ${kib(f.bytes).padStart(10)}  (gzip ${kib(f.gzipBytes)})`);
  console.log(`build:bff done in ${Math.round(performance.now() - started)} ms`);
}
