/**
 * The world of test/e2e/cross-site*.test.ts: microsites and a BFF on different sites, in Chromium
 * over HTTPS with real host names (docs/embedding.md). One BFF deployment (LATCH_SITES, LATCH_HANDOFF)
 * serves:
 *
 * - auth.brand.test for www.brand.test (same site), and for shop-a.test (another site: detection,
 *   and the partitioned hand-off);
 * - auth.shop-a.test for shop-a.test and auth.campaign-b.test for campaign-b.test (a host name per site);
 * - shop-a.test/latch (a path mount: the microsite's server forwards /latch/* to the BFF).
 *
 * Certificates are made by openssl for this run; Chromium accepts the leaf by its key. Third-party
 * cookies are blocked through the profile (test/helpers/browser.ts), and each browser proves its
 * setting with a real cross-site cookie before a test relies on it. The provider is the dev
 * provider on http://127.0.0.1, with two users: Dana Demo, and Gus Groups whose claims make a large
 * session. evil.test is a page on an unrelated site.
 *
 * Each test file starts a world of its own (node:test times each file as a whole).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { after, before } from 'node:test';
import type { Page } from 'playwright-core';
import { pino } from 'pino';
import { createBff, type Bff } from '../../bff/app.ts';
import { loadConfig } from '../../bff/config.ts';
import { siteHandler } from '../../dev/site.ts';
import { startDevProvider, type DevProvider } from '../../dev/provider.ts';
import { launchBrowser, type LaunchedBrowser } from './browser.ts';
import { signInAtProvider } from './e2e.ts';
import { freePort, listen, type Listening } from './net.ts';
import { makeCertificates, type TestCertificates } from './tls.ts';

/** The second user's groups: a session that seals to about 10.5 KB. */
export const BIG_GROUPS = Array.from({ length: 88 }, (_, i) => `engineering-platform-group-${String(i).padStart(3, '0')}`);

const HOSTS = ['www.brand.test', 'auth.brand.test', 'shop-a.test', 'auth.shop-a.test', 'campaign-b.test', 'auth.campaign-b.test', 'probe.test', 'evil.test'];

export interface World {
  certs: TestCertificates;
  provider: DevProvider;
  app: Bff;
  bff: Listening;
  sites: Listening;
  /** https://<host>:<BFF port> */
  bffAt(host: string): string;
  /** https://<host>:<microsites' port> */
  siteAt(host: string): string;
  close(): Promise<void>;
}

/** A microsite page: the widget from beside the page, one <latch-login>, a gate, and a log of the widget's events. */
function page(bff: string, attributes = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>microsite</title>
<script>window.latchEvents=[];for(const t of ['latch-login','latch-logout','latch-error'])document.addEventListener(t,(e)=>latchEvents.push({type:t,detail:e.detail}));</script>
<script type="module" src="/latch.js"></script></head><body>
<latch-login bff="${bff}" ${attributes}></latch-login>
<latch-gate><p id="members">Members: <latch-user></latch-user></p><p slot="anonymous" id="anonymous">Anonymous</p></latch-gate>
</body></html>`;
}

export async function startWorld(): Promise<World> {
  const certs = await makeCertificates(HOSTS);
  const bffPort = await freePort();
  const sitePort = await freePort();
  const bffAt = (host: string) => `https://${host}:${bffPort}`;
  const siteAt = (host: string) => `https://${host}:${sitePort}`;
  const clientId = `latch-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const sites = [
    { baseUrl: bffAt('auth.brand.test'), allowedOrigins: [siteAt('www.brand.test'), siteAt('shop-a.test')] },
    { baseUrl: bffAt('auth.shop-a.test'), allowedOrigins: [siteAt('shop-a.test')] },
    { baseUrl: bffAt('auth.campaign-b.test'), allowedOrigins: [siteAt('campaign-b.test')] },
    { baseUrl: `${siteAt('shop-a.test')}/latch`, allowedOrigins: [siteAt('shop-a.test')] },
  ];
  const password = randomBytes(12).toString('base64url');
  const provider = await startDevProvider({
    users: [
      { sub: 'demo-user-1', login: 'demo@latch.test', password, name: 'Dana Demo', email: 'demo@latch.test', email_verified: true },
      // Claims enough for a session that seals to about 10.5 KB: three cookies, over CHIPS' 10 KiB.
      { sub: 'big-user-1', login: 'big@latch.test', password, name: 'Gus Groups', email: 'big@latch.test', email_verified: true, extra: { groups: BIG_GROUPS } },
    ],
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: sites.map((s) => `${s.baseUrl}/callback`),
      post_logout_redirect_uris: ['www.brand.test', 'shop-a.test', 'campaign-b.test'].map((h) => `${siteAt(h)}/`),
    }],
  });
  const config = loadConfig({
    LATCH_ISSUER: provider.issuer,
    LATCH_CLIENT_ID: clientId,
    LATCH_CLIENT_SECRET: clientSecret,
    LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
    LATCH_SITES: JSON.stringify(sites),
    LATCH_HANDOFF: 'true',
    // The microsite's server in front of the path mount sets X-Forwarded-Host.
    LATCH_TRUST_PROXY: 'true',
    // For the dev provider on http://127.0.0.1 only: every site is https.
    LATCH_ALLOW_INSECURE_HTTP: 'true',
    LATCH_HTTP_TIMEOUT_MS: '3000',
  });
  const app = createBff(config, { logger: pino({ level: 'silent' }) });
  const bff = await listen(app.callback(), { port: bffPort, tls: certs });

  const assets = siteHandler({ bffUrl: '' });
  const pages: Record<string, string> = {
    'www.brand.test/': page(bffAt('auth.brand.test')),
    'shop-a.test/': page(bffAt('auth.shop-a.test')),
    'campaign-b.test/': page(bffAt('auth.campaign-b.test')),
    'shop-a.test/mounted/': page(`${siteAt('shop-a.test')}/latch`),
    'shop-a.test/cross/': page(bffAt('auth.brand.test')),
    'shop-a.test/handoff/': page(bffAt('auth.brand.test'), 'mode="handoff"'),
    // A page on an unrelated site: one click opens a popup, which its script then sends anywhere.
    'evil.test/': '<!doctype html><title>elsewhere</title><button id="go" onclick="window.w = open(window.target, \'bomb\', \'popup\')">Win a prize</button>',
  };
  const site = await listen((req: IncomingMessage, res: ServerResponse) => {
    const host = (req.headers.host ?? '').split(':')[0]!;
    const path = (req.url ?? '/').split('?')[0]!;
    if (host === 'probe.test') return probe(req, res);
    if (host === 'shop-a.test' && (path === '/latch' || path.startsWith('/latch/'))) return forward(req, res);
    if (/^\/latch[\w.-]*\.js$/.test(path)) return assets(req, res);
    const html = pages[`${host}${path}`];
    if (!html) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
  }, { port: sitePort, tls: certs });

  /** The microsite's reverse proxy for its path mount: /latch/* to the BFF, as a CDN or nginx would (path kept, forwarded headers set). */
  function forward(req: IncomingMessage, res: ServerResponse) {
    const headers = { ...req.headers, host: `127.0.0.1:${bffPort}`, 'x-forwarded-host': req.headers.host!, 'x-forwarded-proto': 'https', 'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1' };
    const upstream = https.request({ host: '127.0.0.1', port: bffPort, path: req.url, method: req.method, headers, ca: certs.ca, servername: 'auth.brand.test' }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.once('error', () => res.headersSent ? res.destroy() : res.writeHead(502).end());
    req.pipe(upstream);
  }

  /** A third-party cookie to test the browser with: SameSite=None; Secure, set and read cross-site. */
  function probe(req: IncomingMessage, res: ServerResponse) {
    const headers: Record<string, string> = { 'access-control-allow-origin': req.headers.origin ?? '*', 'access-control-allow-credentials': 'true', 'content-type': 'text/plain' };
    if (req.url === '/set') headers['set-cookie'] = 'probe=1; SameSite=None; Secure; Path=/';
    res.writeHead(200, headers).end(req.headers.cookie ?? '');
  }

  return {
    certs, provider, app, bff, sites: site, bffAt, siteAt,
    async close() {
      await site.close();
      await bff.close();
      await provider.close();
    },
  };
}


/**
 * The browser side of a suite in that world, for the calling `describe`: starts the world before its
 * tests and stops it (and the browser) after them; the helpers its tests share.
 */
export function crossSiteSuite() {
  let world: World;
  let browser: LaunchedBrowser | undefined;
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    await browser?.close();
    await world?.close();
  });

  /** A fresh profile with third-party cookies blocked or allowed, checked with a real cross-site cookie. */
  async function freshBrowser(thirdPartyCookies: 'block' | 'allow' = 'block'): Promise<{ page: Page; console: string[] }> {
    await browser?.close();
    browser = await launchBrowser({ hostRules: 'MAP *.test 127.0.0.1', extraArgs: world.certs.chromiumArgs, thirdPartyCookies });
    const page = await browser.newPage();
    await page.goto(`${world.siteAt('shop-a.test')}/`);
    const seen = await page.evaluate(async (probe) => {
      await fetch(`${probe}/set`, { credentials: 'include' });
      return (await fetch(`${probe}/read`, { credentials: 'include' })).text();
    }, world.siteAt('probe.test'));
    assert.equal(seen, thirdPartyCookies === 'block' ? '' : 'probe=1', `third-party cookies are ${thirdPartyCookies}ed in this browser`);
    const console: string[] = [];
    page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
    return { page, console };
  }

  const name = () => world.provider.users[0]!.name;
  const user = () => world.provider.users[0]!;

  /** Redirect sign-in from `url`, back on the page signed in. */
  async function signInByRedirect(page: Page, url: string) {
    await page.goto(url);
    const login = page.locator('latch-login');
    await login.getByRole('button', { name: 'Sign in' }).click();
    // The provider shows its form, or (single sign-on, signed in there already) comes straight back.
    await page.waitForURL((u) => u.pathname.startsWith('/interaction/') || u.href === url);
    if (new URL(page.url()).pathname.startsWith('/interaction/')) await signInAtProvider(page, user().login, user().password);
    await page.waitForURL((u) => u.href === url);
    await page.locator('#members').waitFor({ state: 'visible' });
    await login.getByRole('button', { name: new RegExp(name()) }).waitFor();
  }

  /** Sign out from the account menu; the provider asks to confirm, then returns to the page, signed out. */
  async function signOut(page: Page, origin: string, who = name()) {
    const login = page.locator('latch-login');
    await login.getByRole('button', { name: new RegExp(who) }).click();
    await login.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.origin === world.provider.issuer);
    await page.getByRole('button', { name: /yes|sign.?out|logout/i }).first().click();
    await page.waitForURL((u) => u.origin === origin);
    await login.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(await page.locator('#anonymous').isVisible(), true);
  }

  /** What /me says about the page, called from the page as the widget does. */
  const meFromPage = (page: Page, bff: string) =>
    page.evaluate(async (url) => {
      const res = await fetch(`${url}/me`, { credentials: 'include' });
      return { status: res.status, body: await res.json() };
    }, bff);

  return {
    get world(): World {
      return world;
    },
    /** The browser of the last freshBrowser(). */
    get browser(): LaunchedBrowser {
      return browser!;
    },
    freshBrowser, name, user, signInByRedirect, signOut, meFromPage,
  };
}
