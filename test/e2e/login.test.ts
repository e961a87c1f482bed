import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { browserSuiteOptions, launchBrowser, type LaunchedBrowser } from '../helpers/browser.ts';
import { signInAtProvider, startBrowserStack, type BrowserStack } from '../helpers/e2e.ts';

describe('signing in from a microsite in Chromium', browserSuiteOptions(), () => {
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

  it('signs in, shows the gated panel and the name, and signs out', async () => {
    const page = await browser.newPage();
    await page.goto(stack.siteUrl);
    const login = page.locator('latch-login');
    const panel = page.locator('#members-panel');
    await login.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(await panel.isVisible(), false, 'the panel is hidden before sign-in');
    assert.equal(await page.locator('#anonymous-panel').isVisible(), true);

    await login.getByRole('button', { name: 'Sign in' }).click();
    await signInAtProvider(page, stack.user.login, stack.user.password);
    await page.waitForURL(stack.siteUrl);
    await panel.waitFor({ state: 'visible' });
    const name = stack.provider.users[0]!.name;
    assert.equal(await login.getByText(name).isVisible(), true, 'the login element shows the name');
    // <latch-user> renders the name (waitFor fails the test if it never does).
    await page.waitForFunction(
      (expected) => document.querySelector('#members-panel latch-user')?.shadowRoot?.textContent?.trim() === expected,
      name,
      { timeout: 5000 },
    );
    assert.equal(await page.locator('#anonymous-panel').isVisible(), false);

    // No token is readable by page JavaScript: the session cookie is HttpOnly and on the BFF's host.
    assert.equal(await page.evaluate(() => document.cookie), '');
    const cookies = await browser.context.cookies(stack.bffUrl);
    const session = cookies.find((c) => c.name === 'latch');
    assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');

    // Sign out: the name opens the account menu, which holds "Sign out".
    const signOut = login.getByRole('menuitem', { name: 'Sign out' });
    if (!(await signOut.isVisible())) await login.getByRole('button', { name: new RegExp(name) }).click();
    await signOut.click();
    // The provider asks to confirm ending its own session, then returns to the microsite.
    await page.waitForURL((url) => url.origin === stack.provider.issuer);
    await page.getByRole('button', { name: /yes|sign.?out|logout/i }).first().click();
    await page.waitForURL((url) => url.origin === new URL(stack.siteUrl).origin);
    await login.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(await panel.isVisible(), false, 'the panel is hidden again');
    assert.equal((await browser.context.cookies(stack.bffUrl)).some((c) => c.name === 'latch'), false);
  });
});
