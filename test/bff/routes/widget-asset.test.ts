/**
 * The widget bundle the BFF serves (bff/routes/widget-asset.ts: /latch.js, its content-hashed names, the
 * manifest and the language chunks), answered in memory from a directory of the test's own.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createBff } from '../../../bff/app.ts';
import { loadConfig } from '../../../bff/config.ts';
import { defaultWidgetDir } from '../../../bff/routes/widget-asset.ts';
import { bffEnv, memoryBff, SITE } from '../../helpers/bff.ts';
import { inMemory, type InMemory } from '../../helpers/in-memory.ts';
import { captureLogs } from '../../helpers/logs.ts';

describe('the widget bundle at /latch.js', () => {
  let dir: string;
  let server: InMemory;
  let logs: string[];
  const bundle = 'export const latch = 1;\n';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latch-widget-'));
    await writeFile(join(dir, 'latch.js'), bundle);
    await writeFile(join(dir, 'latch.iife.js'), 'var latch = 1;\n');
    await writeFile(join(dir, 'latch-de.js'), 'export default {"x":"y"};\n');
    await writeFile(join(dir, 'other.js'), 'not served\n');
    const { lines, logger } = captureLogs();
    logs = lines;
    server = inMemory(createBff(loadConfig(bffEnv({ LATCH_WIDGET_DIR: dir })), { logger }));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the stable alias with a short cache, an ETag and public CORS', async () => {
    const res = await server.fetch(`${server.url}/latch.js`, { headers: { origin: SITE } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), bundle);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
    assert.match(res.headers.get('etag') ?? '', /^"[0-9a-f]{12}"$/);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    assert.equal(res.headers.get('cross-origin-resource-policy'), 'cross-origin');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });

  it('serves the content-hashed name as immutable for a year, and lists it in /latch.manifest.json', async () => {
    const manifest = (await (await server.fetch(`${server.url}/latch.manifest.json`)).json()) as Record<string, string>;
    assert.deepEqual(Object.keys(manifest).sort(), ['latch-de.js', 'latch.iife.js', 'latch.js']);
    assert.match(manifest['latch.js']!, /^latch\.[0-9a-f]{12}\.js$/);
    assert.match(manifest['latch.iife.js']!, /^latch\.iife\.[0-9a-f]{12}\.js$/);
    const res = await server.fetch(`${server.url}/${manifest['latch.js']}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), bundle);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const iife = await server.fetch(`${server.url}/${manifest['latch.iife.js']}`);
    assert.equal(await iife.text(), 'var latch = 1;\n');
  });

  it('serves the language chunks the bundle imports from beside itself', async () => {
    const res = await server.fetch(`${server.url}/latch-de.js`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'export default {"x":"y"};\n');
  });

  it('answers 304 to a matching If-None-Match, and HEAD without a body', async () => {
    const first = await server.fetch(`${server.url}/latch.js`);
    // As a browser revalidates (a request with Cache-Control: no-cache, as fetch() sends one, forbids a 304).
    const again = await server.fetch(`${server.url}/latch.js`, { headers: { 'if-none-match': first.headers.get('etag')!, 'cache-control': 'max-age=0' } });
    assert.equal(again.status, 304);
    const head = await server.fetch(`${server.url}/latch.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('answers 404 LATCH_NOT_FOUND to a stale hash and to other files', async () => {
    for (const path of ['/latch.000000000000.js', '/other.js', '/latch.js.map', '/latch..js']) {
      const res = await server.fetch(`${server.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'LATCH_NOT_FOUND');
    }
  });

  it('answers 404 and warns once when the widget is not built', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'latch-nowidget-'));
    const app = memoryBff({ LATCH_WIDGET_DIR: empty });
    try {
      assert.equal((await app.fetch('/latch.js')).status, 404);
      assert.equal((await app.fetch('/latch.js')).status, 404);
      assert.equal(app.logs.filter((l) => l.includes('no widget bundle')).length, 1);
      // Built later: found without a restart.
      await writeFile(join(empty, 'latch.js'), bundle);
      assert.equal((await app.fetch('/latch.js')).status, 200);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
    assert.equal(logs.some((l) => l.includes('no widget bundle')), false);
  });

  it('finds dist/ beside the build by default, from source and from the bundle', () => {
    assert.equal(defaultWidgetDir(pathToFileURL('/srv/app/dist/bff/server.js').href), '/srv/app/dist');
    assert.equal(defaultWidgetDir(pathToFileURL('/work/latch/bff/routes/widget-asset.ts').href), '/work/latch/dist');
  });
});
