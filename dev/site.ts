import { existsSync, readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The demo microsite: its one page (pointing the widget at `bffUrl`) and the
 * widget bundles from dist/. Used by `npm start` and the browser tests.
 */
export function siteHandler(options: { bffUrl: string; page?: string }): RequestListener {
  const page = readFileSync(options.page ?? join(root, 'dev/site/index.html'), 'utf8').replaceAll('__BFF__', options.bffUrl);
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const asset = /^\/([\w.-]+\.js)$/.exec(path);
    if (asset && existsSync(join(root, 'dist', asset[1]!))) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(readFileSync(join(root, 'dist', asset[1]!)));
      return;
    }
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(page);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  };
}
