/**
 * WebSockets through the proxy: an upgrade on `/api/<name>/…` goes to that API's upstream with the
 * user's access token attached, then the two connections are joined byte for byte. Node's server hands
 * upgrades to its 'upgrade' event, not to the Koa app, so bff/server.ts calls `upgradeHandler(app)`;
 * there is no WebSocket on Lambda. No new dependency: `http.request` with `Upgrade: websocket`, and the
 * sockets piped.
 *
 * Before anything goes upstream, in order (each refusal a coded JSON answer on the raw socket, then the
 * connection closed):
 *
 * 1. the site by Host (421), a path mount removed, the API route and path as the HTTP proxy resolves
 *    them (routes/proxy.ts `resolveTarget`: 404, 400); user-token routes only (a service route: 404);
 * 2. **Origin**, mandatory: one of the site's allowed origins, exactly (403 LATCH_ORIGIN_NOT_ALLOWED).
 *    A browser sends no custom header with a WebSocket, so the CSRF header cannot guard it; a browser
 *    always sends Origin, which a page cannot forge, and a client that is not a browser has no
 *    cookie of the user's to ride on;
 * 3. the session (401 LATCH_UNAUTHENTICATED; 503 when the store cannot say), its token refreshed when
 *    due (the new cookie rides on the 101);
 * 4. in the hand-off mode (LATCH_HANDOFF), a one-time ticket from `POST /ws-ticket`
 *    (`?latch_ticket=`, session/ws-ticket.ts): 403 LATCH_CSRF without a good one.
 *
 * The upstream gets the browser's WebSocket headers (key, version, protocols, extensions), a few safe
 * ones (as the HTTP proxy's), and `Authorization: Bearer <token>`; never Cookie, Origin or the ticket.
 * Its 101 goes back with only the WebSocket headers; any other answer goes back as it is (body up to
 * 64 KB) and the connection closes.
 *
 * The joined connection is closed when the session ends (the session bus: logout, back-channel logout,
 * revoked, everywhere, on any instance), at the session's absolute end, and at the access token's
 * expiry when the session has no refresh token. With one, the socket outlives the token: the upstream
 * checked the token at the handshake, and a refresh during the socket (by the page's other calls)
 * needs no reconnection. And at the server's graceful shutdown (`closeAll`).
 */
import http, { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Bff } from '../app.ts';
import { ERRORS, LatchError } from '../errors.ts';
import type { LatchErrorCode } from '../contract.ts';
import { RequestSession } from '../session/request-session.ts';
import { redeemWsTicket } from '../session/ws-ticket.ts';
import type { Site } from '../sites.ts';
import { resolveTarget } from './proxy.ts';

/** The query parameter that carries a ticket (taken off before the upstream sees the URL). */
export const TICKET_PARAM = 'latch_ticket';
/** An upstream's refusal of the upgrade is passed back up to this size. */
const MAX_REFUSAL_BYTES = 64 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The browser's headers an upstream WebSocket needs, and the safe few the HTTP proxy passes too. */
const FORWARDED = ['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions', 'user-agent', 'accept-language', 'traceparent', 'tracestate', 'x-request-id'];
/** The upstream's 101 headers passed back. */
const RETURNED = new Set(['upgrade', 'connection', 'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions']);

export interface UpgradeHandler {
  (req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Joined connections open now. */
  readonly open: number;
  /** Closes every joined connection (graceful shutdown). */
  closeAll(): void;
}

/** The 'upgrade' listener for bff/server.ts's HTTP server, over `app`'s configuration, sessions and bus. */
export function upgradeHandler(app: Bff): UpgradeHandler {
  const deps = app.latch;
  const routes = new Map(deps.config.apiRoutes.map((r) => [r.name, r]));
  const joined = new Set<() => void>();

  const handle = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    upgrade(req, socket, head).catch((err: unknown) => {
      const error = err instanceof LatchError ? err : new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'The WebSocket could not be joined.', cause: err });
      deps.logger[error.status >= 500 ? 'warn' : 'debug']({ event: 'websocket', code: error.code, detail: error.detail }, 'WebSocket upgrade refused');
      refuse(socket, error.code, error.headers);
    });
  };

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const site = siteFor(deps.sites, req.headers.host);
    if (!site) throw new LatchError('LATCH_UNKNOWN_SITE');
    let target = req.url ?? '';
    if (site.basePath && (target === site.basePath || target.startsWith(`${site.basePath}/`))) target = target.slice(site.basePath.length) || '/';
    if (!/^\/api\//.test(target) || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket' || req.method !== 'GET') {
      throw new LatchError('LATCH_NOT_FOUND', { detail: 'Only WebSockets on /api/<name>/… are proxied.' });
    }
    const { route, url } = resolveTarget(target, routes);
    if (route.token === 'service') throw new LatchError('LATCH_NOT_FOUND', { detail: 'WebSockets are proxied on user-token routes only.' });
    const ticket = url.searchParams.get(TICKET_PARAM);
    url.searchParams.delete(TICKET_PARAM);

    const origin = req.headers.origin;
    if (!origin || !site.allowed.has(origin)) throw new LatchError('LATCH_ORIGIN_NOT_ALLOWED', { detail: 'A WebSocket from an origin the site does not allow.' });

    const cookieHeader = req.headers.cookie;
    const cookies = site.cookiesFor(cookieHeader);
    const read = await cookies.read(cookieHeader);
    if (!read) throw new LatchError('LATCH_UNAUTHENTICATED');
    if (deps.config.handoff && !(await redeemWsTicket(deps.sessions, ticket, read.session.sid))) {
      throw new LatchError('LATCH_CSRF', { detail: 'A WebSocket without a good one-time ticket (POST /ws-ticket) in the hand-off mode.' });
    }
    const setCookie: string[] = [];
    const live = new RequestSession(read, cookies, deps.refresher, cookieHeader, (values) => setCookie.push(...values), deps.live && ((s, refreshed) => deps.live!.written(s, refreshed)));
    const token = (await live.fresh()).at;
    await live.save();
    const session = live.session;

    const headers: OutgoingHttpHeaders = { connection: 'Upgrade', upgrade: 'websocket', authorization: `Bearer ${token}` };
    for (const name of FORWARDED) if (req.headers[name] !== undefined) headers[name] = req.headers[name];
    const upstreamUrl = new URL(url);
    if (upstreamUrl.protocol === 'ws:') upstreamUrl.protocol = 'http:';
    if (upstreamUrl.protocol === 'wss:') upstreamUrl.protocol = 'https:';
    const request = (upstreamUrl.protocol === 'https:' ? https : http).request(upstreamUrl, { method: 'GET', headers, timeout: deps.config.apiTimeoutMs, agent: false });

    await new Promise<void>((resolve, reject) => {
      // The browser gone while the upstream answers: the upstream request goes too.
      const gone = () => request.destroy();
      socket.once('close', gone);
      request.once('timeout', () => request.destroy(new LatchError('LATCH_UPSTREAM_TIMEOUT', { detail: 'The API did not answer the WebSocket upgrade in time.' })));
      request.once('error', (err: NodeJS.ErrnoException) => {
        socket.off('close', gone);
        reject(err instanceof LatchError ? err : new LatchError('LATCH_UPSTREAM_UNAVAILABLE', { detail: 'The API cannot be reached for a WebSocket.', cause: err }));
      });
      request.once('response', (res) => {
        socket.off('close', gone);
        passRefusal(res, socket);
        resolve();
      });
      request.once('upgrade', (res, upstream, upstreamHead) => {
        socket.off('close', gone);
        upstream.on('error', () => {});
        if (socket.destroyed) {
          upstream.destroy();
          return resolve();
        }
        const lines = [`HTTP/1.1 101 ${STATUS_CODES[101]}`];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          if (RETURNED.has(res.rawHeaders[i]!.toLowerCase())) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
        }
        for (const value of setCookie) lines.push(`Set-Cookie: ${value}`);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (upstreamHead.length > 0) socket.write(upstreamHead);
        if (head.length > 0) upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
        join(session, socket, upstream);
        resolve();
      });
      request.end();
    });
  }

  /** Keeps the joined pair until either side ends, the session ends, or its time is up. */
  function join(session: RequestSession['session'], socket: Duplex, upstream: Duplex): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let unwatch: (() => void) | undefined;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      joined.delete(close);
      clearTimeout(timer);
      unwatch?.();
      socket.destroy();
      upstream.destroy();
    };
    joined.add(close);
    socket.once('close', close);
    upstream.once('close', close);
    // The token's end when nothing can renew it, else the session's absolute end.
    const end = session.rt ? session.exp : Math.min(session.exp, session.atExp);
    timer = setTimeout(close, Math.min(MAX_TIMER_MS, Math.max(0, end - Date.now())));
    timer.unref();
    deps.live?.watch(session, { onEnded: close }).then(
      (off) => (closed ? off() : (unwatch = off)),
      () => undefined,
    );
  }

  const handler = handle as UpgradeHandler;
  Object.defineProperty(handler, 'open', { get: () => joined.size });
  Object.defineProperty(handler, 'closeAll', { value: () => [...joined].forEach((close) => close()) });
  return handler;
}

function siteFor(sites: Bff['latch']['sites'], host: string | undefined): Site | undefined {
  if (sites.single) return sites.single;
  const h = (host ?? '').toLowerCase();
  return sites.byHost.get(h) ?? sites.byHost.get(h.replace(/:(443|80)$/, ''));
}

/** A coded JSON refusal on the raw socket, then the connection closed. */
function refuse(socket: Duplex, code: LatchErrorCode, headers: Record<string, string> = {}): void {
  if (socket.destroyed || !socket.writable) return void socket.destroy();
  const { status, message } = ERRORS[code];
  const body = JSON.stringify({ error: { code, message } });
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n${extra}\r\n${body}`);
}

/** The upstream refused the upgrade: its status and (bounded) body go back, then the connection closes. */
function passRefusal(res: IncomingMessage, socket: Duplex): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_REFUSAL_BYTES) chunks.push(chunk);
    else res.destroy();
  });
  let sent = false;
  const done = () => {
    if (sent) return;
    sent = true;
    const body = Buffer.concat(chunks);
    const type = res.headers['content-type'] ? `Content-Type: ${res.headers['content-type']}\r\n` : '';
    const status = res.statusCode ?? 502;
    if (!socket.destroyed) socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${type}Content-Length: ${body.length}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n`), body]));
  };
  res.once('end', done);
  res.once('close', done);
}
