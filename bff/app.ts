import Koa, { type Context } from 'koa';
import type { Logger } from 'pino';
import type { BffConfig } from './config.ts';
import { configWarnings } from './config/warnings.ts';
import { createLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { edge, type EdgeCheck } from './middleware/edge.ts';
import { cors, requireCsrf, setSecurityHeaders } from './middleware/security.ts';
import { createProvider } from './providers/index.ts';
import type { Provider } from './providers/provider.ts';
import { ProviderRegistry } from './providers/registry.ts';
import { callbackRoute } from './routes/callback.ts';
import type { ReadinessCheck, RouteDeps } from './routes/deps.ts';
import { healthRoute } from './routes/health.ts';
import { jwksRoute } from './routes/jwks.ts';
import { loginRoute } from './routes/login.ts';
import { logoutRoute } from './routes/logout.ts';
import { logoutEndRoute } from './routes/logout-end.ts';
import { meRoute } from './routes/me.ts';
import { proxyRoute } from './routes/proxy.ts';
import { providersRoute } from './routes/providers.ts';
import { RouteTable } from './routes/table.ts';
import { metricsRoute } from './routes/metrics.ts';
import { readyRoute } from './routes/ready.ts';
import { widgetAssetRoute } from './routes/widget-asset.ts';
import { passwordRoute } from './routes/password.ts';
import { handoffRoute } from './routes/handoff.ts';
import { sessionsRoute } from './routes/sessions.ts';
import { eventsRoute } from './routes/events.ts';
import { wsTicketRoute } from './routes/ws-ticket.ts';
import { createSites, siteOf, siteResolver, type Sites } from './sites.ts';
import { createAudit, type AuditHook } from './audit.ts';
import { checkBodySize, checkHeaderSize } from './middleware/limits.ts';
import { FixedWindowLimiter, rateLimit } from './middleware/rate-limit.ts';
import { backchannelRoute } from './routes/backchannel.ts';
import { liveFromConfig, refresherFromConfig, sessionsFromConfig, storeFromConfig } from './session/setup.ts';
import type { KeyValueStore } from './session/store.ts';
import { createTracing } from './tracing.ts';

export interface BffOptions {
  logger?: Logger;
  /** Replaces the provider built from the configuration (tests, custom servers). */
  provider?: Provider;
  /** Extra /readyz checks (e.g. the Redis session store); more may be pushed to `app.latch.readiness` later. */
  readiness?: ReadinessCheck[];
  /** Audit events (login, logout, refresh failure, back-channel logout); each is logged too. A throwing hook is logged and ignored. */
  audit?: AuditHook;
  /** Replaces the store built from the configuration (memory, or Redis with LATCH_REDIS_URL). */
  store?: KeyValueStore;
  /**
   * Whether answers may stream for as long as they like (`GET /events`): true on a server; false on
   * Lambda (bff/lambda.ts), where `/events` is then 404 and the widget re-checks `/me` instead. default true
   */
  streams?: boolean;
  /** True while the server drains (bff/server.ts on SIGTERM): answers then carry `Connection: close`. */
  closing?: () => boolean;
}

export interface Bff extends Koa {
  /** What the routes were given, and the sites (each with its cookies): for tests and operations (`readiness`). */
  readonly latch: RouteDeps & { readonly sites: Sites };
}

/** The provider LATCH_PROVIDER names (kept for the barrel; see providers/index.ts createProvider). */
export function providerFromConfig(config: BffConfig): Provider {
  return createProvider(config);
}

/**
 * Builds the BFF as a Koa app. No listen(), no process.env: the entries
 * (server.ts, lambda.ts) load the configuration and serve it.
 */
export function createBff(config: BffConfig, options: BffOptions = {}): Bff {
  const logger = options.logger ?? createLogger(config.logLevel);
  // The shared store (deny-list, replay markers, refresh locks; sessions too with LATCH_SESSION_STORE).
  const store = options.store ?? storeFromConfig(config, logger);
  const sessions = sessionsFromConfig(config, store);
  const audit = createAudit(logger, options.audit);
  const metrics = config.metrics ? createMetrics() : undefined;
  const tracing = config.tracing ? createTracing() : undefined;
  const hooks = { ...(metrics ? { observe: metrics.observeOutbound } : {}), ...(tracing ? { trace: tracing.outbound } : {}) };
  // Every configured provider, built once on first use (per tenant for a templated issuer); `provider`
  // is the first, the one a request without a choice uses.
  const providers = new ProviderRegistry(config, (c) => createProvider(c, hooks), options.provider);
  const provider = providers.get(providers.primary);
  // Valid but weakening settings, one warn line each, at every start (server start-up, Lambda cold start).
  for (const { variable, message } of configWarnings(config)) logger.warn({ event: 'config-warning', variable }, message);
  // The deployment's sites (docs/embedding.md): one, or with LATCH_SITES one per host name, each
  // with its own cookies for the one `sessions`.
  const sites = createSites(config, sessions);
  const deps: Bff['latch'] = {
    config, provider, providers, sessions, refresher: refresherFromConfig(config, (session) => providers.forSession(session), sessions, audit, logger), logger, audit,
    readiness: [...(store.kind === 'redis' ? [{ name: 'session-store', check: () => store.ready() }] : []), ...(options.readiness ?? [])],
    ...(metrics ? { metrics } : {}),
    ...(tracing ? { tracing } : {}),
    live: liveFromConfig(config, store, sessions, logger),
    sites,
  };

  const app = new Koa() as unknown as Bff;
  Object.defineProperty(app, 'latch', { value: deps });
  app.silent = true;
  // X-Forwarded-For/-Proto/-Host count only with LATCH_TRUST_PROXY (ctx.ip, ctx.protocol, ctx.host);
  // ctx.ip is then the address the outermost trusted proxy saw, never one the client wrote.
  app.proxy = config.trustProxy;
  app.maxIpsCount = config.trustedProxyHops;

  // Routes that declare `csrf` run this check first (a refusal is their answer, metrics included).
  const router = new RouteTable({ csrf: requireCsrf(config.allowedOrigins) });
  for (const route of [loginRoute, callbackRoute, meRoute, logoutRoute, logoutEndRoute, handoffRoute, healthRoute, jwksRoute, backchannelRoute, passwordRoute, providersRoute, readyRoute, metricsRoute, widgetAssetRoute, sessionsRoute, ...(options.streams === false ? [] : [eventsRoute, wsTicketRoute]), proxyRoute]) route(router, deps);
  // What a request's route declares where it registers (routes/table.ts), found once per request.
  const traits = (ctx: Context) => router.route(ctx)?.traits;

  // The order, outermost first:
  // 0. tracing (LATCH_TRACING=true): one span a request, the parent of the spans of its outbound calls;
  //    then metrics (LATCH_METRICS=true): times every request and sees its final status, errors included.
  // 1. the edge (middleware/edge.ts): one middleware that turns every failure below into a coded JSON
  //    answer or error page, and runs these checks in order before the routes:
  //    a. security headers: no-store and friends on every answer, errors included;
  //    b. the site: the request's site by its host (421 for an unknown one with LATCH_SITES, but on the
  //       routes that declare `anyHost`), and a path mount's prefix removed; everything below uses that
  //       site's origins and cookies, and the route the table will match (never the raw path);
  //    c. CORS: set before routing, so errors to allowed origins stay readable; answers preflights;
  //    d. limits: header and body sizes (431/413), then the per-IP rate limit on the routes that declare
  //       `rateLimited` (/login and /callback) (429).
  //    Errors on the routes that declare `navigation` (GET /login, /callback, /logout/end) are pages.
  // 2. the routes (routes/table.ts: 405 for a known path's other methods; the CSRF check first on
  //    those that declare `csrf`; /backchannel-logout does not: its signed token is its authentication).
  const checks: EdgeCheck[] = [
    setSecurityHeaders,
    siteResolver(sites, router),
    cors(config.allowedOrigins),
    // A refused request's sign-in transaction cookies are cleared with the 431 (middleware/limits.ts).
    (ctx) => checkHeaderSize(ctx, config.maxHeaderBytes, (cookie) => siteOf(ctx).cookies.clearTransactions(cookie)),
    (ctx) => checkBodySize(ctx, config.maxBodyBytes),
  ];
  if (config.rateLimit.max > 0) {
    const limiter = new FixedWindowLimiter({ max: config.rateLimit.max, windowMs: config.rateLimit.windowSeconds * 1000 });
    checks.push(rateLimit(limiter, {
      applies: (ctx) => traits(ctx)?.rateLimited === true,
      onOverflow: () => logger.warn({ event: 'rate-limit-overflow' }, 'rate limiter key table full: new clients are not counted this window'),
    }));
  }
  if (tracing) app.use(tracing.middleware);
  if (metrics) app.use(metrics.middleware);
  app.use(edge(logger, checks, { closing: options.closing, navigation: (ctx) => traits(ctx)?.navigation === true }));
  app.use(router.middleware());
  return app;
}
