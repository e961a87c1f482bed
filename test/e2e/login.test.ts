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

  it('never lets page script see the ID token at sign-out: /logout names the BFF\'s /logout/end, whose redirect no fetch can read', async () => {
    const page = await browser.newPage();
    await page.goto(stack.siteUrl);
    const login = page.locator('latch-login');
    await login.getByRole('button', { name: 'Sign in' }).click();
    await signInAtProvider(page, stack.user.login, stack.user.password);
    await page.waitForURL(stack.siteUrl);
    await page.locator('#members-panel').waitFor({ state: 'visible' });
    // What a script on the page (XSS included) can get: the answer of POST /logout, and a fetch of its logoutUrl.
    const seen = await page.evaluate(async (bff) => {
      const out = await fetch(`${bff}/logout`, { method: 'POST', credentials: 'include', headers: { 'Latch-CSRF': '1' } });
      const text = await out.text();
      const { logoutUrl } = JSON.parse(text) as { logoutUrl: string };
      const tried: string[] = [];
      for (const init of [{ redirect: 'manual' }, {}] as RequestInit[]) {
        try {
          const res = await fetch(logoutUrl, { credentials: 'include', ...init });
          tried.push(`read ${res.type} ${res.status} ${res.url} ${res.headers.get('location')}`);
        } catch (err) {
          tried.push(`refused: ${(err as Error).name}`);
        }
      }
      const [manual, followed] = tried;
      return { status: out.status, text, logoutUrl, manual, followed };
    }, stack.bffUrl);
    assert.equal(seen.status, 200);
    assert.doesNotMatch(seen.text, /id_token_hint|eyJ[\w-]*\.[\w-]*\./, 'no token in what the page reads');
    assert.ok(seen.logoutUrl.startsWith(`${stack.bffUrl}/logout/end?handle=`), seen.logoutUrl);
    // The redirect carries no CORS headers: both fail the CORS check, so its target (the hint) stays unread.
    assert.equal(seen.manual, 'refused: TypeError', 'fetch with redirect: manual');
    assert.equal(seen.followed, 'refused: TypeError', 'fetch following the redirect');
    await page.close();
  });
});
