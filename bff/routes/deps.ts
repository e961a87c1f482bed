import type { Logger } from 'pino';
import type { BffConfig } from '../config.ts';
import type { Provider } from '../providers/provider.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { SessionRefresher } from '../session/refresh.ts';
import type { Sessions } from '../session/sessions.ts';
import type { Metrics } from '../metrics.ts';
import type { AuditHook } from '../audit.ts';
import type { Tracing } from '../tracing.ts';
import type { LiveSessions } from '../session/live.ts';

/** One thing /readyz waits for besides the provider (e.g. the Redis session store). Rejects while not ready. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

/**
 * What every route is handed by createBff. Routes never import each other. The request's site, and
 * with it the request's cookies, come from the request (`siteOf(ctx)`, sites.ts); what several routes
 * do with them is in flows.ts.
 */
export interface RouteDeps {
  config: BffConfig;
  /** The first configured provider: what a request without a choice of its own signs in with. */
  provider: Provider;
  /** Every configured provider (issue 17): a session's own, a site's, the one an issuer names. */
  providers: ProviderRegistry;
  /** The application's sessions, whatever the site (session/sessions.ts). */
  sessions: Sessions;
  refresher: SessionRefresher;
  logger: Logger;
  /** Extra readiness checks for /readyz (the provider's discovery and JWKS are always checked). */
  readiness?: ReadinessCheck[];
  /** Present when LATCH_METRICS=true. */
  metrics?: Metrics;
  /** Audit events (bff/audit.ts): logged, and handed to createBff's `audit` option. */
  audit?: AuditHook;
  /** Present when LATCH_TRACING=true. */
  tracing?: Tracing;
  /** The sessions index, their news and open streams (issue 19); absent for apps built without it. */
  live?: LiveSessions;
}
