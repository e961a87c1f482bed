import { randomBytes } from 'node:crypto';
import { createBff } from '../../bff/app.ts';
import { loadConfig } from '../../bff/config.ts';
import type { DevProviderOptions } from '../../dev/provider.ts';
import { siteHandler } from '../../dev/site.ts';
import { captureLogs } from './logs.ts';
import { freePort, listen, type Listening } from './net.ts';
import { providerEnv, startTestProvider, type TestProvider } from './providers.ts';
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
export async function startBrowserStack(options: StackOptions & { silent?: boolean } = {}): Promise<BrowserStack> {
  const sitePort = await freePort();
  const siteOrigin = `http://www.latch.test:${sitePort}`;
  const stack = await startStack({ bffHost: 'auth.latch.test', siteOrigin, ...options });
  const site = await listen(siteHandler({ bffUrl: stack.bffUrl, silent: options.silent ?? false }), { port: sitePort });
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

/**
 * Like startBrowserStack, with `LATCH_PROVIDERS` naming one real oidc-provider per entry of
 * `providers` (in that order, each with its own client for the BFF): the browser tests of issue 17.
 */
export async function startProvidersBrowserStack(
  providers: Array<{ name: string; label?: string; options?: Partial<Omit<DevProviderOptions, 'clients'>> }>,
  env: Record<string, string> = {},
): Promise<Omit<BrowserStack, 'provider' | 'clientId' | 'clientSecret'> & { providers: TestProvider[] }> {
  const [bffPort, sitePort] = [await freePort(), await freePort()];
  const bffUrl = `http://auth.latch.test:${bffPort}`;
  const siteOrigin = `http://www.latch.test:${sitePort}`;
  const started: TestProvider[] = [];
  try {
    for (const p of providers) started.push(await startTestProvider([`${bffUrl}/callback`], p.options, [`${siteOrigin}/`]));
  } catch (err) {
    await Promise.all(started.map((p) => p.dev.close()));
    throw err;
  }
  const config = loadConfig({
    LATCH_PROVIDERS: providers.map((p) => p.name).join(','),
    ...Object.assign({}, ...providers.map((p, i) => providerEnv(p.name, started[i]!, p.label ? { LABEL: p.label } : {}))),
    LATCH_BASE_URL: bffUrl,
    LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
    LATCH_ALLOWED_ORIGINS: siteOrigin,
    LATCH_ALLOW_INSECURE_HTTP: 'true',
    LATCH_HTTP_TIMEOUT_MS: '2000',
    ...env,
  });
  const { lines: logs, logger } = captureLogs();
  const app = createBff(config, { logger });
  const bff = await listen(app.callback(), { port: bffPort });
  const site = await listen(siteHandler({ bffUrl }), { port: sitePort });
  return {
    providers: started, bff, app, config, bffUrl, siteOrigin, logs, site, siteUrl: `${siteOrigin}/`,
    user: started[0]!.user,
    async close() {
      await site.close();
      await bff.close();
      await Promise.all(started.map((p) => p.dev.close()));
    },
  };
}

/** On the demo microsite at `siteUrl`: "Sign in", the provider's form, and back, showing the members' panel. */
export async function signInOnSite(page: import('playwright-core').Page, siteUrl: string, user: { login: string; password: string }) {
  await page.goto(siteUrl);
  await page.locator('latch-login').getByRole('button', { name: 'Sign in' }).click();
  await signInAtProvider(page, user.login, user.password);
  await page.waitForURL(siteUrl);
  await page.locator('#members-panel').waitFor({ state: 'visible' });
}
