import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { siteHandler } from '../../dev/site.ts';
import { browserSuiteOptions, launchBrowser, type LaunchedBrowser } from '../helpers/browser.ts';
import { startBrowserStack, type BrowserStack } from '../helpers/e2e.ts';
import { freePort, listen, type Listening } from '../helpers/net.ts';

/** The widget's words and what the page said in the console with `latch:`, once the widget shows an error. */
async function errorShown(page: Page): Promise<{ words: string; console: string[] }> {
  const said: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && msg.text().startsWith('latch:')) said.push(msg.text());
  });
  return {
    words: (await page.locator('latch-login').locator('[part~="error"]').textContent({ timeout: 15_000 })) ?? '',
    console: said,
  };
}

/**
 * A page on an origin missing from LATCH_ALLOWED_ORIGINS (the demo opened at 127.0.0.1 instead of
 * its host name) against the real BFF, in Chromium: the BFF answers without CORS headers, the
 * browser hides that, and the widget must still tell it from a BFF that is down.
 */
describe('a page on an origin the BFF does not allow, in Chromium', browserSuiteOptions(), () => {
  let stack: BrowserStack;
  let nowhere: Listening;
  let browser: LaunchedBrowser;
  before(async () => {
    stack = await startBrowserStack();
    // The same microsite, pointed at a BFF that is not there (a port nothing listens on).
    nowhere = await listen(siteHandler({ bffUrl: `http://auth.latch.test:${await freePort()}` }));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await nowhere?.close();
    await stack?.close();
  });

  it('says the site is not allowed, and the console names LATCH_ALLOWED_ORIGINS and the origin to add', async () => {
    const page = await browser.newPage();
    // The microsite's own server, by its address: an origin the BFF does not list.
    const refused = `http://127.0.0.1:${stack.site.port}`;
    assert.notEqual(refused, new URL(stack.siteUrl).origin);
    const shown = errorShown(page);
    const advice = page.waitForEvent('console', { predicate: (msg) => msg.text().startsWith('latch:'), timeout: 15_000 });
    await page.goto(`${refused}/`);
    const { words, console: said } = await shown;
    assert.equal(words, 'This site is not allowed by the sign-in service.');
    await advice;
    assert.equal(said.length, 1, said.join('\n'));
    assert.match(said[0]!, /LATCH_ALLOWED_ORIGINS/);
    assert.ok(said[0]!.includes(`Add ${refused} to`), said[0]);
    assert.ok(said[0]!.includes(stack.bffUrl), said[0]);
    await page.close();
  });

  it('shows Sign in on the allowed origin (the BFF was up all along)', async () => {
    const page = await browser.newPage();
    await page.goto(stack.siteUrl);
    await page.locator('latch-login').getByRole('button', { name: 'Sign in' }).waitFor();
    await page.close();
  });

  it('says the sign-in service cannot be reached when nothing answers, with no advice about origins', async () => {
    const page = await browser.newPage();
    const shown = errorShown(page);
    await page.goto(`http://www.latch.test:${nowhere.port}/`);
    const { words, console: said } = await shown;
    assert.equal(words, 'The sign-in service cannot be reached.');
    assert.deepEqual(said, []);
    await page.close();
  });
});
