import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createBff } from '../../bff/app.ts';
import { loadConfig } from '../../bff/config.ts';
import { startScayleEmulator } from '../../dev/scayle-emulator.ts';
import { HttpClient, signIn } from '../helpers/http.ts';
import { captureLogs } from '../helpers/logs.ts';
import { freePort, listen } from '../helpers/net.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { cookiePairs, patchedSessionCookie, startUpstream } from './routes/proxy-support.ts';

// A real SDK, as an application registers it: spans kept in memory, W3C trace context and baggage
// propagators (NodeTracerProvider's defaults), AsyncLocalStorage context.
const exporter = new InMemorySpanExporter();
const sdk = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
sdk.register();

const spans = () => exporter.getFinishedSpans();
const named = (name: string) => spans().filter((s) => s.name === name);
const one = (name: string) => {
  const found = named(name);
  assert.equal(found.length, 1, `one span named "${name}"; spans: ${spans().map((s) => s.name).join(', ')}`);
  return found[0]!;
};
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

/** Everything a span carries that an exporter sends, as text. */
function exported(span: ReadableSpan): string {
  return JSON.stringify({ name: span.name, attributes: span.attributes, events: span.events, status: span.status, links: span.links });
}

const TRACE_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const BROWSER_SPAN = '0123456789abcdef';
const browserTraceparent = `00-${TRACE_ID}-${BROWSER_SPAN}-01`;

describe('tracing (LATCH_TRACING=true, with a registered OpenTelemetry SDK)', () => {
  let stack: Stack;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;

  before(async () => {
    upstream = await startUpstream();
    stack = await startStack({
      env: {
        LATCH_TRACING: 'true',
        LATCH_API_ROUTES: `echo=${upstream.server.url},down=http://127.0.0.1:${await freePort()}`,
      },
    });
  });
  after(async () => {
    await stack.close();
    await upstream.server.close();
  });
  beforeEach(() => {
    exporter.reset();
    upstream.reset();
  });

  it('records a sign-in, /me, a refresh and a proxied call with no token, cookie, code, state, path or query in any span', async () => {
    const client = new HttpClient();
    const { chain } = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/private?q=return-query`)}`, stack.user);
    const callback = new URL(chain.find((url) => url.startsWith(`${stack.bffUrl}/callback?`))!);
    const code = callback.searchParams.get('code')!;
    const state = callback.searchParams.get('state')!;
    const first = await client.jar.getCookieString(stack.bffUrl);
    const signedIn = (await stack.app.latch.sites.all[0]!.cookies.read(first))!.session;

    const api = { origin: stack.siteOrigin, 'latch-csrf': '1' };
    const me = await fetch(`${stack.bffUrl}/me`, { headers: { ...api, cookie: first } });
    assert.equal(me.status, 200);
    // An access token past its expiry: the proxied call refreshes first, then goes upstream.
    const { cookie: stale } = await patchedSessionCookie(stack.app, first, { atExp: Date.now() - 1000 });
    const proxied = await fetch(`${stack.bffUrl}/api/echo/orders/path-marker-4711?filter=query-marker-0815`, { headers: { ...api, cookie: stale, traceparent: browserTraceparent, baggage: 'user=evil' } });
    assert.equal(proxied.status, 200);
    const refreshedCookies = proxied.headers.getSetCookie();
    const refreshed = (await stack.app.latch.sites.all[0]!.cookies.read(cookiePairs(refreshedCookies)))!.session;
    assert.notEqual(refreshed.at, signedIn.at, 'the token was refreshed');

    // The spans are there, named after routes and steps.
    const login = one('GET /login');
    const callbackSpan = one('GET /callback');
    const exchange = one('oauth code exchange');
    assert.equal(login.kind, SpanKind.SERVER);
    assert.equal(exchange.kind, SpanKind.CLIENT);
    assert.equal(parentOf(exchange), idOf(callbackSpan), 'the code exchange is a child of the /callback request');
    assert.equal(callbackSpan.attributes['http.route'], '/callback');
    assert.equal(callbackSpan.attributes['http.response.status_code'], 302);
    assert.equal(one('GET /me').attributes['http.response.status_code'], 200);
    const proxySpan = one('GET /^\\/api(?:\\/|$)/');
    const refresh = one('oauth refresh');
    const upstreamSpan = one('GET api echo');
    assert.equal(parentOf(refresh), idOf(proxySpan));
    assert.equal(parentOf(upstreamSpan), idOf(proxySpan));
    assert.equal(upstreamSpan.kind, SpanKind.CLIENT);
    assert.deepEqual(
      { api: upstreamSpan.attributes['latch.api'], host: upstreamSpan.attributes['server.address'], status: upstreamSpan.attributes['http.response.status_code'] },
      { api: 'echo', host: '127.0.0.1', status: 200 },
    );

    // The browser's traceparent is the request's parent; upstream gets the BFF's own span, and no baggage.
    assert.equal(proxySpan.spanContext().traceId, TRACE_ID);
    assert.equal(parentOf(proxySpan), BROWSER_SPAN);
    const sent = upstream.seen[0]!.headers;
    assert.equal(sent.traceparent, `00-${TRACE_ID}-${idOf(upstreamSpan)}-01`);
    assert.equal(sent.baggage, undefined);

    // The scan: nothing secret or personal in anything a span exports.
    const cookieValues = [first, stale, cookiePairs(refreshedCookies), ...client.jar.toJSON()!.cookies.map((c) => `${c.key}=${c.value}`)]
      .flatMap((header) => header.split(/;\s*/))
      .map((pair) => pair.slice(pair.indexOf('=') + 1))
      .filter((value) => value.length >= 16);
    const secrets: Record<string, string | undefined> = {
      'access token': signedIn.at, 'refresh token': signedIn.rt, 'ID token': signedIn.idt,
      'refreshed access token': refreshed.at, 'refreshed refresh token': refreshed.rt, 'refreshed ID token': refreshed.idt,
      code, state, 'client secret': stack.clientSecret, 'session id': signedIn.sid,
      'path past the route': 'path-marker-4711', 'query string': 'query-marker-0815', 'returnTo query': 'return-query',
      password: stack.user.password,
      ...Object.fromEntries(cookieValues.map((value, i) => [`cookie value ${i}`, value])),
    };
    assert.ok(cookieValues.length >= 3, 'the scan has cookie values to look for');
    assert.ok(spans().length >= 8, `spans recorded: ${spans().length}`);
    for (const span of spans()) {
      const text = exported(span);
      for (const [what, secret] of Object.entries(secrets)) {
        assert.ok(secret, `${what} is known`);
        assert.ok(!text.includes(secret), `span "${span.name}" carries the ${what}: ${text}`);
      }
    }
  });

  it('gives an error answer its code on the request span, and a failed upstream its own', async () => {
    const noSession = await fetch(`${stack.bffUrl}/me`, { headers: { origin: stack.siteOrigin } });
    assert.equal(noSession.status, 401);
    const me = one('GET /me');
    assert.equal(me.attributes['error.type'], 'LATCH_UNAUTHENTICATED');
    assert.equal(me.status.code, SpanStatusCode.UNSET, 'a 4xx is the caller\'s error, not the server\'s');

    const client = new HttpClient();
    await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, stack.user);
    exporter.reset();
    const down = await fetch(`${stack.bffUrl}/api/down/x`, { headers: { origin: stack.siteOrigin, 'latch-csrf': '1', cookie: await client.jar.getCookieString(stack.bffUrl) } });
    assert.equal(down.status, 502);
    const request = one('GET /^\\/api(?:\\/|$)/');
    const call = one('GET api down');
    assert.equal(call.attributes['error.type'], 'LATCH_UPSTREAM_UNAVAILABLE');
    assert.equal(call.status.code, SpanStatusCode.ERROR);
    assert.equal(request.attributes['error.type'], 'LATCH_UPSTREAM_UNAVAILABLE');
    assert.equal(request.status.code, SpanStatusCode.ERROR);
    assert.equal(parentOf(call), idOf(request));
  });

  it('counts an upstream 4xx as the call\'s error, not the request\'s', async () => {
    const client = new HttpClient();
    await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, stack.user);
    upstream.setHandler((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{}'));
    exporter.reset();
    const res = await fetch(`${stack.bffUrl}/api/echo/missing`, { headers: { origin: stack.siteOrigin, 'latch-csrf': '1', cookie: await client.jar.getCookieString(stack.bffUrl) } });
    assert.equal(res.status, 404);
    const call = one('GET api echo');
    assert.deepEqual([call.attributes['http.response.status_code'], call.attributes['error.type'], call.status.code], [404, '404', SpanStatusCode.ERROR]);
    const request = one('GET /^\\/api(?:\\/|$)/');
    assert.deepEqual([request.attributes['http.response.status_code'], request.status.code], [404, SpanStatusCode.UNSET]);
  });

  it('starts a trace of its own for a malformed or oversized traceparent, and answers as usual', async () => {
    for (const traceparent of ['garbage', `00-${'0'.repeat(32)}-${BROWSER_SPAN}-01`, `ff-${TRACE_ID}-${BROWSER_SPAN}-01`, `00-${TRACE_ID}-${BROWSER_SPAN}-01-${'x'.repeat(8000)}`]) {
      exporter.reset();
      const res = await fetch(`${stack.bffUrl}/healthz`, { headers: { traceparent, tracestate: 'k=v,'.repeat(500) } });
      assert.equal(res.status, 200, traceparent.slice(0, 40));
      const span = one('GET /healthz');
      assert.equal(span.parentSpanContext, undefined, traceparent.slice(0, 40));
      assert.notEqual(span.spanContext().traceId, TRACE_ID);
    }
  });

  it('traces a request that no route matches by its method only', async () => {
    const res = await fetch(`${stack.bffUrl}/no/such/secret-path-0042?x=1`);
    assert.equal(res.status, 404);
    const span = one('GET');
    assert.equal(span.attributes['http.route'], undefined);
    assert.ok(!exported(span).includes('secret-path-0042'));
  });

  it('hands the SDK what it still holds at shutdown (flush)', async () => {
    let flushed = 0;
    const delegate = (trace.getTracerProvider() as unknown as { getDelegate(): { forceFlush(): Promise<void> } }).getDelegate();
    const original = delegate.forceFlush.bind(delegate);
    delegate.forceFlush = async () => {
      flushed++;
      return original();
    };
    try {
      await stack.app.latch.tracing!.flush();
    } finally {
      delegate.forceFlush = original;
    }
    assert.equal(flushed, 1);
  });
});

describe('tracing off (the default)', () => {
  it('records nothing and forwards the browser\'s traceparent as it came, even with an SDK registered', async () => {
    const upstream = await startUpstream();
    const stack = await startStack({ env: { LATCH_API_ROUTES: `echo=${upstream.server.url}` } });
    try {
      assert.equal(stack.app.latch.tracing, undefined);
      const client = new HttpClient();
      await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, stack.user);
      exporter.reset();
      const res = await fetch(`${stack.bffUrl}/api/echo/x`, { headers: { origin: stack.siteOrigin, 'latch-csrf': '1', cookie: await client.jar.getCookieString(stack.bffUrl), traceparent: browserTraceparent } });
      assert.equal(res.status, 200);
      assert.equal(upstream.seen[0]!.headers.traceparent, browserTraceparent);
      assert.equal(spans().length, 0, spans().map((s) => s.name).join(', '));
    } finally {
      await stack.close();
      await upstream.server.close();
    }
  });
});

describe('tracing the SCAYLE flow', () => {
  it('records each call to SCAYLE as a child of its request', async () => {
    const SITE = 'http://www.latch.test:8080';
    const emu = await startScayleEmulator({
      shops: [{ shopId: '1001', shopSecret: 'shop-secret-for-the-emulator-0123456789' }],
      clients: [{ clientId: 'latch-shop', clientSecret: 'client-secret-0123456789' }],
      idpKeys: ['google'],
    });
    const port = await freePort();
    const config = loadConfig({
      LATCH_PROVIDER: 'scayle',
      LATCH_SCAYLE_BASE_URL: emu.baseUrl,
      LATCH_SCAYLE_SHOP_ID: '1001',
      LATCH_SCAYLE_SHOP_SECRET: 'shop-secret-for-the-emulator-0123456789',
      LATCH_SCAYLE_IDP_KEY: 'google',
      LATCH_CLIENT_ID: 'latch-shop',
      LATCH_CLIENT_SECRET: 'client-secret-0123456789',
      LATCH_BASE_URL: `http://127.0.0.1:${port}`,
      LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
      LATCH_ALLOWED_ORIGINS: SITE,
      LATCH_ALLOW_INSECURE_HTTP: 'true',
      LATCH_TRACING: 'true',
    });
    const server = await listen(createBff(config, { logger: captureLogs().logger }).callback(), { port });
    try {
      exporter.reset();
      const client = new HttpClient();
      const { chain } = await client.follow(`http://127.0.0.1:${port}/login?returnTo=${encodeURIComponent(`${SITE}/shop`)}`, { until: (u) => u.origin === SITE });
      assert.equal(chain.at(-1), `${SITE}/shop`);
      const exchange = one('oauth code exchange');
      assert.equal(parentOf(exchange), idOf(one('GET /callback')));
      assert.equal(exchange.attributes['latch.oauth.step'], 'code exchange');
    } finally {
      await server.close();
      await emu.close();
    }
  });
});

after(async () => {
  await sdk.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});
