import type { RouteTable } from './table.ts';
import type { Context } from 'koa';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RouteDeps } from './deps.ts';

/** The stable aliases (`/latch.js`) may change with any deploy: browsers revalidate after five minutes. */
export const ALIAS_CACHE_CONTROL = 'public, max-age=300';
/** A content-hashed name (`/latch.<hash>.js`) never changes meaning. */
export const HASHED_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** The widget's built files: latch.js, latch.iife.js, the language chunks (latch-de.js...), the password form (latch-password.js) and the partitioned hand-off (latch-handoff.js). */
const WIDGET_FILE = /^latch[\w.-]*\.js$/;
const HASH_LENGTH = 12;

interface Asset {
  body: Buffer;
  etag: string;
  cacheControl: string;
}

export interface WidgetAssets {
  /** URL path (`/latch.js`, `/latch.3f2a9c0d1b4e.js`) to what is served there. */
  byPath: Map<string, Asset>;
  /** File name to its content-hashed name, e.g. `latch.js` → `latch.3f2a9c0d1b4e.js`. */
  manifest: Record<string, string>;
}

/**
 * Where the built widget is read from without LATCH_WIDGET_DIR: the dist/ folder the BFF was built
 * into (dist/bff/server.js → dist/), or, running from source (bff/routes/), the repository's dist/.
 */
export function defaultWidgetDir(moduleUrl: string = import.meta.url): string {
  const here = dirname(fileURLToPath(moduleUrl));
  return basename(here) === 'bff' ? dirname(here) : resolve(here, '../../dist');
}

/** Reads every latch*.js in `dir` and names each twice: as itself and with its content hash. */
export async function loadWidgetAssets(dir: string): Promise<WidgetAssets> {
  const byPath = new Map<string, Asset>();
  const manifest: Record<string, string> = {};
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => WIDGET_FILE.test(name)).sort();
  } catch {
    names = [];
  }
  for (const name of names) {
    const body = await readFile(join(dir, name));
    const hash = createHash('sha256').update(body).digest('hex').slice(0, HASH_LENGTH);
    const hashed = `${name.slice(0, -'.js'.length)}.${hash}.js`;
    const etag = `"${hash}"`;
    byPath.set(`/${name}`, { body, etag, cacheControl: ALIAS_CACHE_CONTROL });
    byPath.set(`/${hashed}`, { body, etag, cacheControl: HASHED_CACHE_CONTROL });
    manifest[name] = hashed;
  }
  return { byPath, manifest };
}

/**
 * GET /latch.js, /latch.iife.js, /latch-de.js... (short cache) and the same files under their
 * content-hashed names, /latch.<hash>.js (a year, immutable); GET /latch.manifest.json maps each file
 * to its hashed name, for pages that want to pin one. Files are read once, on first use, from
 * LATCH_WIDGET_DIR or the build's dist/. Scripts are public: any origin may load them (an ES module
 * is fetched with CORS), without credentials.
 */
export function widgetAssetRoute(router: RouteTable, deps: RouteDeps) {
  const dir = deps.config.widgetDir ? resolve(deps.config.widgetDir) : defaultWidgetDir();
  let loaded: Promise<WidgetAssets> | undefined;
  let warned = false;
  const assets = async (): Promise<WidgetAssets> => {
    loaded ??= loadWidgetAssets(dir);
    const result = await loaded;
    if (result.byPath.size === 0) {
      // Not built (yet): look again next time rather than remembering the absence.
      loaded = undefined;
      if (!warned) {
        warned = true;
        deps.logger.warn({ dir }, 'no widget bundle (latch*.js) found: /latch.js answers 404 (run `npm run build`, or set LATCH_WIDGET_DIR)');
      }
    }
    return result;
  };

  router.get(/^\/latch[\w.-]*\.js$/, async (ctx) => {
    const asset = (await assets()).byPath.get(ctx.path);
    if (!asset) return; // 404 LATCH_NOT_FOUND from the error handler
    publicScriptHeaders(ctx);
    ctx.set('Cache-Control', asset.cacheControl);
    ctx.set('ETag', asset.etag);
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = asset.body;
  });

  router.get('/latch.manifest.json', async (ctx) => {
    const { manifest } = await assets();
    if (Object.keys(manifest).length === 0) return;
    publicScriptHeaders(ctx);
    ctx.set('Cache-Control', ALIAS_CACHE_CONTROL);
    ctx.body = manifest;
  });
}

/** Public, credential-less CORS (replaces the per-origin answer of the cors middleware). */
function publicScriptHeaders(ctx: Context) {
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.remove('Access-Control-Allow-Credentials');
  ctx.remove('Vary');
  ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
}
