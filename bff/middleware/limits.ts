import type { Context } from 'koa';
import { LatchError } from '../errors.ts';

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

export const headersTooLarge = () =>
  new LatchError('LATCH_HEADERS_TOO_LARGE', 431, 'The request headers are too large. Clearing this site\'s cookies may help.');

export const bodyTooLarge = () => new LatchError('LATCH_BODY_TOO_LARGE', 413, 'The request body is too large.');

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

/** Reads the whole request body, refusing more than `maxBytes` (413) as soon as it is exceeded. */
export async function readBody(ctx: Context, maxBytes: number): Promise<Buffer> {
  checkBodySize(ctx, maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) {
      ctx.set('Connection', 'close');
      throw bodyTooLarge();
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * Options for the node:http server in front of the app: Node's own header
 * ceiling is set above LATCH_MAX_HEADER_BYTES, so oversized heads up to twice
 * the limit reach headerLimit() and get the coded 431; only beyond that does
 * Node answer its bare 431 (and close the connection) by itself.
 */
export function serverOptions(config: { maxHeaderBytes: number }): { maxHeaderSize: number } {
  return { maxHeaderSize: Math.max(2 * config.maxHeaderBytes, config.maxHeaderBytes + 16 * 1024) };
}
