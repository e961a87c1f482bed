/**
 * Attacks and limits at the edges of the cross-site world (test/helpers/cross-site.ts), in Chromium over
 * HTTPS: a page on an unrelated site piling up the BFF's transaction cookies, and a hand-off session
 * larger than the partitioned-cookie budget Chromium keeps (issue 13).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { browserSuiteOptions } from '../helpers/browser.ts';
import { BIG_GROUPS, crossSiteSuite } from '../helpers/cross-site.ts';
import { signInAtProvider } from '../helpers/e2e.ts';
import { opensslSuiteOptions } from '../helpers/tls.ts';

describe('cross-site limits, in Chromium over HTTPS', { ...browserSuiteOptions(), ...opensslSuiteOptions() }, () => {
  const suite = crossSiteSuite();
  const { freshBrowser, signInByRedirect, signOut, meFromPage } = suite;

  it('a page on another site cannot lock the user out by opening /login with long returnTo six times in a popup: /me never answers 431, and sign-in still works', async () => {
    const { page } = await freshBrowser('block');
    const bff = suite.world.bffAt('auth.brand.test');
    const bomb = `${bff}/login?returnTo=${encodeURIComponent(`${suite.world.siteAt('www.brand.test')}/${'a'.repeat(2000)}`)}`;
    await page.goto(`${suite.world.siteAt('evil.test')}/`);
    await page.evaluate((url) => ((window as unknown as { target: string }).target = url), bomb);
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#go')]);
    await popup.waitForURL((u) => u.origin === suite.world.provider.issuer);
    for (let i = 1; i < 6; i++) {
      // The page's script sends its popup to /login again (no user gesture needed for that).
      const before = popup.url();
      await page.evaluate((url) => ((window as unknown as { w: Window }).w.location.href = url), bomb);
      await popup.waitForURL((u) => u.origin === suite.world.provider.issuer && u.href !== before);
    }
    await popup.close();
    const tx = (await suite.browser.context.cookies(bff)).filter((c) => c.name.includes('latch-tx-'));
    assert.ok(tx.length <= 3, `${tx.length} transaction cookies are left`);
    const bytes = tx.reduce((sum, c) => sum + c.name.length + c.value.length + 3, 0);
    assert.ok(bytes < 7 * 1024, `${bytes} bytes of transaction cookies`);

    // The user's own site: /me answers (signed out, not 431), and a sign-in completes.
    const site = `${suite.world.siteAt('www.brand.test')}/`;
    await page.goto(site);
    const status = await page.evaluate(async (url) => (await fetch(`${url}/me`, { credentials: 'include' })).status, bff);
    assert.equal(status, 401, 'signed out, and not 431');
    await signInByRedirect(page, site);
    assert.equal((await meFromPage(page, bff)).status, 200);
    await signOut(page, suite.world.siteAt('www.brand.test'));
  });

  it('keeps a hand-off session too large for CHIPS\' 10 KiB in the store: one small partitioned cookie, signed in, every claim there', async () => {
    const { page, console } = await freshBrowser('block');
    const url = `${suite.world.siteAt('shop-a.test')}/handoff/`;
    const bff = suite.world.bffAt('auth.brand.test');
    const big = suite.world.provider.users[1]!;
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
    const cookies = (await suite.browser.context.cookies(bff)).filter((c) => c.name.startsWith('__Host-latch-p'));
    assert.deepEqual(cookies.map((c) => c.name), ['__Host-latch-p'], 'one partitioned cookie, no chunks');
    assert.ok(cookies[0]!.value.length < 1024, `${cookies[0]!.value.length} bytes`);
    // What it stands for would have sealed to more than the partition keeps.
    const partitioned = suite.world.app.latch.sites.all[0]!.partitioned!;
    assert.equal(partitioned.name, '__Host-latch-p');
    const read = await partitioned.read(`__Host-latch-p=${cookies[0]!.value}`);
    assert.ok(read, 'the cookie opens');
    const full = await partitioned.sessions.sealer.seal(read.session, 3600);
    assert.ok(full.length > 10 * 1024 && full.length <= 3 * 3800, `the session seals to ${full.length} bytes`);
    await signOut(page, suite.world.siteAt('shop-a.test'), big.name);
  });
});
