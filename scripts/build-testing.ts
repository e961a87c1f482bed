/**
 * `npm run build:testing`: `latch/testing` (testing/, docs/testing.md) for the package.
 *
 *   dist/testing/index.js          the entry: startTestProvider(), mintSession()
 *   dist/testing/chunks/*.js       dev/provider.ts, imported by startTestProvider() only when called
 *   dist/types/testing/*.d.ts      its declarations (and dist/types/bff/contract.d.ts they refer to)
 *
 * Packages are left external: latch's own dependencies are installed with it, and oidc-provider is
 * an optional peer dependency. It sits in a chunk of its own, imported when a test starts a provider,
 * so `import 'latch/testing'` works without it and startTestProvider() says what to install.
 *
 * This build is apart from scripts/build-bff.ts on purpose: the BFF's bundles refuse testing/ and
 * dev/ code and oidc-provider (test/deploy/bundles.test.ts), and nothing here is in them.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface BuildTestingOptions {
  /** Default: <repo>/dist/testing. */
  outdir?: string;
  /** Where the declarations go, or false for none. Default: <repo>/dist/types. */
  typesDir?: string | false;
}

export async function buildTesting(options: BuildTestingOptions = {}): Promise<void> {
  const outdir = options.outdir ?? join(root, 'dist/testing');
  const typesDir = options.typesDir ?? join(root, 'dist/types');
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { index: 'testing/index.ts' },
    outdir,
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  // The entry itself must load without oidc-provider: only the provider's chunk may import it.
  const entry = Object.entries(result.metafile.outputs).find(([, out]) => out.entryPoint === 'testing/index.ts')!;
  const eager = entry[1].imports.filter((i) => i.kind === 'import-statement').map((i) => i.path);
  if (eager.some((path) => path === 'oidc-provider' || path.startsWith('oidc-provider/'))) {
    throw new Error('build-testing: dist/testing/index.js imports oidc-provider at load; it must come only with startTestProvider()');
  }

  if (typesDir === false) return;
  // Declarations: tsc over testing/, then testing/index.d.ts and what it refers to, no more (the rest
  // of the program's declarations, bff/ and dev/, are not part of this entry's surface).
  const tmp = join(root, '.tmp/testing-types');
  rmSync(tmp, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.testing.json', '--outDir', tmp], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('build-testing: tsc failed');
  const pending = ['testing/index.d.ts'];
  const copied = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (copied.has(file)) continue;
    copied.add(file);
    const source = join(tmp, file);
    if (!existsSync(source)) throw new Error(`build-testing: no declarations for ${file}`);
    mkdirSync(dirname(join(typesDir, file)), { recursive: true });
    cpSync(source, join(typesDir, file));
    for (const [, specifier] of readFileSync(source, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      pending.push(relative(tmp, resolve(dirname(source), specifier!.replace(/\.ts$/, '.d.ts'))));
    }
  }
  rmSync(tmp, { recursive: true, force: true });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  await buildTesting();
  console.log(`build:testing done in ${Math.round(performance.now() - started)} ms`);
}
