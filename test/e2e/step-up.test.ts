/**
 * Step-up from the widget (issue 17) in Chromium, against the real BFF and oidc-provider: the demo
 * API route asks for a stronger sign-in (`LATCH_API_ROUTE_DEMO_ACR`) than the first one reached (the
 * dev provider's `acrValues`: a plain sign-in gets the list's first). `latch.fetch()` is answered 401
 * LATCH_STEP_UP_REQUIRED, signs in again in a popup with `acr_values`, where the provider asks for
 * the password again, and then calls once more, which the upstream (a node:http server on the
 * loopback) answers. `latch-step-up` says `started`, then `done`.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuiteOptions, launchBrowser, type LaunchedBrowser } from '../helpers/browser.ts';
import { signInAtProvider, signInOnSite, startBrowserStack, type BrowserStack } from '../helpers/e2e.ts';

/** The widget's module on the microsite (dist/latch.js), as the page imports it. */
const WIDGET = '/latch.js';
type Widget = typeof import('../../widget/index.ts');

const PASSWORD = 'urn:latch:pwd';
const MFA = 'urn:latch:mfa';

describe('step-up from the widget in Chromium', browserSuiteOptions(), () => {
  let stack: BrowserStack;
  let browser: LaunchedBrowser | undefined;
  let upstream: Server;
  /** The requests the upstream got: path and whether a bearer token came with them. */
  const calls: Array<{ path: string; bearer: boolean }> = [];
  before(async () => {
    upstream = createServer((req, res) => {
      calls.push({ path: req.url ?? '', bearer: /^Bearer \S+$/.test(req.headers.authorization ?? '') });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'the vault is open' }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    stack = await startBrowserStack({
      provider: { acrValues: [PASSWORD, MFA] },
      env: { LATCH_API_ROUTES: `demo=http://127.0.0.1:${port}`, LATCH_API_ROUTE_DEMO_ACR: MFA },
    });
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  const me = (page: Page) =>
    page.evaluate((bff) => fetch(`${bff}/me`, { credentials: 'include' }).then((r) => r.json()), stack.bffUrl) as Promise<{ acr?: string; authTime?: number }>;

  async function signedIn(): Promise<Page> {
    await browser?.close();
    browser = await launchBrowser();
    const page = await browser.newPage();
    await signInOnSite(page, stack.siteUrl, stack.user);
    // Record latch-step-up events from now on.
    await page.evaluate(() => {
      (window as unknown as { steps: unknown[] }).steps = [];
      window.addEventListener('latch-step-up', (e) => (window as unknown as { steps: unknown[] }).steps.push((e as CustomEvent).detail));
    });
    return page;
  }
  const steps = (page: Page) => page.evaluate(() => (window as unknown as { steps: Array<{ acr?: string[]; outcome: string }> }).steps);

  it('latch.fetch() on LATCH_STEP_UP_REQUIRED signs in again in a popup and calls again, once, with success', async () => {
    const page = await signedIn();
    // oidc-provider puts no acr in the ID token of a sign-in that asked for none: below what the route asks.
    assert.notEqual((await me(page)).acr, MFA, 'the first sign-in is below what the route asks');
    // Over plain fetch the route refuses, with the contract's body.
    const plain = await page.evaluate((bff) => fetch(`${bff}/api/demo/vault`, { credentials: 'include', headers: { 'Latch-CSRF': '1' } }).then(async (r) => ({ status: r.status, body: await r.json() })), stack.bffUrl);
    assert.equal(plain.status, 401);
    assert.equal(plain.body.error.code, 'LATCH_STEP_UP_REQUIRED');
    assert.deepEqual(plain.body.stepUp.acr, [MFA]);
    calls.length = 0;

    const popupOpened = page.waitForEvent('popup');
    const answer = page.evaluate(async (src) => {
      const { latch } = (await import(src)) as Widget;
      const res = await latch.fetch('/api/demo/vault');
      return { status: res.status, body: await res.json() };
    }, WIDGET);
    const popup = await popupOpened;
    await popup.waitForURL((url) => url.pathname.startsWith('/interaction/'));
    assert.equal(new URL(popup.url()).origin, stack.provider.issuer);
    const closed = popup.waitForEvent('close', { timeout: 15_000 });
    // The provider has a session below the asked acr: it asks for the password again.
    await signInAtProvider(popup, stack.user.login, stack.user.password);
    await closed;
    assert.deepEqual(await answer, { status: 200, body: { message: 'the vault is open' } });
    assert.deepEqual(calls, [{ path: '/vault', bearer: true }], 'the upstream got one call, after the step-up');
    assert.deepEqual((await steps(page)).map((s) => s.outcome), ['started', 'done']);
    assert.deepEqual((await steps(page))[0]!.acr, [MFA]);
    assert.equal((await me(page)).acr, MFA, 'the session now has the stronger acr');
    assert.equal(page.url(), stack.siteUrl, 'the page itself never navigated');
    await page.locator('#members-panel').waitFor({ state: 'visible' });
  });

  it('the demo page\'s button: a step-up, then the API\'s answer on the page', async () => {
    const page = await signedIn();
    const popupOpened = page.waitForEvent('popup');
    await page.locator('#call-api').click();
    const popup = await popupOpened;
    const closed = popup.waitForEvent('close', { timeout: 15_000 });
    await signInAtProvider(popup, stack.user.login, stack.user.password);
    await closed;
    await page.locator('#api-result').getByText('the vault is open').waitFor();
    assert.match(await page.locator('#api-result .status').textContent() ?? '', /^200/);
  });

  it('closing the popup: latch-step-up says cancelled, and latch.fetch() answers the 401', async () => {
    const page = await signedIn();
    calls.length = 0;
    const popupOpened = page.waitForEvent('popup');
    const answer = page.evaluate(async (src) => {
      const { latch } = (await import(src)) as Widget;
      const res = await latch.fetch('/api/demo/vault');
      return { status: res.status, code: (await res.json()).error?.code };
    }, WIDGET);
    const popup = await popupOpened;
    await popup.waitForURL((url) => url.pathname.startsWith('/interaction/'));
    await popup.close();
    assert.deepEqual(await answer, { status: 401, code: 'LATCH_STEP_UP_REQUIRED' });
    assert.deepEqual((await steps(page)).map((s) => s.outcome), ['started', 'cancelled']);
    assert.deepEqual(calls, [], 'the upstream was never called');
    assert.notEqual((await me(page)).acr, MFA, 'the session is as it was');
    await page.locator('#members-panel').waitFor({ state: 'visible' });
  });
});
