/**
 * What the BFF's production bundles may hold: its own code and its dependencies, never the development
 * provider (oidc-provider), `latch/testing`, dev/ or test code. scripts/build-bff.ts refuses such a
 * bundle from esbuild's list of inputs; these tests check the built files themselves and that the
 * refusal really triggers on `latch/testing`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { buildBff, refuseDevDependencies } from '../../scripts/build-bff.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies?: Record<string, string>; devDependencies?: Record<string, string> };

describe('the BFF bundles (dist/bff/*.js) hold no development or test code', () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'latch-bundles-'));
    await buildBff({ outdir: out });
  });
  after(() => rm(out, { recursive: true, force: true }));

  it('name no oidc-provider, no latch/testing and none of its functions, in code or source maps', () => {
    const files = readdirSync(out).filter((f) => f.endsWith('.js') || f.endsWith('.js.map'));
    assert.ok(files.includes('server.js') && files.includes('lambda.js') && files.includes('index.js') && files.includes('cli.js'), files.join(', '));
    for (const file of files) {
      const text = readFileSync(join(out, file), 'utf8');
      for (const needle of ['oidc-provider', 'latch/testing', 'startTestProvider', 'mintSession', 'startDevProvider', 'testing/', 'dev/provider']) {
        assert.equal(text.includes(needle), false, `${file} contains "${needle}"`);
      }
    }
    // The source maps list every input: only bff/ and packages that are dependencies.
    for (const file of files.filter((f) => f.endsWith('.map'))) {
      const sources = (JSON.parse(readFileSync(join(out, file), 'utf8')) as { sources: string[] }).sources;
      for (const source of sources) assert.match(source, /(^|\/)(bff\/|node_modules\/)/, `${file}: ${source}`);
    }
  });

  it('oidc-provider stays out of the dependencies: an optional peer dependency, and a devDependency for our own tests', () => {
    assert.equal(pkg.peerDependencies?.['oidc-provider'] !== undefined, true);
    assert.equal((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies['oidc-provider'], undefined);
  });

  it('the build refuses a bundle that takes in latch/testing, naming it and oidc-provider', async () => {
    // What esbuild would list if bff/ imported latch/testing: that module and all it pulls in.
    const result = await build({
      stdin: { contents: "export * from './testing/index.ts';", resolveDir: root, loader: 'ts', sourcefile: 'bff/imagined.ts' },
      absWorkingDir: root,
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    assert.throws(() => refuseDevDependencies([result.metafile], pkg), (err: Error) => {
      assert.match(err.message, /must not contain development code/);
      assert.match(err.message, /^\s+testing\/index\.ts$/m);
      assert.match(err.message, /^\s+dev\/provider\.ts$/m);
      assert.match(err.message, /^\s+oidc-provider \(\S*node_modules\/oidc-provider\//m);
      return true;
    });
  });
});
