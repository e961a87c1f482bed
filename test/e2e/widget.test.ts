import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { browserSuiteOptions, launchBrowser, type LaunchedBrowser } from '../helpers/browser.ts';
import { signInAtProvider, startBrowserStack, type BrowserStack } from '../helpers/e2e.ts';

/** The widget against the real BFF and oidc-provider: popup, tabs, errors, keyboard. */
describe('the widget end to end in Chromium', browserSuiteOptions(), () => {
  let stack: BrowserStack;
  let browser: LaunchedBrowser;
  before(async () => {
    stack = await startBrowserStack();
  });
  after(async () => {
    await stack?.close();
  });

  // A fresh browser profile per test: no provider session or cookies carried over.
  async function freshBrowser() {
    await browser?.close();
    browser = await launchBrowser();
    return browser;
  }
  after(async () => browser?.close());

  it('signs in through a popup without leaving the page', async () => {
    const b = await freshBrowser();
    const page = await b.newPage();
    await page.goto(stack.siteUrl);
    const login = page.locator('latch-login');
    await login.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.evaluate(() => document.querySelector('latch-login')!.setAttribute('mode', 'popup'));
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      login.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    // Wait for the close from before the submit: the popup may close as soon as it posts.
    const closed = popup.waitForEvent('close', { timeout: 10_000 });
    await signInAtProvider(popup, stack.user.login, stack.user.password);
    await closed;
    await page.locator('#members-panel').waitFor({ state: 'visible' });
    assert.equal(page.url(), stack.siteUrl, 'the page itself never navigated');
    await login.getByRole('button', { name: new RegExp(stack.provider.users[0]!.name) }).waitFor();
  });

  it('signs every tab out within a second when one tab signs out', async () => {
    const b = await freshBrowser();
    const first = await b.newPage();
    await first.goto(stack.siteUrl);
    await first.locator('latch-login').getByRole('button', { name: 'Sign in' }).click();
    await signInAtProvider(first, stack.user.login, stack.user.password);
    await first.waitForURL(stack.siteUrl);
    await first.locator('#members-panel').waitFor({ state: 'visible' });

    const second = await b.newPage();
    await second.goto(stack.siteUrl);
    await second.locator('#members-panel').waitFor({ state: 'visible' });

    const name = stack.provider.users[0]!.name;
    const login = first.locator('latch-login');
    await login.getByRole('button', { name: new RegExp(name) }).click();
    const started = Date.now();
    await login.getByRole('menuitem', { name: 'Sign out' }).click();
    await second.locator('#anonymous-panel').waitFor({ state: 'visible', timeout: 1000 });
    assert.ok(Date.now() - started <= 1500, 'the other tab followed within about a second');
    assert.equal(await second.locator('#members-panel').isVisible(), false);
  });

  it('shows access_denied in words, removes latch_error from the address bar, and Retry signs in', async () => {
    const b = await freshBrowser();
    const page = await b.newPage();
    await page.goto(stack.siteUrl);
    const login = page.locator('latch-login');
    await login.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
    await page.getByRole('button', { name: /cancel/i }).click();
    await page.waitForURL((url) => url.origin === new URL(stack.siteUrl).origin);
    const retry = login.getByRole('button', { name: 'Retry' });
    await retry.waitFor();
    assert.match(await login.locator('[part~="error"]').textContent() ?? '', /cancel/i);
    assert.equal(new URL(page.url()).searchParams.has('latch_error'), false, 'the parameter is gone from the address bar');

    await retry.click();
    await signInAtProvider(page, stack.user.login, stack.user.password);
    await page.waitForURL(stack.siteUrl);
    await page.locator('#members-panel').waitFor({ state: 'visible' });
  });

  it('signs in and out with the keyboard alone', async () => {
    const b = await freshBrowser();
    const page = await b.newPage();
    await page.goto(stack.siteUrl);
    const login = page.locator('latch-login');
    await login.getByRole('button', { name: 'Sign in' }).waitFor();
    // Tab from the top of the page until the sign-in button has focus.
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.textContent?.trim() ?? '');
      if (focused === 'Sign in') break;
    }
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
    await page.getByLabel(/login|email/i).focus();
    await page.keyboard.type(stack.user.login);
    await page.keyboard.press('Tab');
    await page.keyboard.type(stack.user.password);
    await page.keyboard.press('Enter');
    await page.waitForURL(stack.siteUrl);
    await page.locator('#members-panel').waitFor({ state: 'visible' });

    const name = stack.provider.users[0]!.name;
    await login.getByRole('button', { name: new RegExp(name) }).focus();
    await page.keyboard.press('Space');
    const signOut = login.getByRole('menuitem', { name: 'Sign out' });
    await signOut.waitFor();
    assert.equal(await signOut.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement), true, 'focus moves into the menu');
    await page.keyboard.press('Escape');
    await signOut.waitFor({ state: 'hidden' });
    assert.equal(
      await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.getAttribute('part')),
      'button',
      'Escape returns focus to the account button',
    );
    await page.keyboard.press('Enter');
    await signOut.waitFor();
    await page.keyboard.press('Enter');
    // The provider's confirm page: its first button is "Yes, sign me out".
    await page.waitForURL((url) => url.origin === stack.provider.issuer);
    await page.getByRole('button', { name: /yes|sign.?out|logout/i }).first().focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.origin === new URL(stack.siteUrl).origin);
    await login.getByRole('button', { name: 'Sign in' }).waitFor();
  });
});
