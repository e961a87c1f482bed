/**
 * Requests a Koa app answers in memory, as Koa's own tests drive `app.callback()`: no port, no kernel
 * socket, nothing to close. Each request is a connection of its own over an in-memory socket pair
 * (`stream.duplexPair`): node:http's server (never listening) reads it with its own parser, limits
 * included, and the app answers through a real ServerResponse; node:http's client reads the answer.
 * The bytes are HTTP/1.1 both ways, as on the wire.
 *
 * `fetch()` answers a web `Response`, so a test reads it as it reads fetch's, and `HttpClient`
 * (helpers/http.ts) takes it for its cookie jar. Unlike fetch, it adds nothing to a request but Host
 * (from the URL) and Content-Length (from the body): no Accept, no User-Agent, no Sec-Fetch-Mode. It
 * never follows a redirect. The connection comes from `remoteAddress` (127.0.0.1 unless told), which
 * is `ctx.ip` without LATCH_TRUST_PROXY.
 *
 * Where a real server is the point (a sign-in at a real provider, refresh, Redis, browsers, the
 * proxy's upstream, a client that trickles or goes away), tests use real sockets (helpers/net.ts).
 */
import http, { type RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import { duplexPair } from 'node:stream';

/** fetch's signature; a body is a string, bytes or URLSearchParams (others throw), and `redirect` is always manual. */
export type InMemoryFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface InMemory {
  /** The origin a path is resolved against (its host is the Host header): `http://127.0.0.1` unless told. */
  url: string;
  fetch: InMemoryFetch;
}

export interface InMemoryOptions {
  /** The origin a path is resolved against. */
  url?: string;
  /** The client's address, as the server sees it (`req.socket.remoteAddress`). */
  remoteAddress?: string;
  /** node:http's server options (e.g. `maxHeaderSize`). */
  server?: http.ServerOptions;
}

/** Statuses whose answers have no body (a web Response refuses one). */
const NO_BODY = new Set([101, 103, 204, 205, 304]);

/** `app`'s answers in memory: `app` is a Koa app (its `callback()`) or a plain `(req, res)` handler. */
export function inMemory(app: { callback(): RequestListener } | RequestListener, options: InMemoryOptions = {}): InMemory {
  const server = http.createServer(options.server ?? {}, typeof app === 'function' ? app : app.callback());
  const base = options.url ?? 'http://127.0.0.1';
  const remoteAddress = options.remoteAddress ?? '127.0.0.1';

  const fetch: InMemoryFetch = (input, init = {}) => {
    const url = new URL(input, base);
    const headers = new Headers(init.headers);
    if (!headers.has('host')) headers.set('host', url.host);
    let body: Uint8Array | string | undefined;
    if (init.body instanceof URLSearchParams) {
      body = init.body.toString();
      if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    } else if (typeof init.body === 'string' || init.body instanceof Uint8Array) {
      body = init.body;
    } else if (init.body != null) {
      throw new TypeError('inMemory: a body is a string, bytes or URLSearchParams');
    }
    if (body !== undefined && !headers.has('content-length') && !headers.has('transfer-encoding')) {
      headers.set('content-length', String(Buffer.byteLength(body)));
    }

    const [clientSide, serverSide] = duplexPair();
    // What a net.Socket would tell the server about its peer (ctx.ip, the rate limit's key).
    Object.defineProperties(serverSide, {
      remoteAddress: { value: remoteAddress },
      remotePort: { value: 0 },
      remoteFamily: { value: remoteAddress.includes(':') ? 'IPv6' : 'IPv4' },
    });
    // A pair's sides do not see each other destroyed, where a TCP peer sees the connection end: the
    // server closes its side after some answers (Node's 431 for an oversized head, Connection: close
    // without a length), which the client must read as the end of the answer.
    serverSide.once('close', () => clientSide.push(null));
    clientSide.once('close', () => serverSide.destroy());
    server.emit('connection', serverSide);

    return new Promise<Response>((resolve, reject) => {
      const req = http.request(
        {
          createConnection: () => clientSide as unknown as Socket,
          method: init.method ?? 'GET',
          path: `${url.pathname}${url.search}`,
          headers: Object.fromEntries(headers),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          const end = () => {
            const answer = new Headers();
            for (let i = 0; i < res.rawHeaders.length; i += 2) answer.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
            const status = res.statusCode ?? 0;
            resolve(new Response(NO_BODY.has(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: answer }));
            clientSide.destroy();
          };
          // An answer whose body ends with the connection (no length, not chunked: Node's 431): on
          // Node 24 the pair hands the server's destroy to the client side as a reset, where Node 20
          // and TCP give an end; either way the connection's end is the answer's.
          const endsWithConnection = res.headers['content-length'] === undefined && res.headers['transfer-encoding'] === undefined;
          res.once('error', (err: NodeJS.ErrnoException) => (endsWithConnection && err.code === 'ECONNRESET' ? end() : reject(err)));
          res.once('end', end);
        },
      );
      req.once('error', reject);
      req.end(body);
    });
  };
  return { url: base, fetch };
}

