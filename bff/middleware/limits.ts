import type { Context } from 'koa';
import type { ServerOptions } from 'node:http';
import { ClientTransferError, LatchError } from '../errors.ts';

/**
 * Size limits, answered with coded errors instead of whatever a parser does
 * with too much input.
 *
 * Headers: Node's HTTP server refuses a request head above its
 * `maxHeaderSize` (16 KiB by default) with a bare 431 before any middleware
 * runs. bff/server.ts raises that ceiling (see `serverOptions()`), so
 * checkHeaderSize() sees oversized heads first and answers 431
 * LATCH_HEADERS_TOO_LARGE with the usual JSON body, CORS and no-store
 * headers. Behind other servers (Lambda, tests on a default http.Server)
 * Node's bare 431 still protects the process.
 */

export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export const headersTooLarge = () => new LatchError('LATCH_HEADERS_TOO_LARGE');

export const bodyTooLarge = () => new LatchError('LATCH_BODY_TOO_LARGE');

/** The client went away before its body was all there (400 if it still listens; logged at debug). */
export const bodyCutShort = (cause?: unknown) =>
  new ClientTransferError('LATCH_BAD_REQUEST', { detail: 'The request body was cut short.', cause });

/** The body did not arrive within LATCH_REQUEST_TIMEOUT_MS: 408, and the connection is not kept. */
export const bodyTimedOut = () =>
  new ClientTransferError('LATCH_REQUEST_TIMEOUT', { headers: { Connection: 'close' } });

/** Bytes of the request head as sent: each header line plus the request line. */
export function headerBytes(ctx: Context): number {
  const raw = ctx.req.rawHeaders;
  let total = ctx.method.length + ctx.req.url!.length + 11;
  for (let i = 0; i < raw.length; i += 2) total += raw[i]!.length + raw[i + 1]!.length + 4;
  return total;
}

/**
 * Throws 431 LATCH_HEADERS_TOO_LARGE when the request head is larger than `maxBytes`. The answer
 * carries `clear(cookieHeader)`'s Set-Cookie values: the app clears every sign-in transaction cookie
 * the request carries, the one part of a Cookie header that a page on another site can grow (each
 * /login it opens in a popup adds one). So a browser refused once is let through the next time, and no
 * page can lock a user out (issue 13).
 */
export function checkHeaderSize(ctx: Context, maxBytes = DEFAULT_MAX_HEADER_BYTES, clear?: (cookieHeader: string) => string[]): void {
  if (headerBytes(ctx) > maxBytes) {
    ctx.set('Connection', 'close');
    const cleared = clear?.(ctx.get('Cookie')) ?? [];
    if (cleared.length > 0) ctx.append('Set-Cookie', cleared);
    throw headersTooLarge();
  }
}

/**
 * Throws 413 LATCH_BODY_TOO_LARGE when Content-Length announces more than `maxBytes`. Bodies without
 * a length (chunked) are bounded where they are read: readBody() here, or the route that streams them.
 */
export function checkBodySize(ctx: Context, maxBytes = DEFAULT_MAX_BODY_BYTES): void {
  const length = ctx.req.headers['content-length'];
  if (length && !(Number(length) <= maxBytes)) {
    ctx.set('Connection', 'close');
    throw bodyTooLarge();
  }
}

/**
 * Reads the whole request body, refusing more than `maxBytes` (413) as soon as it is exceeded, and a body
 * still incomplete after `timeoutMs` (408, LATCH_REQUEST_TIMEOUT_MS: a slow sender holds no connection
 * longer, whatever server the app runs in). A client that goes away mid-body is a 400 logged at debug,
 * not a server fault. Refusals close the connection: the rest of the body is never read.
 */
export function readBody(ctx: Context, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  checkBodySize(ctx, maxBytes);
  const req = ctx.req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (err?: LatchError) => {
      clearTimeout(deadline);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onError);
      if (!err) return resolve(Buffer.concat(chunks, size));
      ctx.set('Connection', 'close');
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) settle(bodyTooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => settle();
    // 'close' before 'end': the connection went (an 'error' comes first only when someone listens for it).
    const onClose = () => settle(bodyCutShort());
    const onError = (err: Error) => settle(bodyCutShort(err));
    const deadline = setTimeout(() => settle(bodyTimedOut()), timeoutMs);
    // Already ended (no body, and a server that ends such requests at once): nothing to wait for.
    if (req.readableEnded) return settle();
    if (req.destroyed) return settle(bodyCutShort());
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.once('error', onError);
  });
}

/**
 * Options for the node:http server in front of the app (bff/server.ts).
 *
 * Node's header ceiling is set above LATCH_MAX_HEADER_BYTES, so oversized heads up to twice the limit
 * reach headerLimit() and get the coded 431; only beyond that does Node answer its bare 431 (and close
 * the connection) by itself.
 *
 * Timeouts: `requestTimeout` (LATCH_REQUEST_TIMEOUT_MS) bounds the time from a request's first byte to
 * its last, body included; Node's default is 300 s, long enough for a few hundred slow senders to hold as
 * many connections for five minutes. `headersTimeout` must not be larger: Node refuses that in these
 * options, and when the two are set as properties it silently swaps them (node_http_parser.cc,
 * ConnectionsList::Expired), so the request got the longer of the two. Node looks for expired
 * connections only every `connectionsCheckingInterval` (30 s by default, which alone would let a 30 s
 * timeout run to 60 s): a tenth of the timeout here, at most 1 s, so the deadline holds within 10 %.
 * The scan visits only connections with a request in progress.
 */
export function serverOptions(config: { maxHeaderBytes: number; requestTimeoutMs: number }): ServerOptions {
  const requestTimeout = config.requestTimeoutMs;
  return {
    maxHeaderSize: Math.max(2 * config.maxHeaderBytes, config.maxHeaderBytes + 16 * 1024),
    requestTimeout,
    // Node's own rule for its default: 60 s, or the request timeout when that is shorter.
    headersTimeout: Math.min(60_000, requestTimeout),
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(requestTimeout / 10))),
  };
}
