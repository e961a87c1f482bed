import { randomBytes } from 'node:crypto';
import { createBff, type Bff, type BffOptions } from '../../bff/app.ts';
import { loadConfig, type BffConfig } from '../../bff/config.ts';
import { startDevProvider, type DevClient, type DevProvider, type DevProviderOptions } from '../../dev/provider.ts';
import { captureLogs } from './logs.ts';
import { freePort, listen, type Listening } from './net.ts';

export interface StackOptions {
  /** Extra or overriding LATCH_* variables. */
  env?: Record<string, string>;
  provider?: Partial<Omit<DevProviderOptions, 'clients'>>;
  /** Extra metadata of the BFF's client at the provider (e.g. dpop_bound_access_tokens), or a function of the BFF's URL giving it. */
  client?: Partial<DevClient> | ((bffUrl: string) => Partial<DevClient>);
  /** The microsite origin allowed to call the BFF. */
  siteOrigin?: string;
  bff?: BffOptions;
  /** Back-channel logout: the provider's feature on, and the BFF's /backchannel-logout registered for its client. */
  backchannel?: boolean;
  /** The host name in the BFF's public URL (it still listens on 127.0.0.1), e.g. auth.latch.test for a browser. */
  bffHost?: string;
}

export interface Stack {
  provider: DevProvider;
  bff: Listening;
  app: Bff;
  config: BffConfig;
  /** The BFF's base URL. */
  bffUrl: string;
  siteOrigin: string;
  user: { login: string; password: string };
  clientId: string;
  clientSecret: string;
  /** Every log line the BFF wrote, raw. */
  logs: string[];
  close(): Promise<void>;
}

/** A real oidc-provider and a real BFF on loopback, wired to each other. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const bffPort = await freePort();
  const bffUrl = `http://${options.bffHost ?? '127.0.0.1'}:${bffPort}`;
  const siteOrigin = options.siteOrigin ?? 'http://www.latch.test:8080';
  const clientId = `latch-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const provider = await startDevProvider({
    ...options.provider,
    ...(options.backchannel ? { backchannelLogout: true } : {}),
    clients: [{
      // To the loopback address: the provider (this process) does not resolve a browser's host names (bffHost).
      ...(options.backchannel ? { backchannel_logout_uri: `http://127.0.0.1:${bffPort}/backchannel-logout` } : {}),
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [`${bffUrl}/callback`],
      post_logout_redirect_uris: [`${siteOrigin}/`],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      ...(typeof options.client === 'function' ? options.client(bffUrl) : options.client),
    }],
  });
  const config = loadConfig({
    LATCH_ISSUER: provider.issuer,
    LATCH_CLIENT_ID: clientId,
    LATCH_CLIENT_SECRET: clientSecret,
    LATCH_BASE_URL: bffUrl,
    LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
    LATCH_ALLOWED_ORIGINS: siteOrigin,
    LATCH_ALLOW_INSECURE_HTTP: 'true',
    LATCH_HTTP_TIMEOUT_MS: '2000',
    ...options.env,
  });
  const { lines: logs, logger } = captureLogs();
  const app = createBff(config, { logger, ...options.bff });
  const bff = await listen(app.callback(), { port: bffPort });
  const user = provider.users[0]!;
  return {
    provider, bff, app, config, bffUrl, siteOrigin, clientId, clientSecret, logs,
    user: { login: user.login, password: user.password },
    async close() {
      await bff.close();
      await provider.close();
    },
  };
}
