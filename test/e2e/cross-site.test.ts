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
import https from 'node:https';
import { describe, it } from 'node:test';
import { browserSuiteOptions } from '../helpers/browser.ts';
import { crossSiteSuite } from '../helpers/cross-site.ts';
import { signInAtProvider } from '../helpers/e2e.ts';
import { opensslSuiteOptions } from '../helpers/tls.ts';

describe('microsites on other sites, in Chromium over HTTPS', { ...browserSuiteOptions(), ...opensslSuiteOptions() }, () => {
  const suite = crossSiteSuite();
  const { freshBrowser, signInByRedirect, signOut, meFromPage, name, user } = suite;

  it('serves the hand-off chunk beside the bundle, from the BFF (and its manifest) and from the microsite', async () => {
    const get = (url: string) =>
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        https.get(url, { ca: suite.world.certs.ca, lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
        }).once('error', reject);
      });
    for (const url of [`${suite.world.bffAt('auth.brand.test')}/latch-handoff.js`, `${suite.world.siteAt('shop-a.test')}/latch-handoff.js`]) {
      const res = await get(url);
      assert.equal(res.status, 200, url);
      assert.match(res.type, /^text\/javascript/);
      assert.match(res.body, /\/handoff/);
    }
    const manifest = JSON.parse((await get(`${suite.world.bffAt('auth.brand.test')}/latch.manifest.json`)).body) as Record<string, string>;
    assert.match(manifest['latch-handoff.js'] ?? '', /^latch-handoff\.[0-9a-f]{12}\.js$/);
  });

  it('same site (www.brand.test and auth.brand.test): signs in, /me says same-site, signs out', async () => {
    const { page } = await freshBrowser('block');
    const url = `${suite.world.siteAt('www.brand.test')}/`;
    await page.goto(url);
    const before = await meFromPage(page, suite.world.bffAt('auth.brand.test'));
    assert.deepEqual([before.status, before.body.error.code, before.body.sameSite], [401, 'LATCH_UNAUTHENTICATED', true], 'signed out, and same-site');
    await signInByRedirect(page, url);
    const me = await meFromPage(page, suite.world.bffAt('auth.brand.test'));
    assert.equal(me.status, 200);
    assert.equal(me.body.sameSite, true);
    const cookies = await suite.browser.context.cookies(suite.world.bffAt('auth.brand.test'));
    assert.ok(cookies.some((c) => c.name === '__Host-latch' && c.secure && c.httpOnly && c.sameSite === 'Lax'), JSON.stringify(cookies));
    await signOut(page, suite.world.siteAt('www.brand.test'));
  });

  it('a host name per site (shop-a.test → auth.shop-a.test, campaign-b.test → auth.campaign-b.test), one BFF', async () => {
    const { page } = await freshBrowser('block');
    await signInByRedirect(page, `${suite.world.siteAt('shop-a.test')}/`);
    const me = await meFromPage(page, suite.world.bffAt('auth.shop-a.test'));
    assert.equal(me.status, 200);
    assert.equal(me.body.sameSite, true);
    assert.ok((await suite.browser.context.cookies(suite.world.bffAt('auth.shop-a.test'))).some((c) => c.name === '__Host-latch'));

    // The other site's host has its own cookie: signed out there until it signs in itself.
    const other = await suite.browser.newPage();
    await other.goto(`${suite.world.siteAt('campaign-b.test')}/`);
    await other.locator('latch-login').getByRole('button', { name: 'Sign in' }).waitFor();
    await other.close();
    await signInByRedirect(page, `${suite.world.siteAt('campaign-b.test')}/`);
    const meB = await meFromPage(page, suite.world.bffAt('auth.campaign-b.test'));
    assert.equal(meB.status, 200);
    await signOut(page, suite.world.siteAt('campaign-b.test'));
    // Signing out of campaign-b's BFF host leaves shop-a's session there alone.
    await page.goto(`${suite.world.siteAt('shop-a.test')}/`);
    await page.locator('#members').waitFor({ state: 'visible' });
  });

  it('a path mount (shop-a.test/latch forwarded to the BFF): same-origin calls, cookies scoped to /latch', async () => {
    const { page } = await freshBrowser('block');
    const url = `${suite.world.siteAt('shop-a.test')}/mounted/`;
    await signInByRedirect(page, url);
    const me = await meFromPage(page, `${suite.world.siteAt('shop-a.test')}/latch`);
    assert.equal(me.status, 200);
    assert.equal(me.body.sameSite, true);
    const cookies = await suite.browser.context.cookies(`${suite.world.siteAt('shop-a.test')}/latch/me`);
    const session = cookies.find((c) => c.name === '__Secure-latch');
    assert.ok(session && session.path === '/latch' && session.secure && session.httpOnly, JSON.stringify(cookies));
    assert.equal((await suite.browser.context.cookies(url)).some((c) => c.name.includes('latch')), false, 'the rest of the microsite never sees it');
    await signOut(page, suite.world.siteAt('shop-a.test'));
  });

  for (const thirdPartyCookies of ['block', 'allow'] as const) {
    it(`detects a cross-site BFF after a redirect sign-in (third-party cookies ${thirdPartyCookies}ed): latch-error LATCH_THIRD_PARTY_COOKIES_BLOCKED and one console message`, async () => {
      const { page, console } = await freshBrowser(thirdPartyCookies);
      const url = `${suite.world.siteAt('shop-a.test')}/cross/`;
      await page.goto(url);
      const login = page.locator('latch-login');
      await login.getByRole('button', { name: 'Sign in' }).click();
      await signInAtProvider(page, user().login, user().password);
      await page.waitForURL((u) => u.origin === suite.world.siteAt('shop-a.test'));
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
      assert.ok((await suite.browser.context.cookies(suite.world.bffAt('auth.brand.test'))).some((c) => c.name === '__Host-latch'));
      const me = await meFromPage(page, suite.world.bffAt('auth.brand.test'));
      assert.equal(me.status, 401);
      assert.equal(me.body.error.code, 'LATCH_UNAUTHENTICATED', 'the proof counted once');
      assert.equal(me.body.sameSite, false, 'a signed-out /me tells the page it is not same-site (Chromium\'s Sec-Fetch-Site)');
    });
  }

  for (const thirdPartyCookies of ['block', 'allow'] as const) {
    it(`signs in on shop-a.test with the BFF on auth.brand.test through the partitioned hand-off (third-party cookies ${thirdPartyCookies}ed), calls /me, signs out`, async () => {
      const { page } = await freshBrowser(thirdPartyCookies);
      const url = `${suite.world.siteAt('shop-a.test')}/handoff/`;
      const bff = suite.world.bffAt('auth.brand.test');
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
      const cookies = (await suite.browser.context.cookies(bff)).filter((c) => c.name.startsWith('__Host-latch'));
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
      const other = await suite.browser.newPage();
      await other.goto(`${suite.world.siteAt('www.brand.test')}/`);
      const there = await meFromPage(other, bff);
      assert.equal(there.status, 401);
      await other.close();

      await signOut(page, suite.world.siteAt('shop-a.test'));
      const after = await meFromPage(page, bff);
      assert.equal(after.status, 401);
      assert.equal((await suite.browser.context.cookies(bff)).some((c) => c.name === '__Host-latch-p'), false, 'the partitioned cookie is gone');
    });
  }

});
