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
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { buildBff, refuseDevDependencies } from '../../scripts/build-bff.ts';
import { startRedis } from '../helpers/net.ts';

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
    // The entries and what they import on demand (lazy/: ioredis, prom-client, @opentelemetry/api).
    const files = readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js') || f.endsWith('.js.map'));
    assert.ok(files.includes('server.js') && files.includes('lambda.js') && files.includes('index.js') && files.includes('cli.js'), files.join(', '));
    assert.ok(files.some((f) => /^lazy\/redis-[\w-]+\.js$/.test(f)), `ioredis in a file of its own: ${files.join(', ')}`);
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

  it('loads what it imports on demand from lazy/, as built: the Redis store (ioredis) and the metrics (prom-client)', async () => {
    const redis = await startRedis();
    try {
      const bff = (await import(pathToFileURL(join(out, 'index.js')).href)) as typeof import('../../bff/index.ts');
      const config = bff.loadConfig({
        LATCH_ISSUER: 'https://id.example.com', LATCH_CLIENT_ID: 'bundles', LATCH_CLIENT_SECRET: 'bundles-secret', LATCH_BASE_URL: 'https://auth.example.com',
        LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'), LATCH_ALLOWED_ORIGINS: 'https://www.example.com', LATCH_REDIS_URL: redis.url, LATCH_LOG_LEVEL: 'error',
      });
      const app = bff.createBff(config);
      const store = app.latch.sessions.store;
      try {
        await app.latch.readiness!.find((check) => check.name === 'session-store')!.check();
        await store.set('bundles:k', 'v', 10_000);
        assert.equal(await store.get('bundles:k'), 'v');
      } finally {
        await store.close();
      }
      const registry = await bff.createMetrics().registry();
      assert.match(await registry.metrics(), /^process_cpu_user_seconds_total \d/m);
    } finally {
      await redis.stop();
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
