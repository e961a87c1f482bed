/**
 * Microsites and a BFF on different sites, in Chromium over HTTPS with real host names
 * (docs/embedding.md). One BFF deployment (LATCH_SITES, LATCH_HANDOFF) serves:
 *
 * - auth.brand.test for www.brand.test (same site), and for shop-a.test (another site: detection,
 *   and the partitioned hand-off);
 * - auth.shop-a.test for shop-a.test and auth.campaign-b.test for campaign-b.test (a host name per site);
 * - shop-a.test/latch (a path mount: the microsite's server forwards /latch/* to the BFF).
 *
 * Certificates are made by openssl for this run; Chromium accepts the leaf by its key. Third-party
 * cookies are blocked through the profile (test/helpers/browser.ts), and each browser proves its
 * setting with a real cross-site cookie before a test relies on it. The provider is the dev
 * provider on http://127.0.0.1.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { pino } from 'pino';
import { createBff, type Bff } from '../../bff/app.ts';
import { loadConfig } from '../../bff/config.ts';
import { siteHandler } from '../../dev/site.ts';
import { startDevProvider, type DevProvider } from '../../dev/provider.ts';
import { browserSuiteOptions, launchBrowser, type LaunchedBrowser } from '../helpers/browser.ts';
import { signInAtProvider } from '../helpers/e2e.ts';
import { freePort, listen, type Listening } from '../helpers/net.ts';
import { makeCertificates, opensslSuiteOptions, type TestCertificates } from '../helpers/tls.ts';

/** The second user's groups (a large hand-off session, test below). */
const BIG_GROUPS = Array.from({ length: 88 }, (_, i) => `engineering-platform-group-${String(i).padStart(3, '0')}`);

const HOSTS = ['www.brand.test', 'auth.brand.test', 'shop-a.test', 'auth.shop-a.test', 'campaign-b.test', 'auth.campaign-b.test', 'probe.test', 'evil.test'];

interface World {
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

async function startWorld(): Promise<World> {
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

describe('microsites on other sites, in Chromium over HTTPS', { ...browserSuiteOptions(), ...opensslSuiteOptions() }, () => {
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

  it('a page on another site cannot lock the user out by opening /login with long returnTo six times in a popup: /me never answers 431, and sign-in still works', async () => {
    const { page } = await freshBrowser('block');
    const bff = world.bffAt('auth.brand.test');
    const bomb = `${bff}/login?returnTo=${encodeURIComponent(`${world.siteAt('www.brand.test')}/${'a'.repeat(2000)}`)}`;
    await page.goto(`${world.siteAt('evil.test')}/`);
    await page.evaluate((url) => ((window as unknown as { target: string }).target = url), bomb);
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#go')]);
    await popup.waitForURL((u) => u.origin === world.provider.issuer);
    for (let i = 1; i < 6; i++) {
      // The page's script sends its popup to /login again (no user gesture needed for that).
      const before = popup.url();
      await page.evaluate((url) => ((window as unknown as { w: Window }).w.location.href = url), bomb);
      await popup.waitForURL((u) => u.origin === world.provider.issuer && u.href !== before);
    }
    await popup.close();
    const tx = (await browser!.context.cookies(bff)).filter((c) => c.name.includes('latch-tx-'));
    assert.ok(tx.length <= 3, `${tx.length} transaction cookies are left`);
    const bytes = tx.reduce((sum, c) => sum + c.name.length + c.value.length + 3, 0);
    assert.ok(bytes < 7 * 1024, `${bytes} bytes of transaction cookies`);

    // The user's own site: /me answers (signed out, not 431), and a sign-in completes.
    const site = `${world.siteAt('www.brand.test')}/`;
    await page.goto(site);
    const status = await page.evaluate(async (url) => (await fetch(`${url}/me`, { credentials: 'include' })).status, bff);
    assert.equal(status, 401, 'signed out, and not 431');
    await signInByRedirect(page, site);
    assert.equal((await meFromPage(page, bff)).status, 200);
    await signOut(page, world.siteAt('www.brand.test'));
  });

  it('serves the hand-off chunk beside the bundle, from the BFF (and its manifest) and from the microsite', async () => {
    const get = (url: string) =>
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        https.get(url, { ca: world.certs.ca, lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
        }).once('error', reject);
      });
    for (const url of [`${world.bffAt('auth.brand.test')}/latch-handoff.js`, `${world.siteAt('shop-a.test')}/latch-handoff.js`]) {
      const res = await get(url);
      assert.equal(res.status, 200, url);
      assert.match(res.type, /^text\/javascript/);
      assert.match(res.body, /\/handoff/);
    }
    const manifest = JSON.parse((await get(`${world.bffAt('auth.brand.test')}/latch.manifest.json`)).body) as Record<string, string>;
    assert.match(manifest['latch-handoff.js'] ?? '', /^latch-handoff\.[0-9a-f]{12}\.js$/);
  });

  it('same site (www.brand.test and auth.brand.test): signs in, /me says same-site, signs out', async () => {
    const { page } = await freshBrowser('block');
    const url = `${world.siteAt('www.brand.test')}/`;
    await page.goto(url);
    const before = await meFromPage(page, world.bffAt('auth.brand.test'));
    assert.deepEqual([before.status, before.body.error.code, before.body.sameSite], [401, 'LATCH_UNAUTHENTICATED', true], 'signed out, and same-site');
    await signInByRedirect(page, url);
    const me = await meFromPage(page, world.bffAt('auth.brand.test'));
    assert.equal(me.status, 200);
    assert.equal(me.body.sameSite, true);
    const cookies = await browser!.context.cookies(world.bffAt('auth.brand.test'));
    assert.ok(cookies.some((c) => c.name === '__Host-latch' && c.secure && c.httpOnly && c.sameSite === 'Lax'), JSON.stringify(cookies));
    await signOut(page, world.siteAt('www.brand.test'));
  });

  it('a host name per site (shop-a.test → auth.shop-a.test, campaign-b.test → auth.campaign-b.test), one BFF', async () => {
    const { page } = await freshBrowser('block');
    await signInByRedirect(page, `${world.siteAt('shop-a.test')}/`);
    const me = await meFromPage(page, world.bffAt('auth.shop-a.test'));
    assert.equal(me.status, 200);
    assert.equal(me.body.sameSite, true);
    assert.ok((await browser!.context.cookies(world.bffAt('auth.shop-a.test'))).some((c) => c.name === '__Host-latch'));

    // The other site's host has its own cookie: signed out there until it signs in itself.
    const other = await browser!.newPage();
    await other.goto(`${world.siteAt('campaign-b.test')}/`);
    await other.locator('latch-login').getByRole('button', { name: 'Sign in' }).waitFor();
    await other.close();
    await signInByRedirect(page, `${world.siteAt('campaign-b.test')}/`);
    const meB = await meFromPage(page, world.bffAt('auth.campaign-b.test'));
    assert.equal(meB.status, 200);
    await signOut(page, world.siteAt('campaign-b.test'));
    // Signing out of campaign-b's BFF host leaves shop-a's session there alone.
    await page.goto(`${world.siteAt('shop-a.test')}/`);
    await page.locator('#members').waitFor({ state: 'visible' });
  });

  it('a path mount (shop-a.test/latch forwarded to the BFF): same-origin calls, cookies scoped to /latch', async () => {
    const { page } = await freshBrowser('block');
    const url = `${world.siteAt('shop-a.test')}/mounted/`;
    await signInByRedirect(page, url);
    const me = await meFromPage(page, `${world.siteAt('shop-a.test')}/latch`);
    assert.equal(me.status, 200);
    assert.equal(me.body.sameSite, true);
    const cookies = await browser!.context.cookies(`${world.siteAt('shop-a.test')}/latch/me`);
    const session = cookies.find((c) => c.name === '__Secure-latch');
    assert.ok(session && session.path === '/latch' && session.secure && session.httpOnly, JSON.stringify(cookies));
    assert.equal((await browser!.context.cookies(url)).some((c) => c.name.includes('latch')), false, 'the rest of the microsite never sees it');
    await signOut(page, world.siteAt('shop-a.test'));
  });

  for (const thirdPartyCookies of ['block', 'allow'] as const) {
    it(`detects a cross-site BFF after a redirect sign-in (third-party cookies ${thirdPartyCookies}ed): latch-error LATCH_THIRD_PARTY_COOKIES_BLOCKED and one console message`, async () => {
      const { page, console } = await freshBrowser(thirdPartyCookies);
      const url = `${world.siteAt('shop-a.test')}/cross/`;
      await page.goto(url);
      const login = page.locator('latch-login');
      await login.getByRole('button', { name: 'Sign in' }).click();
      await signInAtProvider(page, user().login, user().password);
      await page.waitForURL((u) => u.origin === world.siteAt('shop-a.test'));
      // Not back to "Sign in": the error state, with Retry.
      await login.getByRole('button', { name: 'Retry' }).waitFor();
      assert.equal(page.url(), url, 'latch_proof is gone from the address bar');
      const events = await page.evaluate(() => (window as unknown as { latchEvents: { type: string; detail: { code?: string; source?: string } }[] }).latchEvents);
      assert.deepEqual(events.filter((e) => e.type === 'latch-error').map((e) => e.detail), [{ code: 'LATCH_THIRD_PARTY_COOKIES_BLOCKED', source: 'bff' }]);
      assert.equal(events.some((e) => e.type === 'latch-login'), false);
      const messages = console.filter((m) => m.includes('docs/embedding.md'));
      assert.equal(messages.length, 1, console.join('\n'));
      assert.match(messages[0]!, /^error: latch: .*third-party cookies.*host name.*path.*hand-off/);
      // The sign-in itself worked: the BFF's own site has the session cookie, the page cannot use it.
      assert.ok((await browser!.context.cookies(world.bffAt('auth.brand.test'))).some((c) => c.name === '__Host-latch'));
      const me = await meFromPage(page, world.bffAt('auth.brand.test'));
      assert.equal(me.status, 401);
      assert.equal(me.body.error.code, 'LATCH_UNAUTHENTICATED', 'the proof counted once');
      assert.equal(me.body.sameSite, false, 'a signed-out /me tells the page it is not same-site (Chromium\'s Sec-Fetch-Site)');
    });
  }

  for (const thirdPartyCookies of ['block', 'allow'] as const) {
    it(`signs in on shop-a.test with the BFF on auth.brand.test through the partitioned hand-off (third-party cookies ${thirdPartyCookies}ed), calls /me, signs out`, async () => {
      const { page } = await freshBrowser(thirdPartyCookies);
      const url = `${world.siteAt('shop-a.test')}/handoff/`;
      const bff = world.bffAt('auth.brand.test');
      await page.goto(url);
      const login = page.locator('latch-login');
      const [popup] = await Promise.all([page.waitForEvent('popup'), login.getByRole('button', { name: 'Sign in' }).click()]);
      const closed = popup.waitForEvent('close', { timeout: 15_000 });
      await signInAtProvider(popup, user().login, user().password);
      await closed;
      await page.locator('#members').waitFor({ state: 'visible' });
      await login.getByRole('button', { name: new RegExp(name()) }).waitFor();
      assert.equal(page.url(), url, 'the page never navigated');
      const events = await page.evaluate(() => (window as unknown as { latchEvents: { type: string }[] }).latchEvents.map((e) => e.type));
      assert.deepEqual(events, ['latch-login']);

      // The session cookie lives in shop-a.test's partition: partitioned, SameSite=None, Secure, HttpOnly.
      const cookies = (await browser!.context.cookies(bff)).filter((c) => c.name.startsWith('__Host-latch'));
      const partitioned = cookies.find((c) => c.name === '__Host-latch-p');
      assert.ok(partitioned, JSON.stringify(cookies));
      assert.equal(partitioned.sameSite, 'None');
      assert.ok(partitioned.secure && partitioned.httpOnly);
      assert.equal((partitioned as { partitionKey?: unknown }).partitionKey, 'https://shop-a.test', 'partitioned under the microsite\'s site');
      assert.equal(cookies.some((c) => c.name === '__Host-latch'), false, 'no unpartitioned session cookie was set');

      // /me works from the page (cross-site, with the partitioned cookie), and after a reload.
      const me = await meFromPage(page, bff);
      assert.equal(me.status, 200);
      assert.equal(me.body.sameSite, false);
      await page.reload();
      await page.locator('#members').waitFor({ state: 'visible' });
      // Only in shop-a.test's partition: the BFF's own site (www.brand.test, same-site with it) sees no session.
      const other = await browser!.newPage();
      await other.goto(`${world.siteAt('www.brand.test')}/`);
      const there = await meFromPage(other, bff);
      assert.equal(there.status, 401);
      await other.close();

      await signOut(page, world.siteAt('shop-a.test'));
      const after = await meFromPage(page, bff);
      assert.equal(after.status, 401);
      assert.equal((await browser!.context.cookies(bff)).some((c) => c.name === '__Host-latch-p'), false, 'the partitioned cookie is gone');
    });
  }

  it('keeps a hand-off session too large for CHIPS\' 10 KiB in the store: one small partitioned cookie, signed in, every claim there', async () => {
    const { page, console } = await freshBrowser('block');
    const url = `${world.siteAt('shop-a.test')}/handoff/`;
    const bff = world.bffAt('auth.brand.test');
    const big = world.provider.users[1]!;
    await page.goto(url);
    const login = page.locator('latch-login');
    const [popup] = await Promise.all([page.waitForEvent('popup'), login.getByRole('button', { name: 'Sign in' }).click()]);
    const closed = popup.waitForEvent('close', { timeout: 15_000 });
    await signInAtProvider(popup, big.login, big.password);
    await closed;
    // The hand-off ends in a sign-in or in an error (before: LATCH_THIRD_PARTY_COOKIES_BLOCKED, the first chunk gone).
    await page.waitForFunction(() => (window as unknown as { latchEvents: unknown[] }).latchEvents.length > 0);
    const events = await page.evaluate(() => (window as unknown as { latchEvents: { type: string; detail: { code?: string } }[] }).latchEvents.map((e) => `${e.type} ${e.detail.code ?? ''}`.trim()));
    assert.deepEqual(events, ['latch-login'], 'signed in, no LATCH_THIRD_PARTY_COOKIES_BLOCKED');
    await login.getByRole('button', { name: new RegExp(big.name) }).waitFor();
    await page.locator('#members').waitFor({ state: 'visible' });
    assert.equal(console.filter((m) => m.includes('latch:')).length, 0, console.join('\n'));

    const me = await meFromPage(page, bff);
    assert.equal(me.status, 200);
    assert.deepEqual(me.body.user.groups, BIG_GROUPS);
    const cookies = (await browser!.context.cookies(bff)).filter((c) => c.name.startsWith('__Host-latch-p'));
    assert.deepEqual(cookies.map((c) => c.name), ['__Host-latch-p'], 'one partitioned cookie, no chunks');
    assert.ok(cookies[0]!.value.length < 1024, `${cookies[0]!.value.length} bytes`);
    // What it stands for would have sealed to more than the partition keeps.
    const partitioned = world.app.latch.sessions.withCookies({ secure: true, partitioned: true }, 'latch-p');
    const read = await partitioned.read(`__Host-latch-p=${cookies[0]!.value}`);
    assert.ok(read, 'the cookie opens');
    const full = await partitioned.sealer.seal(read.session, 3600);
    assert.ok(full.length > 10 * 1024 && full.length <= 3 * 3800, `the session seals to ${full.length} bytes`);
    await signOut(page, world.siteAt('shop-a.test'), big.name);
  });
});
