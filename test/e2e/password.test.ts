import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuiteOptions, launchBrowser, type LaunchedBrowser } from '../helpers/browser.ts';
import { startBrowserStack, type BrowserStack } from '../helpers/e2e.ts';
import { registerPasswordGrant } from '../bff/providers/support.ts';

/**
 * <latch-login mode="password"> on the demo microsite (www.latch.test) against the real BFF
 * (auth.latch.test) with LATCH_ENABLE_PASSWORD_GRANT=true, and oidc-provider with the password
 * grant registered as the provider suites do (test/bff/providers/support.ts). The built widget
 * (dist/, `npm run build:widget`) loads the form from latch-password.js beside latch.js.
 */
describe('the password form end to end in Chromium', browserSuiteOptions(), () => {
  let stack: BrowserStack;
  let browser: LaunchedBrowser;
  before(async () => {
    stack = await startBrowserStack({ env: { LATCH_ENABLE_PASSWORD_GRANT: 'true' } });
    await registerPasswordGrant(stack.provider, stack.clientId);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  // A fresh browser profile per test: no cookies carried over.
  async function freshBrowser(): Promise<LaunchedBrowser> {
    await browser?.close();
    browser = await launchBrowser();
    return browser;
  }

  /** The demo page with its <latch-login> switched to mode="password", once the form shows. */
  async function passwordPage(page: Page, siteUrl = stack.siteUrl) {
    await page.goto(siteUrl);
    const login = page.locator('latch-login');
    await login.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.evaluate(() => document.querySelector('latch-login')!.setAttribute('mode', 'password'));
    await login.getByLabel('Username').waitFor();
    return {
      login,
      username: login.getByLabel('Username'),
      password: login.getByLabel('Password'),
      alert: login.getByRole('alert'),
    };
  }

  it('serves the form beside the bundle, from the BFF too', async () => {
    const res = await fetch(`${stack.bff.url}/latch-password.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(await res.text(), /\/login\/password/);
    const manifest = (await (await fetch(`${stack.bff.url}/latch.manifest.json`)).json()) as Record<string, string>;
    assert.match(manifest['latch-password.js'] ?? '', /^latch-password\.[0-9a-f]{12}\.js$/);
  });

  it('a wrong password shows the error; the right one signs in, shows the members\' panel, and other tabs follow', async () => {
    const b = await freshBrowser();
    const other = await b.newPage();
    await other.goto(stack.siteUrl);
    await other.locator('latch-login').getByRole('button', { name: 'Sign in' }).waitFor();

    const page = await b.newPage();
    const { login, username, password, alert } = await passwordPage(page);
    const panel = page.locator('#members-panel');
    assert.equal(await panel.isVisible(), false, 'the panel is hidden before sign-in');
    assert.equal(await username.getAttribute('autocomplete'), 'username');
    assert.equal(await password.getAttribute('autocomplete'), 'current-password');

    await username.fill(stack.user.login);
    await password.fill('not the password');
    await password.press('Enter');
    await alert.filter({ hasText: 'The username or password is incorrect.' }).waitFor();
    assert.equal(await username.inputValue(), stack.user.login, 'the username is kept');
    assert.equal(await password.inputValue(), '', 'the password is cleared');
    assert.equal(await password.evaluate((el) => el.matches(':focus')), true, 'focus is back in the password field');
    assert.equal(await panel.isVisible(), false);

    const signedIn = page.evaluate(
      () => new Promise<string>((resolve) => document.addEventListener('latch-login', (e) => resolve(e.detail.user.sub), { once: true })),
    );
    await password.fill(stack.user.password);
    await password.press('Enter');
    await panel.waitFor({ state: 'visible' });
    assert.equal(await signedIn, stack.provider.users[0]!.sub, 'latch-login with the user');
    const name = stack.provider.users[0]!.name;
    await login.getByRole('button', { name: new RegExp(name) }).waitFor();
    assert.equal(await page.locator('#anonymous-panel').isVisible(), false);
    assert.equal(await login.locator('form').count(), 0, 'the form is gone');

    // The session is the BFF's HttpOnly cookie, as after a redirect sign-in; page JavaScript sees no token.
    assert.equal(await page.evaluate(() => document.cookie), '');
    const session = (await b.context.cookies(stack.bffUrl)).find((c) => c.name === 'latch');
    assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');

    // The other tab (plain mode) followed through the BroadcastChannel.
    await other.locator('#members-panel').waitFor({ state: 'visible', timeout: 5000 });
    // And a reload is still signed in: the cookie, not the page, holds the session.
    await page.reload();
    await panel.waitFor({ state: 'visible' });
  });

  it('says so when the BFF has the password grant off (404)', async () => {
    const off = await startBrowserStack();
    try {
      const page = await (await freshBrowser()).newPage();
      const { username, password, alert } = await passwordPage(page, off.siteUrl);
      await username.fill(off.user.login);
      await password.fill(off.user.password);
      await submit(page);
      await alert.filter({ hasText: 'Signing in with a password is not available here.' }).waitFor();
      assert.equal(await page.locator('#members-panel').isVisible(), false);
    } finally {
      await off.close();
    }
  });
});

/** Clicks the form's "Sign in". */
async function submit(page: Page): Promise<void> {
  await page.locator('latch-login').locator('form').getByRole('button', { name: 'Sign in' }).click();
}
