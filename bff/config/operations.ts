import type { EnvReader } from './env.ts';

/** How the process runs: where it listens, whom it trusts, what it tells operators (README: "Running it"). */
export interface OperationsSection {
  readonly port: number;
  readonly logLevel: string;
  /** LATCH_HOST: the interface the server listens on (127.0.0.1; 0.0.0.0 in a container). */
  readonly host: string;
  /** LATCH_TRUST_PROXY: trust X-Forwarded-For/-Proto/-Host (Koa `app.proxy`); only behind a proxy that sets them. */
  readonly trustProxy: boolean;
  /** How many proxies stand in front (LATCH_TRUST_PROXY=true is 1): the client address is that many from the right of X-Forwarded-For. */
  readonly trustedProxyHops: number;
  /** LATCH_METRICS: serve Prometheus metrics at /metrics. */
  readonly metrics: boolean;
  /** LATCH_TRACING: OpenTelemetry spans through @opentelemetry/api, for the SDK the application registers (bff/tracing.ts). */
  readonly tracing: boolean;
  /** LATCH_WIDGET_DIR: where the built widget (latch.js...) is read from; default: dist/ beside the BFF build. */
  readonly widgetDir?: string;
  /** Loud opt-out: allow http:// for the issuer and base URL (development only). Read first, by the EnvReader: every URL check needs it. */
  readonly allowInsecureHttp: boolean;
}

/** The operations section: PORT, LATCH_HOST, LATCH_TRUST_PROXY, LATCH_METRICS, LATCH_TRACING, LATCH_LOG_LEVEL, LATCH_WIDGET_DIR, LATCH_ALLOW_INSECURE_HTTP. */
export function readOperations(env: EnvReader): OperationsSection {
  const widgetDir = env.str('LATCH_WIDGET_DIR');
  return {
    port: env.int('PORT', 8787, 0, 65535),
    logLevel: env.str('LATCH_LOG_LEVEL') ?? 'info',
    host: env.str('LATCH_HOST') ?? '127.0.0.1',
    ...readTrustProxy(env),
    metrics: env.bool('LATCH_METRICS'),
    tracing: env.bool('LATCH_TRACING'),
    ...(widgetDir ? { widgetDir } : {}),
    allowInsecureHttp: env.allowInsecureHttp,
  };
}

/**
 * LATCH_TRUST_PROXY: false (default), true (one proxy in front), or the number of proxies in front.
 * Each proxy appends the address it saw to X-Forwarded-For, so the client is the N-th from the right;
 * anything further left was written by the client and is never believed.
 */
function readTrustProxy(env: EnvReader): Pick<OperationsSection, 'trustProxy' | 'trustedProxyHops'> {
  const raw = env.str('LATCH_TRUST_PROXY');
  if (raw === undefined || raw === 'false' || raw === '0') return { trustProxy: false, trustedProxyHops: 0 };
  if (raw === 'true') return { trustProxy: true, trustedProxyHops: 1 };
  if (/^[1-9]$/.test(raw)) return { trustProxy: true, trustedProxyHops: Number(raw) };
  env.fail('LATCH_TRUST_PROXY', `must be false, true (one proxy in front) or the number of proxies in front (1-9), got "${raw}"`);
  return { trustProxy: false, trustedProxyHops: 0 };
}
