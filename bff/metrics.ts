import type { Context, Next } from 'koa';
import type { Registry } from 'prom-client';
import { matchedRoute } from './routes/table.ts';

/**
 * Prometheus metrics (LATCH_METRICS=true), through prom-client. One registry per app, so
 * several apps in one process (tests) never share or clash.
 *
 *   latch_http_requests_total{method,route,status}         every answer, by route pattern
 *   latch_http_request_duration_seconds{method,route}      latency, by route pattern
 *   latch_logins_total{result="success|refused|error"}     sign-ins: the routes that declare `signIn` (/callback, /login/password)
 *   latch_token_refreshes_total{result="success|failure"}  refresh-token grants
 *   latch_outbound_duration_seconds{step,result}           calls to the authorization server
 *   latch_errors_total{code}                               coded JSON errors (LATCH_*)
 * plus prom-client's default process metrics (CPU, memory, event-loop lag, GC).
 *
 * prom-client is imported on first use, not at start-up: with metrics off (the default, and the
 * Lambda case) its code is never evaluated, which keeps it out of the cold start.
 */
export interface Metrics {
  /** The registry, once prom-client has loaded. */
  registry(): Promise<Registry>;
  /** The outermost middleware: times and counts every request by its route pattern. */
  middleware(ctx: Context, next: Next): Promise<void>;
  /** For OutboundOptions.observe: the duration of each call to the authorization server. */
  observeOutbound(what: string, ms: number, ok: boolean): void;
}

export interface MetricsOptions {
  /** prom-client's process metrics; default true. */
  defaultMetrics?: boolean;
}

const UNMATCHED = '(unmatched)';
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  // prom-client is CommonJS: its module.exports is the namespace's default, in Node and in the bundles
  // (which put it in a file of its own, scripts/build-bff.ts; there the namespace has nothing else).
  const loaded = import('prom-client').then((prom) => instruments(prom.default, options));
  // A failure to load surfaces at /metrics; requests are never held up by it.
  loaded.catch(() => {});
  return {
    registry: async () => (await loaded).registry,
    async middleware(ctx, next) {
      const started = performance.now();
      try {
        await next();
      } finally {
        (await loaded.catch(() => undefined))?.request(ctx, performance.now() - started);
      }
    },
    observeOutbound(what, ms, ok) {
      void loaded.then((m) => m.outbound(what, ms, ok), () => {});
    },
  };
}

function instruments(prom: typeof import('prom-client'), options: MetricsOptions) {
  const { Counter, Histogram, Registry, collectDefaultMetrics } = prom;
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'latch_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'latch_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const logins = new Counter({
    name: 'latch_logins_total',
    help: 'Completed sign-ins: success (session set), refused (by the authorization server or the user), error.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const refreshes = new Counter({
    name: 'latch_token_refreshes_total',
    help: 'Refresh-token grants sent to the authorization server, by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const outbound = new Histogram({
    name: 'latch_outbound_duration_seconds',
    help: 'Calls to the authorization server (discovery, jwks, code exchange, userinfo, refresh...), by step and result.',
    labelNames: ['step', 'result'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'latch_errors_total',
    help: 'Coded error answers (JSON bodies), by LATCH_* code.',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  // Initialise the login and refresh series, so dashboards see zeros rather than nothing.
  for (const result of ['success', 'refused', 'error']) logins.inc({ result }, 0);
  for (const result of ['success', 'failure']) refreshes.inc({ result }, 0);

  return {
    registry,
    request(ctx: Context, ms: number) {
      const matched = matchedRoute(ctx);
      const route = matched === undefined ? UNMATCHED : String(matched.path);
      const method = ctx.method;
      duration.observe({ method, route }, ms / 1000);
      requests.inc({ method, route, status: String(ctx.status) });
      const code = errorCode(ctx.body);
      if (code) errors.inc({ code });
      if (matched?.traits.signIn) logins.inc({ result: loginResult(ctx) });
    },
    outbound(what: string, ms: number, ok: boolean) {
      outbound.observe({ step: what, result: ok ? 'success' : 'failure' }, ms / 1000);
      if (what === 'refresh') refreshes.inc({ result: ok ? 'success' : 'failure' });
    },
  };
}

/** The LATCH_* code of a coded error answer's body, or undefined. */
export function errorCode(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | null | undefined)?.error?.code;
  return typeof code === 'string' && code.startsWith('LATCH_') ? code : undefined;
}

/** A sign-in route's outcome: an error answer, a session made (routes/flows.ts signIn()), or neither (refused by the server or the user). */
function loginResult(ctx: Context): 'success' | 'refused' | 'error' {
  if (ctx.status >= 400) return 'error';
  return ctx.state.latchSignedIn ? 'success' : 'refused';
}
