/**
 * Issue 15's "Stay signed in at the provider keeps the user signed in on the microsite", in Chromium:
 * the demo page with `<latch-login silent="true">`, a user signed in, who signs out through the
 * provider's sign-out page (RP-initiated logout; the dev provider's page asks "Do you want to sign
 * out of the Latch development provider too?" with "Sign out" and "Stay signed in").
 *
 * - "Stay signed in": back on the microsite, the page's silent sign-in signs them in again, without
 *   a click. The provider (127.0.0.1) is another site than the page (latch.test), so its SameSite=Lax
 *   session cookie never reaches a frame: it is the top-level variant that does it.
 * - "Sign out": back on the microsite, signed out, with no error shown and no `latch_error` left.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuiteOptions, launchBrowser, type LaunchedBrowser } from '../helpers/browser.ts';
import { signInOnSite, startBrowserStack, type BrowserStack } from '../helpers/e2e.ts';

describe('signing out through the provider\'s page, with silent sign-in, in Chromium', browserSuiteOptions(), () => {
  let stack: BrowserStack;
  let browser: LaunchedBrowser | undefined;
  before(async () => {
    stack = await startBrowserStack({ silent: true });
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  const me = (page: Page) => page.evaluate((bff) => fetch(`${bff}/me`, { credentials: 'include' }).then((r) => r.status), stack.bffUrl);

  /** A fresh browser, signed in on the microsite, then "Sign out" in the account menu: at the provider's sign-out page. */
  async function atProviderSignOut(): Promise<Page> {
    return (await atProviderSignOutWith())[0];
  }
  /** As atProviderSignOut, with a second tab of the microsite open meanwhile (it follows the sign-out). */
  async function atProviderSignOutWith(): Promise<[Page, Page]> {
    await browser?.close();
    browser = await launchBrowser();
    const page = await browser.newPage();
    // Signed out with no session at the provider: the silent sign-in ends quietly at "Sign in".
    await signInOnSite(page, stack.siteUrl, stack.user);
    const login = page.locator('latch-login');
    const other = await browser.newPage();
    await other.goto(stack.siteUrl);
    await other.locator('#members-panel').waitFor({ state: 'visible' });
    await login.getByRole('button', { name: stack.provider.users[0]!.name }).click();
    await login.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.origin === stack.provider.issuer);
    await page.getByRole('button', { name: 'Stay signed in' }).waitFor();
    // The other tab was told (the session's /events stream said `session-ended`, reason `logout`).
    await other.locator('latch-login').getByRole('button', { name: 'Sign in' }).waitFor();
    return [page, other];
  }

  it('"Stay signed in" at the provider: back on the microsite, signed in again without a click', async () => {
    const [page] = await atProviderSignOutWith();
    const navigations: string[] = [];
    page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));
    await page.getByRole('button', { name: 'Stay signed in' }).click();
    await page.waitForURL((url) => url.origin === stack.siteOrigin);
    await page.locator('#members-panel').waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator('latch-login').getByRole('button', { name: stack.provider.users[0]!.name }).waitFor();
    assert.equal(await me(page), 200);
    assert.equal(new URL(page.url()).searchParams.has('latch_error'), false);
    // By the top-level variant: the provider is another site, whose cookie a frame never gets.
    assert.ok(navigations.some((url) => new URL(url).searchParams.has('latch_proof')), navigations.join(' '));
  });

  it('"Sign out" at the provider: back on the microsite, signed out, with no error', async () => {
    const page = await atProviderSignOut();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.origin === stack.siteOrigin);
    const login = page.locator('latch-login');
    await login.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 15_000 });
    // Whatever the silent sign-in tried has settled: the address bar carries no latch_error.
    await page.waitForURL((url) => !url.searchParams.has('latch_error'));
    await page.waitForLoadState('load');
    await login.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(await login.locator('[part~="error"]').count(), 0, 'no error shown');
    assert.equal(await me(page), 401);
    await page.locator('#anonymous-panel').waitFor({ state: 'visible' });
  });
});
