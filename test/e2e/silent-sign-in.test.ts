/**
 * Silent sign-in in Chromium (docs/api.md, "Silent sign-in"): the microsite (www.latch.test) frames
 * `/login?prompt=none&mode=silent` of its BFF (auth.latch.test, the same site) in a hidden iframe: without
 * a session at the provider the frame tells the page `login_required`; with one at a provider on
 * another site (127.0.0.1), too, since the provider's SameSite=Lax cookie is not sent in a frame, and
 * the top-level variant then signs in without a click. (The frame's `ok` with a provider session is
 * test/bff/routes/callback-silent.test.ts, over HTTP.) A page on an origin the BFF does not allow cannot frame that page
 * (CSP frame-ancestors), and the popup page stays unframeable for everyone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuiteOptions, launchBrowser, type LaunchedBrowser } from '../helpers/browser.ts';
import { signInAtProvider, startBrowserStack, type BrowserStack } from '../helpers/e2e.ts';

/** Frames `src` in `page` and waits up to `ms` for a `latch:login` message: the message, or null. */
function frameAndListen(page: Page, src: string, ms = 4000): Promise<{ data: { type: string; ok: boolean; error?: string }; origin: string } | null> {
  return page.evaluate(([src, ms]) => new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms as number);
    window.addEventListener('message', (e) => {
      if (e.data?.type !== 'latch:login') return;
      clearTimeout(timer);
      resolve({ data: e.data, origin: e.origin });
    });
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.src = src as string;
    document.body.append(frame);
  }), [src, ms] as const) as Promise<{ data: { type: string; ok: boolean; error?: string }; origin: string } | null>;
}

describe('silent sign-in in Chromium', browserSuiteOptions(), () => {
  let stack: BrowserStack;
  let browser: LaunchedBrowser;
  before(async () => {
    stack = await startBrowserStack();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  const silentUrl = () => `${stack.bffUrl}/login?prompt=none&mode=silent&returnTo=${encodeURIComponent(stack.siteUrl)}`;
  const me = (page: Page) => page.evaluate((bff) => fetch(`${bff}/me`, { credentials: 'include' }).then((r) => r.status), stack.bffUrl);

  it('without a session at the provider: the frame says login_required, and the page stays signed out', async () => {
    const page = await browser.newPage();
    await page.goto(stack.siteUrl);
    const message = await frameAndListen(page, silentUrl());
    assert.deepEqual(message, { data: { type: 'latch:login', ok: false, error: 'login_required' }, origin: new URL(stack.bffUrl).origin });
    assert.equal(await me(page), 401);
    await page.close();
  });

  it('with a session at a provider on another site: the frame cannot use it (login_required); the top-level variant signs in without a click', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(stack.siteUrl)}`);
    await signInAtProvider(page, stack.user.login, stack.user.password);
    await page.waitForURL(stack.siteUrl);
    // The BFF's session ends (as by its idle timeout); the provider's lives on.
    await browser.context.clearCookies({ domain: new URL(stack.bffUrl).hostname });
    assert.equal(await me(page), 401);
    // The provider (127.0.0.1) is another site than the page (latch.test): its session cookie is
    // SameSite=Lax, which a browser never sends in a frame of another site.
    const framed = await frameAndListen(page, silentUrl());
    assert.deepEqual(framed?.data, { type: 'latch:login', ok: false, error: 'login_required' });
    assert.equal(await me(page), 401);
    // The top-level variant is a navigation: the provider's cookie goes, and no page is shown.
    await page.goto(`${stack.bffUrl}/login?prompt=none&returnTo=${encodeURIComponent(`${stack.siteUrl}?back=1`)}`);
    await page.waitForURL((url) => url.searchParams.get('back') === '1');
    assert.equal(new URL(page.url()).searchParams.get('latch_error'), null);
    assert.equal(await me(page), 200);
    await page.close();
  });

  it('cannot be framed by an origin the BFF does not allow; the popup page cannot be framed at all', async () => {
    const page = await browser.newPage();
    // The same microsite server under another host name: an origin that is not in LATCH_ALLOWED_ORIGINS.
    const evil = stack.siteUrl.replace('www.latch.test', 'evil.latch.test');
    await page.goto(evil);
    const blocked: string[] = [];
    page.on('console', (m) => blocked.push(m.text()));
    assert.equal(await frameAndListen(page, silentUrl(), 3000), null, 'no message reaches a foreign parent');
    const popup = await browser.newPage();
    await popup.goto(stack.siteUrl);
    const framedPopup = await frameAndListen(popup, `${stack.bffUrl}/login?mode=popup&returnTo=${encodeURIComponent(stack.siteUrl)}`, 3000);
    assert.equal(framedPopup, null, 'the popup page is not framed');
    assert.ok(blocked.some((text) => /frame-ancestors|Refused to frame/i.test(text)), `Chromium refused the frame: ${blocked.join(' | ')}`);
    await page.close();
    await popup.close();
  });
});
