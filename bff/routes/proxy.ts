import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import type { RouteTable } from './table.ts';
import type { Context } from 'koa';
import type { ApiRoute } from '../config.ts';
import { LatchError } from '../errors.ts';
import { audienceAuth } from '../oauth/audience.ts';
import { asksForNonce, authorizationFor, dpopProof, sendWithNonce } from '../oauth/dpop.ts';
import { bodyCutShort, bodyTimedOut, bodyTooLarge, readBody } from '../middleware/limits.ts';
import type { ServiceTokens } from '../oauth/service-token.ts';
import { refuseOnChallenge, requireFor } from '../oauth/step-up.ts';
import type { RequestSession } from '../session/request-session.ts';
import { siteOf } from '../sites.ts';
import type { RouteDeps } from './deps.ts';
import { requestSession } from './flows.ts';
import { proxyCacheControl } from './proxy-cache.ts';

/**
 * `/api/<name>/<path>?<query>`: the token-attaching proxy. The browser never holds a token; the BFF
 * forwards the call to the upstream API named <name> (LATCH_API_ROUTES) with
 * `Authorization: Bearer <token>`: the user's access token, refreshed first when it has expired or
 * will within 30 s, or a client-credentials token for service routes.
 *
 * Bodies stream both ways (node:http, no buffering), except that a request body of at most
 * REPLAYABLE_BODY_BYTES with a Content-Length is read first: only such a request (or one without a
 * body) can be sent twice, so only it is retried after an upstream 401 (refresh once, retry once). A
 * larger or chunked body has gone upstream already: the 401 passes through, but the token is
 * renewed so that the page's next call carries a fresh one. An answer of at most WHOLE_ANSWER_BYTES
 * with a Content-Length is read whole before it is answered (cheaper than Koa's stream pipeline).
 *
 * Framing (request smuggling): the upstream connection is pooled and shared by every user, so a body
 * it could read differently from us would let one user's bytes become a request of their own there,
 * sent with the BFF's Authorization, or swallow the next user's request, token included. So every body
 * forwarded carries its framing explicitly (Content-Length, or chunked), and a body on GET, HEAD or
 * DELETE is refused with 400 before anything is sent: Node's client sends such a body with no framing
 * at all. See `bodyFraming()`.
 */
export function proxyRoute(router: RouteTable, deps: RouteDeps, serviceTokens?: ServiceTokens) {
  const routes = new Map(deps.config.apiRoutes.map((r) => [r.name, r]));
  router.all(/^\/api(?:\/|$)/, { csrf: true }, async (ctx) => {
    if (!FORWARDED_METHODS.has(ctx.method)) {
      throw new LatchError('LATCH_METHOD_NOT_ALLOWED', { detail: 'This method is not forwarded.', headers: { Allow: [...FORWARDED_METHODS].join(', ') } });
    }
    const framing = bodyFraming(ctx);
    const { route, url } = resolveTarget(ctx.req.url ?? '', routes);

    const live = await requestSession(ctx, deps);
    if (!live) throw new LatchError('LATCH_UNAUTHENTICATED');
    // Step-up (oauth/step-up.ts): a route's LATCH_API_ROUTE_<NAME>_ACR/_MAX_AGE, before anything goes upstream.
    requireFor(route, live.session);
    // Service tokens from the session's own provider's token endpoint; a user route with an audience gets a token for that API alone (oauth/audience.ts).
    const auth = route.token === 'service' ? serviceAuth(serviceTokens ?? deps.providers.serviceTokens(deps.providers.forSession(live.session)), route)
      : route.audience ? audienceAuth(live, route, () => deps.providers.forSession(live.session)) : userAuth(live);

    const body = await requestBody(ctx, framing, deps.config.requestTimeoutMs);
    const headers = forwardedHeaders(ctx);
    const limits = { timeoutMs: deps.config.apiTimeoutMs, maxBodyBytes: deps.config.maxBodyBytes, bodyTimeoutMs: deps.config.requestTimeoutMs };
    // A body read whole (or none) can be sent again: after a renewal, or a DPoP nonce challenge.
    const replayable = body === null || Buffer.isBuffer(body);
    // A session with a DPoP key (LATCH_DPOP=true): `DPoP <token>` and a fresh proof per request (bff/oauth/dpop.ts).
    const dk = route.token === 'user' ? live.session.dk : undefined;
    // LATCH_TRACING=true: a span of its own, whose context goes upstream as traceparent (bff/tracing.ts).
    const once = async (token: string) => {
      const out = dk ? { ...headers, dpop: await dpopProof(dk, ctx.method, url, token) } : headers;
      return deps.tracing
        ? deps.tracing.upstream(route.name, url, ctx.method, out, (traced) => send(url, ctx.method, traced, authorizationFor(token, dk), body, limits))
        : send(url, ctx.method, out, authorizationFor(token, dk), body, limits);
    };
    // An upstream's RFC 9470 challenge is answered by a new sign-in, not a new token: 401
    // LATCH_STEP_UP_REQUIRED to the page, before any renewal (oauth/step-up.ts).
    const forward = (token: string) => refuseOnChallenge(dk ? sendWithNonce(url, replayable, () => once(token), discard) : once(token));
    let res: IncomingMessage;
    try {
      res = await forward(await auth.initial());
      // A nonce the upstream still refuses is not the token's fault: no renewal for it.
      if (res.statusCode === 401 && auth.canRenew() && !(dk && asksForNonce(401, res.headers['www-authenticate']))) {
        if (replayable) {
          discard(res);
          res = await forward(await auth.renew());
        } else {
          // The streamed body is spent: renew for the page's next call, and pass this 401 on.
          await auth.renew().catch((err: unknown) => {
            if (err instanceof LatchError && err.code === 'LATCH_SESSION_EXPIRED') {
              discard(res);
              throw err;
            }
            deps.logger.warn({ route: route.name, cause: String(err) }, 'token renewal after an upstream 401 failed');
          });
        }
      }
    } catch (err) {
      // Tokens refreshed before the failure still go back to the browser (a rotated refresh token is spent).
      if (!(err instanceof LatchError && err.code === 'LATCH_SESSION_EXPIRED')) await auth.finish().catch(() => {});
      throw err;
    }
    try {
      await auth.finish();
    } catch (err) {
      discard(res);
      throw err;
    }
    await respond(ctx, res, route, siteOf(ctx).baseUrl);
  });
}

/** OPTIONS (a preflight, answered by the edge), TRACE and CONNECT are never forwarded: 405. */
const FORWARDED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
/** Forwarded without a body: RFC 9110 gives their content no meaning, and Node's client sends it unframed. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'DELETE']);

/** Request headers passed on. Everything else stays behind: Cookie, Authorization, Origin, X-Forwarded-*, hop-by-hop. */
const FORWARDED_REQUEST_HEADERS = [
  'accept', 'accept-encoding', 'accept-language', 'cache-control', 'content-encoding', 'content-language',
  'content-type', 'idempotency-key', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'pragma', 'range', 'traceparent', 'tracestate', 'user-agent', 'x-request-id',
];

/** Response headers never passed back: hop-by-hop, cookies, CORS (ours applies), the upstream's auth challenge, and the security headers the BFF sets itself. */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'set-cookie', 'set-cookie2', 'www-authenticate', 'cache-control',
  'x-accel-buffering',
  'x-content-type-options', 'x-frame-options', 'referrer-policy', 'strict-transport-security', 'alt-svc',
]);

/** A small request body is read whole so that it can be sent again after a 401. */
export const REPLAYABLE_BODY_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------------------------------------
// The target: the upstream can never change, and the path can never climb out of the base path.

/**
 * Maps the raw request target (`/api/<name>/<path>?<query>`, as received, not decoded) onto the
 * route's upstream. Refused with 400 LATCH_BAD_REQUEST: an absolute-form target, empty segments
 * (`//`), `.` and `..` segments however encoded (`%2e`, `%252e`, `..;`), encoded slashes and
 * backslashes (`%2f`, `%5c`), raw backslashes, control characters, malformed escapes.
 */
export function resolveTarget(rawTarget: string, routes: ReadonlyMap<string, ApiRoute>): { route: ApiRoute; url: URL } {
  if (!rawTarget.startsWith('/')) throw badPath('The request target must be a path.');
  const q = rawTarget.indexOf('?');
  const rawPath = q < 0 ? rawTarget : rawTarget.slice(0, q);
  const rawQuery = q < 0 ? '' : rawTarget.slice(q + 1).split('#')[0]!;
  const match = /^\/api\/([^/]+)(\/.*)?$/.exec(rawPath);
  const route = match ? routes.get(match[1]!) : undefined;
  if (!match || !route) throw new LatchError('LATCH_NOT_FOUND', { detail: 'No such API.' });
  const rest = match[2] ?? '';
  const segments = rest === '' ? [] : rest.slice(1).split('/');
  segments.forEach((segment, i) => {
    if (segment === '' && i < segments.length - 1) throw badPath('The API path has an empty segment.');
    if (/[\\\x00-\x20\x7f]|%(?:2f|5c|25(?:2e|2f|5c))/i.test(segment)) throw badPath('The API path has a forbidden character.');
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw badPath('The API path is malformed.');
    }
    if (/[\x00-\x1f\x7f]/.test(decoded)) throw badPath('The API path has a forbidden character.');
    const name = decoded.split(';')[0];
    if (name === '.' || name === '..') throw badPath('The API path may not contain . or .. segments.');
  });

  const base = upstreamBase(route.upstream);
  const url = new URL(route.upstream + rest + (rawQuery ? `?${rawQuery}` : ''));
  // Belt and braces: whatever the checks above missed, the result stays under the base.
  const basePath = base.path;
  if (url.origin !== base.origin || (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) || url.username || url.password) {
    throw badPath('The API path leaves its base.');
  }
  return { route, url };
}

const badPath = (detail: string) => new LatchError('LATCH_BAD_REQUEST', { detail });

/** Each upstream's origin and base path (no trailing slash), parsed once: the configuration never changes. */
const bases = new Map<string, { origin: string; path: string }>();
function upstreamBase(upstream: string): { origin: string; path: string } {
  let base = bases.get(upstream);
  if (!base) {
    const url = new URL(upstream);
    base = { origin: url.origin, path: url.pathname.replace(/\/$/, '') };
    bases.set(upstream, base);
  }
  return base;
}

// ---------------------------------------------------------------------------------------------------------
// Tokens

interface Auth {
  initial(): Promise<string>;
  /** Whether an upstream 401 is worth one renewal (not when the token is brand new). */
  canRenew(): boolean;
  renew(): Promise<string>;
  /** Before the answer goes out: reseal the session cookie if the tokens changed. */
  finish(): Promise<void>;
}

/** The user's access token: the request's session, refreshed as /me would, and forced once after an upstream 401. */
function userAuth(live: RequestSession): Auth {
  return {
    initial: async () => (await live.fresh()).at,
    canRenew: () => !live.refreshed,
    renew: async () => (await live.fresh(true)).at,
    finish: () => live.save(),
  };
}

function serviceAuth(tokens: ServiceTokens, route: ApiRoute): Auth {
  const request = { ...(route.scope ? { scope: route.scope } : {}), ...(route.audience ? { audience: route.audience } : {}) };
  let current = '';
  let renewed = false;
  return {
    async initial() {
      current = (await tokens.getServiceToken(request)).accessToken;
      return current;
    },
    canRenew: () => !renewed,
    async renew() {
      renewed = true;
      tokens.invalidate(request, current);
      current = (await tokens.getServiceToken(request)).accessToken;
      return current;
    },
    async finish() {},
  };
}

// ---------------------------------------------------------------------------------------------------------
// Upstream HTTP

type Body = Buffer | IncomingMessage | null;

function forwardedHeaders(ctx: Context): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const headers = ctx.req.headers;
  const hopByHop = connectionTokens(headers.connection);
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = headers[name];
    if (value !== undefined && !hopByHop?.has(name)) out[name] = value;
  }
  return out;
}

/**
 * The header names a Connection header lists (hop-by-hop, never forwarded); undefined for none. The
 * usual values, `keep-alive` and `close`, name no header that is not dropped anyway.
 */
function connectionTokens(connection: string | string[] | undefined): Set<string> | undefined {
  if (connection === undefined || connection === '') return undefined;
  const value = String(connection).toLowerCase();
  if (value === 'keep-alive' || value === 'close') return undefined;
  return new Set(value.split(',').map((s) => s.trim()));
}

type Framing = 'none' | 'length' | 'chunked';

/**
 * How the browser framed its body, checked before the session is read or anything is sent. Node's
 * parser answers the ambiguous cases with its bare 400 itself (Content-Length with Transfer-Encoding,
 * two Content-Lengths, a coding list that does not end in chunked). Refused here with
 * 400 LATCH_BAD_REQUEST, the connection closed without reading the body: a transfer coding before
 * chunked (`gzip, chunked`: we would forward the decoded bytes under no coding), and any body on GET,
 * HEAD or DELETE, chunked ones included even when empty. A `Content-Length: 0` is no body.
 */
function bodyFraming(ctx: Context): Framing {
  const { headers } = ctx.req;
  const coding = headers['transfer-encoding'];
  let framing: Framing = 'none';
  if (coding !== undefined) {
    if (coding.toLowerCase() !== 'chunked') throw refuseBody('Only the chunked transfer coding is accepted.');
    framing = 'chunked';
  } else if (Number(headers['content-length'] ?? 0) > 0) {
    framing = 'length';
  }
  if (framing !== 'none' && BODYLESS_METHODS.has(ctx.method)) throw refuseBody(`A ${ctx.method} request cannot have a body.`);
  return framing;
}

function refuseBody(detail: string): LatchError {
  return new LatchError('LATCH_BAD_REQUEST', { detail, headers: { Connection: 'close' } });
}

/** null (no body), the whole body when small enough to replay (read with readBody's limits), or the request stream itself. */
async function requestBody(ctx: Context, framing: Framing, timeoutMs: number): Promise<Body> {
  if (framing === 'none') return null;
  if (framing === 'length' && Number(ctx.req.headers['content-length']) <= REPLAYABLE_BODY_BYTES) {
    return readBody(ctx, REPLAYABLE_BODY_BYTES, timeoutMs);
  }
  return ctx.req;
}

class UpstreamTimeout extends Error {
  constructor() {
    super('upstream timed out');
    this.name = 'TimeoutError';
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT']);

/**
 * One upstream request. Resolves with the response once its headers arrive. The timeout is an idle
 * timeout (no bytes either way for `timeoutMs`), so a slow but steady upload or download goes on.
 * A streamed body is counted on its way: past `maxBodyBytes` (LATCH_MAX_BODY_BYTES, which bodies
 * with a Content-Length meet before they get here) the upstream request is dropped with 413; not all
 * there after `bodyTimeoutMs` (LATCH_REQUEST_TIMEOUT_MS), with 408; the browser gone, with nothing.
 *
 * The framing is always set here, never left to Node's defaults (which send a GET's or DELETE's body
 * unframed): a buffer has its length, a stream the browser's Content-Length (never a byte more goes
 * out) or else chunked, and no body on POST, PUT or PATCH is `Content-Length: 0`.
 */
function send(url: URL, method: string, headers: OutgoingHttpHeaders, authorization: string, body: Body, limits: { timeoutMs: number; maxBodyBytes: number; bodyTimeoutMs: number }): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const outHeaders: OutgoingHttpHeaders = { ...headers, authorization };
    if (Buffer.isBuffer(body)) outHeaders['content-length'] = String(body.length);
    else if (body) {
      const length = body.headers['content-length'];
      if (length !== undefined) outHeaders['content-length'] = length;
      else outHeaders['transfer-encoding'] = 'chunked';
    } else if (!BODYLESS_METHODS.has(method)) outHeaders['content-length'] = '0';
    const request = (url.protocol === 'https:' ? https : http).request(url, { method, headers: outHeaders, timeout: limits.timeoutMs });
    request.once('timeout', () => request.destroy(new UpstreamTimeout()));
    let answered = false;
    request.once('response', (res: IncomingMessage) => {
      answered = true;
      resolve(res);
    });
    // Closed with neither an answer nor an error: an upstream that answers 101 to a request that asked for
    // no upgrade, which Node's client drops in silence. Without this the call would hang for good.
    request.once('close', () => {
      if (!answered) reject(new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'The API call failed: the upstream connection closed without an answer.' }));
    });
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof LatchError) {
        // The body's own failures (413, 408, the browser gone). No Connection: close on the 413: the rest of
        // the upload is read and dropped, so the browser sees it rather than a reset connection (the
        // request timeout bounds how long that may take).
        reject(err);
      } else if (err instanceof UpstreamTimeout) {
        reject(new LatchError('LATCH_UPSTREAM_TIMEOUT', { detail: 'The API did not answer in time.', cause: err }));
      } else if (err.code && UNREACHABLE.has(err.code)) {
        reject(new LatchError('LATCH_UPSTREAM_UNAVAILABLE', { detail: 'The API cannot be reached.', cause: err }));
      } else {
        reject(new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'The API call failed.', cause: err }));
      }
    });
    if (body === null) request.end();
    else if (Buffer.isBuffer(body)) request.end(body);
    else {
      // Node's parser already stops a body at its Content-Length; the cap makes sure no byte past the
      // length announced upstream is ever written to the pooled connection.
      const cap = Math.min(limits.maxBodyBytes, Number(body.headers['content-length'] ?? Infinity));
      let seen = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          seen += chunk.length;
          done(seen > cap ? bodyTooLarge() : null, chunk);
        },
      });
      counter.once('error', (err) => request.destroy(err));
      body.pipe(counter).pipe(request);
      // The deadline is the upload's: it ends with the body, however long the answer then takes.
      const deadline = setTimeout(() => request.destroy(bodyTimedOut()), limits.bodyTimeoutMs);
      body.once('end', () => clearTimeout(deadline));
      // The browser went away mid-upload: so does the upstream request (a 400 nobody reads, logged at debug).
      body.once('close', () => {
        clearTimeout(deadline);
        if (!body.complete) request.destroy(bodyCutShort());
      });
      request.once('error', () => {
        clearTimeout(deadline);
        body.unpipe(counter);
        body.resume();
      });
    }
  });
}

function discard(res: IncomingMessage) {
  res.resume();
  res.destroy();
}

/**
 * An upstream answer with a Content-Length of at most this is read whole before the answer starts, and
 * answered as one buffer. Koa answers a stream body through stream.pipeline, whose AbortController and
 * the DOMException it builds when done cost ~25 µs an answer (~9% of a proxied request's CPU in a
 * profile, docs/bench.md), more than reading a small body takes. Larger answers, and those without a
 * length (chunked, server-sent events), stream as they come.
 */
export const WHOLE_ANSWER_BYTES = 64 * 1024;

/**
 * Sends the upstream answer back: its status, its safe headers, its body. Its Cache-Control as
 * proxy-cache.ts allows (never `public`: the request carried a token), else the BFF's `no-store`.
 * A small body with a length is read whole first (WHOLE_ANSWER_BYTES); any other is piped as it comes,
 * never collected: a server-sent event or a chunk reaches the page as soon as the upstream writes it
 * (there is no compression here to hold it back). An event stream is also exempt from the upstream
 * idle timeout (LATCH_API_TIMEOUT_MS: an upstream quiet between its events is not stuck), and says
 * `X-Accel-Buffering: no` to an nginx in front.
 */
async function respond(ctx: Context, res: IncomingMessage, route: ApiRoute, baseUrl: URL): Promise<void> {
  const length = Number(res.headers['content-length'] ?? NaN);
  // Before any header is copied: an upstream that fails mid-body is a coded error, not half an answer.
  const whole = length > 0 && length <= WHOLE_ANSWER_BYTES && ctx.method !== 'HEAD' ? await readAnswer(res) : undefined;
  ctx.status = res.statusCode ?? 502;
  const cacheControl = proxyCacheControl(ctx.method, ctx.status, res.headers['cache-control']);
  if (cacheControl) {
    ctx.res.setHeader('Cache-Control', cacheControl);
    ctx.vary('Cookie');
  }
  if (/^text\/event-stream\b/i.test(res.headers['content-type'] ?? '')) {
    res.socket?.setTimeout(0);
    ctx.res.setHeader('X-Accel-Buffering', 'no');
  }
  const hopByHop = connectionTokens(res.headers.connection);
  const out = ctx.res;
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined || DROPPED_RESPONSE_HEADERS.has(name) || hopByHop?.has(name) || name.startsWith('access-control-')) continue;
    if (name === 'vary') {
      for (const field of String(value).split(',')) if (field.trim()) ctx.vary(field.trim());
    } else if (name === 'location') {
      ctx.set('Location', publicLocation(String(value), route, baseUrl));
    } else {
      // Straight to node:http (Koa's set() builds arrays per call); the names and values are the
      // upstream's as node:http parsed them, and setHeader checks them again.
      out.setHeader(name, value);
    }
  }
  ctx.body = whole ?? res;
  if (res.headers['content-type'] === undefined) ctx.remove('Content-Type');
}

/** The whole upstream body (Node's parser stops it at its Content-Length); a failure before its end is 502 or 504. */
function readAnswer(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    res.once('error', (err) => {
      const timedOut = err instanceof UpstreamTimeout || err.cause instanceof UpstreamTimeout;
      reject(timedOut ? new LatchError('LATCH_UPSTREAM_TIMEOUT', { detail: 'The API did not finish its answer in time.', cause: err }) : new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'The API\'s answer was cut short.', cause: err }));
    });
    res.once('close', () => {
      if (!res.complete) reject(new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'The API\'s answer was cut short.' }));
    });
  });
}

/** A redirect within the upstream's base points back through the proxy; anything else is left alone. */
function publicLocation(location: string, route: ApiRoute, baseUrl: URL): string {
  let target: URL;
  try {
    target = new URL(location, `${route.upstream}/`);
  } catch {
    return location;
  }
  const base = new URL(route.upstream);
  const basePath = base.pathname.replace(/\/$/, '');
  if (target.origin !== base.origin || (target.pathname !== basePath && !target.pathname.startsWith(`${basePath}/`))) return location;
  return `${baseUrl.href.replace(/\/$/, '')}/api/${route.name}${target.pathname.slice(basePath.length)}${target.search}`;
}
