import { existsSync, readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The demo's icon (a padlock on the widget's accent colour), for the tab and the page's header. */
const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1d4ed8"/><path d="M11 14.5v-3.5a5 5 0 0 1 10 0v3.5" fill="none" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/><rect x="8" y="14" width="16" height="11" rx="2.5" fill="#fff"/><circle cx="16" cy="19.5" r="2" fill="#1d4ed8"/></svg>\n`;

/**
 * The demo microsite: its one page (pointing the widget at `bffUrl`), its icon, and the
 * widget bundles from dist/. Used by `npm start` and the browser tests.
 */
export function siteHandler(options: { bffUrl: string; page?: string; silent?: boolean }): RequestListener {
  let page = readFileSync(options.page ?? join(root, 'dev/site/index.html'), 'utf8').replaceAll('__BFF__', options.bffUrl);
  // `silent`: the page's <latch-login> tries a silent sign-in when /me finds no session (docs/widget.md).
  if (options.silent) page = page.replace('<latch-login ', '<latch-login silent="true" ');
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const asset = /^\/([\w.-]+\.js)$/.exec(path);
    if (asset && existsSync(join(root, 'dist', asset[1]!))) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(readFileSync(join(root, 'dist', asset[1]!)));
      return;
    }
    if (path === '/favicon.svg' || path === '/favicon.ico') {
      res.writeHead(200, { 'content-type': 'image/svg+xml', 'cache-control': 'no-cache' });
      res.end(FAVICON);
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
