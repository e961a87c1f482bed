/**
 * Screenshots of <latch-login>'s states, light and dark, plus a themed one,
 * taken from the built bundle (dist/latch.js) in Debian's Chromium, into
 * docs/img/. The BFF is faked in the page at the fetch level. Each shot first
 * waits for its state, so the script fails (exit 1) when a state does not show.
 *
 *   npm run build:widget && node --import tsx scripts/widget-screenshots.ts
 */
import { readFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromiumAvailable, launchBrowser } from '../test/helpers/browser.ts';

const root = join(import.meta.dirname, '..');
const out = join(root, 'docs', 'img');

if (!chromiumAvailable()) {
  console.error('widget-screenshots: no Chromium (apt-get install chromium, or set LATCH_CHROMIUM)');
  process.exit(1);
}

const AVATAR =
  'data:image/svg+xml,' +
  encodeURIComponent(
    `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#7c3aed"/>` +
      `<circle cx="32" cy="25" r="12" fill="#ede9fe"/><ellipse cx="32" cy="58" rx="22" ry="16" fill="#ede9fe"/></svg>`,
  );

type Shot = {
  name: string;
  /** What /me answers: a user, 401, nothing ever, or a network failure. */
  me: 'user' | 'user-no-picture' | '401' | 'hang' | 'down';
  /** Query string for the page (e.g. ?latch_error=...). */
  query?: string;
  /** Extra attributes on <latch-login>. */
  attrs?: string;
  /** Inline CSS for the theming example. */
  css?: string;
  /** What to do before the shot. */
  act?: 'open-menu' | 'click';
  /** Shadow-root selector that proves the state is shown. */
  ready: string;
};

const shots: Shot[] = [
  { name: 'loading', me: 'hang', ready: '[part=skeleton]' },
  { name: 'signed-out', me: '401', ready: '[part=button]' },
  { name: 'signing-in', me: '401', attrs: 'mode="popup"', act: 'click', ready: 'button[aria-busy=true]' },
  { name: 'signed-in', me: 'user', ready: '[part=avatar]' },
  { name: 'menu', me: 'user-no-picture', act: 'open-menu', ready: '[role=menu]:not([hidden])' },
  { name: 'error', me: '401', query: '?latch_error=access_denied', ready: '[part=error]' },
  { name: 'unreachable', me: 'down', ready: '[part=error]' },
];

const themed: Shot = {
  name: 'themed',
  me: 'user',
  act: 'open-menu',
  ready: '[role=menu]:not([hidden])',
  css: `latch-login {
    --latch-accent: #0f766e; --latch-on-accent: #fff; --latch-bg: #f0fdfa; --latch-fg: #134e4a;
    --latch-border: #99f6e4; --latch-radius: 999px; --latch-font: Georgia, serif;
  }
  latch-login::part(menu) { box-shadow: none; }
  latch-login::part(avatar) { outline: 2px solid #0f766e; }`,
};

function page(shot: Shot, scheme: string): string {
  const background = scheme == 'dark' ? '#111827' : '#ffffff';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${shot.name}</title>
<style>
  body { margin: 0; background: ${background}; font: 16px system-ui, sans-serif; }
  #stage { display: inline-block; padding: 16px 24px ${shot.act == 'open-menu' ? '72px' : '16px'}; }
  ${shot.css ?? ''}
</style>
<script>
  const user = { sub: 'u1', name: 'Ada Lovelace', email: 'ada@example.com' ${shot.me == 'user' ? `, picture: '${AVATAR}'` : ''} };
  const me = ${JSON.stringify(shot.me)};
  const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const realFetch = fetch;
  window.fetch = (input, init) => {
    const url = String(input);
    if (!url.startsWith('https://auth.latch.test')) return realFetch(input, init);
    if (me == 'hang') return new Promise(() => {});
    if (me == 'down') return Promise.reject(new TypeError('Failed to fetch'));
    if (me == '401') return Promise.resolve(json(401, { error: { code: 'LATCH_UNAUTHENTICATED', message: 'x' } }));
    return Promise.resolve(json(200, { user, expiresAt: Date.now() + 3600000 }));
  };
  // The "signing in" shot: a popup that stays open.
  window.open = () => ({ closed: false });
</script>
<script type="module" src="/dist/latch.js"></script>
</head><body><div id="stage"><latch-login bff="https://auth.latch.test" ${shot.attrs ?? ''}></latch-login></div></body></html>`;
}

const types: Record<string, string> = { '.js': 'text/javascript', '.json': 'application/json' };
let current = '';
const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname == '/') {
    res.writeHead(200, { 'content-type': 'text/html' }).end(current);
    return;
  }
  const path = normalize(join(root, url.pathname));
  if (!path.startsWith(join(root, 'dist'))) return void res.writeHead(404).end();
  try {
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(await readFile(path));
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

mkdirSync(out, { recursive: true });
const browser = await launchBrowser();
const written: string[] = [];
let failed = false;
try {
  const tab = await browser.newPage();
  await tab.setViewportSize({ width: 480, height: 240 });
  const all: [Shot, 'light' | 'dark'][] = [
    ...shots.flatMap((s) => [[s, 'light'], [s, 'dark']] as [Shot, 'light' | 'dark'][]),
    [themed, 'light'],
  ];
  for (const [shot, scheme] of all) {
    const file = `widget-${shot.name}${shot == themed ? '' : `-${scheme}`}.png`;
    try {
      current = page(shot, scheme);
      await tab.emulateMedia({ colorScheme: scheme });
      await tab.goto(`${base}/${shot.query ?? ''}`);
      const host = tab.locator('latch-login');
      if (shot.act) await host.locator('button').first().click();
      await host.locator(shot.ready).first().waitFor({ state: 'attached', timeout: 5000 });
      await tab.evaluate(() => document.fonts.ready);
      await tab.locator('#stage').screenshot({ path: join(out, file), animations: 'disabled' });
      written.push(file);
    } catch (err) {
      failed = true;
      console.error(`${file}: ${(err as Error).message}`);
    }
  }
} finally {
  await browser.close();
  server.close();
}
console.log(`docs/img: ${written.join(' ')}`);
process.exit(failed ? 1 : 0);
