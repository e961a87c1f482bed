/**
 * Several providers on one page (issue 17) in Chromium: a BFF whose LATCH_PROVIDERS names two real
 * oidc-providers (each on its own loopback port, each with its own user), the demo microsite with a
 * `<latch-login>` and no `provider` attribute. "Sign in" lists the providers of GET /providers by
 * their labels; the one chosen is where the browser signs in, and /me names it. With
 * `provider="…"` the element goes to that provider without asking.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuiteOptions, launchBrowser, type LaunchedBrowser } from '../helpers/browser.ts';
import { startProvidersBrowserStack } from '../helpers/e2e.ts';

const USERS = [
  { sub: 'ada', login: 'ada@first.test', password: 'first-password-1', name: 'Ada First', email: 'ada@first.test', email_verified: true },
  { sub: 'bo', login: 'bo@second.test', password: 'second-password-2', name: 'Bo Second', email: 'bo@second.test', email_verified: true },
];

describe('two providers on one page in Chromium', browserSuiteOptions(), () => {
  let stack: Awaited<ReturnType<typeof startProvidersBrowserStack>>;
  let browser: LaunchedBrowser | undefined;
  before(async () => {
    stack = await startProvidersBrowserStack([
      { name: 'first', label: 'Sign in with First', options: { users: [USERS[0]!] } },
      { name: 'second', label: 'Sign in with Second', options: { users: [USERS[1]!] } },
    ]);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });
  async function freshPage(): Promise<Page> {
    await browser?.close();
    browser = await launchBrowser();
    return browser.newPage();
  }
  /** The origins of the provider authorization requests the page's navigations made. */
  function authorizeOrigins(page: Page): string[] {
    const seen: string[] = [];
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (req.isNavigationRequest() && url.pathname === '/auth') seen.push(url.origin);
    });
    return seen;
  }
  const me = (page: Page) =>
    page.evaluate((bff) => fetch(`${bff}/me`, { credentials: 'include' }).then(async (r) => ({ status: r.status, body: await r.json() })), stack.bffUrl);

  it('"Sign in" lists both providers by label; choosing the second signs in there, and /me names it', async () => {
    const page = await freshPage();
    const authorized = authorizeOrigins(page);
    await page.goto(stack.siteUrl);
    const login = page.locator('latch-login');
    await login.getByRole('button', { name: 'Sign in' }).click();
    const menu = login.getByRole('menu');
    await menu.waitFor();
    const items = menu.getByRole('menuitem');
    assert.deepEqual((await items.allTextContents()).map((t) => t.trim()), ['Sign in with First', 'Sign in with Second']);
    await menu.getByRole('menuitem', { name: 'Sign in with Second' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
    assert.equal(new URL(page.url()).origin, stack.providers[1]!.dev.issuer, 'the browser is at the second provider');
    await page.getByLabel(/login|email/i).fill(USERS[1]!.login);
    await page.getByLabel(/password/i).fill(USERS[1]!.password);
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForURL(stack.siteUrl);
    await page.locator('#members-panel').waitFor({ state: 'visible' });
    await login.getByRole('button', { name: /Bo Second/ }).waitFor();
    assert.deepEqual(authorized, [stack.providers[1]!.dev.issuer], 'one authorization request, at the second provider');
    const { status, body } = await me(page);
    assert.equal(status, 200);
    assert.equal(body.provider, 'second');
    assert.equal(body.user.sub, 'bo');
  });

  it('with provider="second" the element signs in there without asking', async () => {
    const page = await freshPage();
    const authorized = authorizeOrigins(page);
    await page.goto(stack.siteUrl);
    const login = page.locator('latch-login');
    await login.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.evaluate(() => document.querySelector('latch-login')!.setAttribute('provider', 'second'));
    await login.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
    assert.equal(await login.getByRole('menu').count(), 0, 'no chooser');
    assert.equal(new URL(page.url()).origin, stack.providers[1]!.dev.issuer);
    await page.getByLabel(/login|email/i).fill(USERS[1]!.login);
    await page.getByLabel(/password/i).fill(USERS[1]!.password);
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForURL(stack.siteUrl);
    await login.getByRole('button', { name: /Bo Second/ }).waitFor();
    assert.deepEqual(authorized, [stack.providers[1]!.dev.issuer]);
    assert.equal((await me(page)).body.provider, 'second');
  });

  it('with provider="first" too: the first provider, its user', async () => {
    const page = await freshPage();
    await page.goto(stack.siteUrl);
    const login = page.locator('latch-login');
    await login.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.evaluate(() => document.querySelector('latch-login')!.setAttribute('provider', 'first'));
    await login.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
    assert.equal(new URL(page.url()).origin, stack.providers[0]!.dev.issuer);
    await page.getByLabel(/login|email/i).fill(USERS[0]!.login);
    await page.getByLabel(/password/i).fill(USERS[0]!.password);
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForURL(stack.siteUrl);
    await login.getByRole('button', { name: /Ada First/ }).waitFor();
    assert.equal((await me(page)).body.provider, 'first');
  });
});
