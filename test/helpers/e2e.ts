import { siteHandler } from '../../dev/site.ts';
import { freePort, listen, type Listening } from './net.ts';
import { startStack, type Stack, type StackOptions } from './stack.ts';

export interface BrowserStack extends Stack {
  site: Listening;
  /** The microsite's page URL, e.g. http://www.latch.test:PORT/ */
  siteUrl: string;
}

/**
 * The demo microsite on www.latch.test and the BFF on auth.latch.test (two
 * origins, one site, as a deployer should set it up), against oidc-provider.
 */
export async function startBrowserStack(options: StackOptions = {}): Promise<BrowserStack> {
  const sitePort = await freePort();
  const siteOrigin = `http://www.latch.test:${sitePort}`;
  const stack = await startStack({ bffHost: 'auth.latch.test', siteOrigin, ...options });
  const site = await listen(siteHandler({ bffUrl: stack.bffUrl }), { port: sitePort });
  return {
    ...stack,
    site,
    siteUrl: `${siteOrigin}/`,
    async close() {
      await site.close();
      await stack.close();
    },
  };
}

/** Signs in at the dev provider's login form (the page must be on its way there). */
export async function signInAtProvider(page: import('playwright-core').Page, login: string, password: string) {
  await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
  await page.getByLabel(/login|email/i).fill(login);
  await page.getByLabel(/password/i).fill(password);
  await page.getByRole('button', { name: /sign in/i }).click();
}
