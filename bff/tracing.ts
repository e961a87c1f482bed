import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Context, Next } from 'koa';
import { LatchError } from './errors.ts';
import { errorCode } from './metrics.ts';
import { matchedRoute } from './routes/table.ts';

/**
 * OpenTelemetry tracing (LATCH_TRACING=true), through @opentelemetry/api alone: the application
 * registers an SDK and an exporter (docs/deploy.md), and the API hands it these spans:
 *
 *   SERVER  `<METHOD> <route>`            every request: the matched route's pattern (never the raw
 *                                         path), the status, the LATCH_* code of an error answer
 *   CLIENT  `oauth <step>`                every call to the authorization server (oauth/outbound.ts:
 *                                         discovery, jwks, code exchange, userinfo, refresh... SCAYLE's too)
 *   CLIENT  `<METHOD> api <name>`         every request the /api proxy sends upstream (a retry after a
 *                                         401 is a second one); its context goes upstream as `traceparent`
 *
 * What never goes into a span: tokens, cookies, codes, state, paths past the route's pattern, query
 * strings, and error messages (an authorization server's error_description can quote a grant). A span
 * carries names, methods, status codes, host names and our own error codes only
 * (test/bff/tracing.test.ts scans every attribute of a real sign-in, /me, refresh and proxied call).
 *
 * Off (the default), none of this is installed: no middleware, no wrapper around outbound calls, the
 * proxy's headers built as before, and @opentelemetry/api is never evaluated (it is imported on first
 * use, like prom-client). Without a registered SDK the API's spans are no-ops.
 */
export interface Tracing {
  /** The outermost middleware: one SERVER span a request, the active span while the request runs. */
  middleware(ctx: Context, next: Next): Promise<void>;
  /** For OutboundOptions.trace: one CLIENT span around a call to the authorization server. */
  outbound<T>(what: string, run: () => Promise<T>): Promise<T>;
  /**
   * One CLIENT span around an upstream request of the /api proxy. `send` gets the headers to send:
   * `headers` without the browser's traceparent and tracestate, plus this span's context as the
   * registered propagator writes it (W3C `traceparent` with the SDK's defaults).
   */
  upstream(api: string, url: URL, method: string, headers: OutgoingHttpHeaders, send: (headers: OutgoingHttpHeaders) => Promise<IncomingMessage>): Promise<IncomingMessage>;
  /** Exports what the SDK still holds (at shutdown): its tracer provider's forceFlush(), at most `timeoutMs`. */
  flush(timeoutMs?: number): Promise<void>;
}

type Api = typeof import('@opentelemetry/api');
type Span = import('@opentelemetry/api').Span;
type Tracer = import('@opentelemetry/api').Tracer;
type Attributes = import('@opentelemetry/api').Attributes;

/** The trace-context headers a browser may send: replaced by ours upstream, never passed on as they came. */
const TRACE_HEADERS = ['traceparent', 'tracestate'];

/** Set by scripts/build-bff.ts (package.json's version). */
declare const __LATCH_VERSION__: string | undefined;

export function createTracing(): Tracing {
  // Once loaded, `otel` is read without a promise. The tracer is a ProxyTracer: its spans go to
  // whichever SDK is registered, before or after this line.
  let otel: { api: Api; tracer: Tracer } | undefined;
  const loading = import('@opentelemetry/api').then((api) => {
    otel = { api, tracer: api.trace.getTracer('latch-bff', typeof __LATCH_VERSION__ === 'string' ? __LATCH_VERSION__ : 'dev') };
    return otel;
  });
  // A failure to load leaves requests untraced, never failed (the middleware is outside the edge).
  const loaded = () => otel ?? loading.catch(() => undefined);

  /** Runs `run` in a new CLIENT span, made active; ends it with its outcome (a LatchError's code, never its message). */
  async function clientSpan<T>(name: string, attributes: Attributes, run: (api?: Api) => Promise<T>, after?: (value: T, span: Span, api: Api) => void): Promise<T> {
    const o = await loaded();
    if (!o) return run();
    const { api } = o;
    const span = o.tracer.startSpan(name, { kind: api.SpanKind.CLIENT, attributes });
    try {
      const value = await api.context.with(api.trace.setSpan(api.context.active(), span), () => run(api));
      after?.(value, span, api);
      return value;
    } catch (err) {
      span.setAttribute('error.type', err instanceof LatchError ? err.code : 'LATCH_INTERNAL');
      span.setStatus({ code: api.SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  }

  return {
    async middleware(ctx, next) {
      const o = await loaded();
      if (!o) return next();
      const { api } = o;
      // Only the browser's trace context is taken as the parent: baggage (any other header a
      // propagator reads) would otherwise travel on to every upstream, written by whoever calls.
      const remote = api.trace.getSpanContext(api.propagation.extract(api.ROOT_CONTEXT, ctx.req.headers));
      const parent = remote ? api.trace.setSpanContext(api.ROOT_CONTEXT, remote) : api.ROOT_CONTEXT;
      const method = ctx.method;
      const span = o.tracer.startSpan(method, { kind: api.SpanKind.SERVER, attributes: { 'http.request.method': method } }, parent);
      try {
        await api.context.with(api.trace.setSpan(parent, span), next);
      } finally {
        const route = matchedRoute(ctx);
        if (route !== undefined) {
          span.updateName(`${method} ${String(route.path)}`);
          span.setAttribute('http.route', String(route.path));
        }
        span.setAttribute('http.response.status_code', ctx.status);
        const code = errorCode(ctx.body);
        if (code) span.setAttribute('error.type', code);
        // A server span's 4xx is the caller's error, not the server's (OpenTelemetry's HTTP conventions).
        if (ctx.status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
        span.end();
      }
    },
    outbound(what, run) {
      return clientSpan(`oauth ${what}`, { 'latch.oauth.step': what }, run);
    },
    upstream(apiName, url, method, headers, send) {
      const attributes = {
        'http.request.method': method,
        'server.address': url.hostname,
        'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
        'latch.api': apiName,
      };
      return clientSpan(`${method} api ${apiName}`, attributes, (api) => {
        const out: OutgoingHttpHeaders = { ...headers };
        for (const name of TRACE_HEADERS) delete out[name];
        api?.propagation.inject(api.context.active(), out);
        return send(out);
      }, (res, span, api) => {
        const status = res.statusCode ?? 0;
        span.setAttribute('http.response.status_code', status);
        // A client span's 4xx is an error too (OpenTelemetry's HTTP conventions): its code is the type.
        if (status >= 400) {
          span.setAttribute('error.type', String(status));
          span.setStatus({ code: api.SpanStatusCode.ERROR });
        }
      });
    },
    async flush(timeoutMs = 2000) {
      const o = await loaded();
      // The API has no flush; the SDK's provider (behind the API's proxy) does.
      const provider = o?.api.trace.getTracerProvider() as { getDelegate?(): { forceFlush?(): Promise<void> } } | undefined;
      const flushing = provider?.getDelegate?.().forceFlush?.();
      if (!flushing) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([flushing.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    },
  };
}
