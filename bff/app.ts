import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { BffConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { errorHandler } from './middleware/errors.ts';
import { cors, securityHeaders } from './middleware/security.ts';
import { OidcProvider } from './providers/oidc.ts';
import type { Provider } from './providers/provider.ts';
import { callbackRoute } from './routes/callback.ts';
import type { RouteDeps } from './routes/deps.ts';
import { healthRoute } from './routes/health.ts';
import { loginRoute } from './routes/login.ts';
import { logoutRoute } from './routes/logout.ts';
import { meRoute } from './routes/me.ts';
import { SessionManager } from './session/manager.ts';
import { SessionRefresher } from './session/refresh.ts';

export interface BffOptions {
  logger?: Logger;
  /** Replaces the provider built from the configuration (tests, custom servers). */
  provider?: Provider;
}

export interface Bff extends Koa {
  readonly latch: RouteDeps;
}

export function providerFromConfig(config: BffConfig): Provider {
  return new OidcProvider({
    issuer: config.issuer,
    ...(config.discoveryUrl ? { discoveryUrl: config.discoveryUrl } : {}),
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    redirectUri: config.redirectUri,
    scopes: config.scopes,
    idTokenAlg: config.idTokenAlg,
    outbound: { timeoutMs: config.httpTimeoutMs, allowInsecureHttp: config.allowInsecureHttp },
  });
}

/**
 * Builds the BFF as a Koa app. No listen(), no process.env: the entries
 * (server.ts, lambda.ts) load the configuration and serve it.
 */
export function createBff(config: BffConfig, options: BffOptions = {}): Bff {
  const logger = options.logger ?? createLogger(config.logLevel);
  const provider = options.provider ?? providerFromConfig(config);
  const sessions = new SessionManager({
    secrets: config.cookieSecrets,
    policy: { secure: config.baseUrl.protocol === 'https:' },
    maxAge: config.sessionMaxAge,
  });
  const deps: RouteDeps = { config, provider, sessions, refresher: new SessionRefresher(provider), logger };

  const app = new Koa() as unknown as Bff;
  Object.defineProperty(app, 'latch', { value: deps });
  app.silent = true;

  const router = new Router();
  for (const route of [loginRoute, callbackRoute, meRoute, logoutRoute, healthRoute]) route(router, deps);

  // The order, outermost first:
  // 1. errorHandler: turns every failure below into a coded JSON answer or error page.
  // 2. securityHeaders: no-store and friends on every answer, errors included.
  // 3. cors: set before routing, so errors to allowed origins stay readable; answers preflights.
  // 4. the routes (state-changing ones add requireCsrf themselves).
  app.use(errorHandler(logger));
  app.use(securityHeaders);
  app.use(cors(config.allowedOrigins));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
