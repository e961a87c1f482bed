/**
 * Several real oidc-providers and one BFF (issue 17): each provider on its own 127.0.0.1 port with a
 * client for the BFF, and the BFF answered in memory under real host names (`auth.latch.test`, or a
 * site per host), so a browser-like HttpClient walks BFF → provider → BFF with one cookie jar: a fetch
 * that sends `*.latch.test` to the BFF in memory and everything else over the loopback.
 */
import { randomBytes } from 'node:crypto';
import { createBff, type Bff } from '../../bff/app.ts';
import { loadConfig, type BffConfig } from '../../bff/config.ts';
import { startDevProvider, type DevProvider, type DevProviderOptions } from '../../dev/provider.ts';
import { HttpClient } from './http.ts';
import { inMemory } from './in-memory.ts';
import { captureLogs } from './logs.ts';

export const MULTI_BFF = 'http://auth.latch.test:8787';
export const MULTI_SITE = 'http://www.latch.test:8080';

export interface TestProvider {
  dev: DevProvider;
  clientId: string;
  clientSecret: string;
  user: { login: string; password: string };
}

/** A dev provider with a client whose redirect URIs are `callbacks` (the BFF's sites' /callback). */
export async function startTestProvider(callbacks: string[], options: Partial<Omit<DevProviderOptions, 'clients'>> = {}, postLogout: string[] = [`${MULTI_SITE}/`]): Promise<TestProvider> {
  const clientId = `latch-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const dev = await startDevProvider({
    ...options,
    clients: [{
      client_id: clientId, client_secret: clientSecret, redirect_uris: callbacks, post_logout_redirect_uris: postLogout,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    }],
  });
  const user = dev.users[0]!;
  return { dev, clientId, clientSecret, user: { login: user.login, password: user.password } };
}

/** `LATCH_PROVIDER_<NAME>_ISSUER`, `_CLIENT_ID`, `_CLIENT_SECRET` of `provider`. */
export function providerEnv(name: string, provider: TestProvider, extra: Record<string, string> = {}): Record<string, string> {
  const p = `LATCH_PROVIDER_${name.toUpperCase()}_`;
  const env: Record<string, string> = { [`${p}ISSUER`]: provider.dev.issuer, [`${p}CLIENT_ID`]: provider.clientId, [`${p}CLIENT_SECRET`]: provider.clientSecret };
  for (const [key, value] of Object.entries(extra)) env[`${p}${key}`] = value;
  return env;
}

export interface MultiBff {
  app: Bff;
  config: BffConfig;
  logs: string[];
  /** A client whose `*.latch.test` requests the BFF answers in memory; others go over the loopback. */
  client(): HttpClient;
}

/** A BFF at MULTI_BFF (or LATCH_SITES' hosts) over `env`, answered in memory. */
export function multiBff(env: Record<string, string>): MultiBff {
  const config = loadConfig({
    LATCH_BASE_URL: MULTI_BFF,
    LATCH_ALLOWED_ORIGINS: MULTI_SITE,
    LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
    LATCH_ALLOW_INSECURE_HTTP: 'true',
    LATCH_HTTP_TIMEOUT_MS: '2000',
    ...env,
  });
  const { lines: logs, logger } = captureLogs();
  const app = createBff(config, { logger });
  const memory = inMemory(app);
  const route = (url: string, init: RequestInit) => (new URL(url).hostname.endsWith('.latch.test') ? memory.fetch(url, init) : fetch(url, init));
  return { app, config, logs, client: () => new HttpClient({ fetch: route }) };
}
