import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuiteOptions, launchBrowser, type LaunchedBrowser } from '../helpers/browser.ts';
import { startDemo, type Demo } from '../helpers/demo.ts';
import { signInAtProvider } from '../helpers/e2e.ts';

/** The relative luminance (0 black … 1 white) of a computed `rgb(…)` colour. */
function luminance(css: string): number {
  const [r, g, b] = (css.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((c) => {
    const v = Number(c) / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

const background = (page: Page, selector: string) =>
  page.locator(selector).first().evaluate((el) => getComputedStyle(el).backgroundColor);
const colour = (page: Page, selector: string) => page.locator(selector).first().evaluate((el) => getComputedStyle(el).color);

/** `npm start`'s demo as a visitor sees it, in Chromium: a product, not a test page. */
describe('the demo (npm start) in Chromium', browserSuiteOptions(), () => {
  let demo: Demo;
  let browser: LaunchedBrowser;
  before(async () => {
    demo = await startDemo();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('follows the system colour scheme, light and dark', async () => {
    const page = await browser.newPage();
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(demo.siteUrl);
    assert.ok(luminance(await background(page, 'body')) > 0.8, 'light: a light page');
    assert.ok(luminance(await colour(page, 'body')) < 0.1, 'light: dark text');
    await page.emulateMedia({ colorScheme: 'dark' });
    // Read until the page has restyled (a busy machine can take a moment), at most 3 s.
    const settled = async (read: () => Promise<number>, ok: (l: number) => boolean) => {
      const until = Date.now() + 3000;
      let l = await read();
      while (!ok(l) && Date.now() < until) l = await new Promise((r) => setTimeout(r, 50)).then(read);
      return l;
    };
    assert.ok((await settled(async () => luminance(await background(page, 'body')), (l) => l < 0.05)) < 0.05, 'dark: a dark page');
    assert.ok((await settled(async () => luminance(await colour(page, 'body')), (l) => l > 0.6)) > 0.6, 'dark: light text');
    assert.ok((await settled(async () => luminance(await background(page, '#anonymous-panel')), (l) => l < 0.05)) < 0.05, 'dark: the panel too');
    await page.close();
  });

  it('has a favicon, served by the microsite', async () => {
    const page = await browser.newPage();
    await page.goto(demo.siteUrl);
    const href = await page.locator('link[rel="icon"]').getAttribute('href');
    assert.ok(href);
    const icon = await page.request.get(new URL(href, demo.siteUrl).href);
    assert.equal(icon.status(), 200);
    assert.equal(icon.headers()['content-type'], 'image/svg+xml');
    assert.match(await icon.text(), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    // The browser can draw it: the header shows it at its size.
    assert.equal(await page.locator('.brand img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), true);
    await page.close();
  });

  it("names the application (client_name) on the provider's sign-in page, and shows the API's answer formatted on a styled button's click", async () => {
    const page = await browser.newPage();
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(demo.siteUrl);
    await page.locator('latch-login').getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
    assert.match(await page.locator('main').textContent() ?? '', /to continue to Acme microsite/);
    assert.doesNotMatch(await page.locator('main').textContent() ?? '', /latch-demo/);
    await signInAtProvider(page, demo.login, demo.password);
    await page.waitForURL(demo.siteUrl);

    const button = page.getByRole('button', { name: 'Call the demo API through Latch' });
    await button.waitFor();
    // Styled as the page's primary action: the accent colour, not the browser's grey default.
    assert.equal(await background(page, '#call-api'), 'rgb(29, 78, 216)');
    await button.click();
    const result = page.locator('#api-result');
    await result.locator('dl').waitFor();
    const text = (await result.textContent()) ?? '';
    assert.match(text, /^200 OK/);
    assert.match(text, /Hello, demo-user-1\. This answer comes from the demo API/);
    assert.equal(await result.locator('dt', { hasText: 'Scopes' }).count(), 1);
    assert.equal(await result.locator('.chip', { hasText: 'demo:read' }).count(), 1);
    assert.doesNotMatch(text, /[{}"]/, 'no raw JSON');
    await page.close();
  });
});
