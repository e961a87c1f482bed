/** Shared by the proxy tests: a recording upstream on loopback, and raw (un-normalised) HTTP requests. */
import { createHash } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { Bff } from '../../../bff/app.ts';
import type { Session } from '../../../bff/session/session.ts';
import assert from 'node:assert/strict';
import { HttpClient, signIn } from '../../helpers/http.ts';
import { listen } from '../../helpers/net.ts';
import type { Stack } from '../../helpers/stack.ts';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

/** A real upstream on loopback: records every request it gets, answers with `handler` (default: a JSON echo). */
export async function startUpstream() {
  const seen: Seen[] = [];
  let handler: Handler | undefined;
  const server = await listen((req, res) => {
    const record: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.alloc(0) };
    seen.push(record);
    if (handler) return handler(req, res, record);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      record.body = Buffer.concat(chunks);
      res.writeHead(200, {
        'content-type': 'application/json',
        'set-cookie': 'upstream=1; Path=/',
        'access-control-allow-origin': '*',
        'www-authenticate': 'Basic realm="upstream"',
        'x-upstream': 'yes',
      });
      res.end(JSON.stringify({ method: req.method, url: req.url }));
    });
  });
  return {
    server,
    seen,
    setHandler(h?: Handler) {
      handler = h;
    },
    /** Forgets what it saw and answers with the echo again. */
    reset() {
      seen.length = 0;
      handler = undefined;
    },
  };
}

export interface RawResult {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  code?: string;
}

/** A request exactly as written: no URL normalisation (fetch would resolve `..` and `%2e%2e` itself). */
export function raw(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let code: string | undefined;
        try {
          code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, ...(code ? { code } : {}) });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The session cookie (name=value) for `cookieHeader`'s session with `patch` applied, sealed as the BFF
 * seals it: e.g. `{ atExp: Date.now() - 1000 }` for an expired access token without waiting for one.
 */
export async function patchedSessionCookie(app: Bff, cookieHeader: string, patch: Partial<Session>): Promise<{ cookie: string; session: Session }> {
  const read = await app.latch.sites.all[0]!.cookies.read(cookieHeader);
  if (!read) throw new Error('patchedSessionCookie: no session in the cookie header');
  const session = { ...read.session, ...patch };
  return { cookie: cookiePairs(await app.latch.sites.all[0]!.cookies.write(session)), session };
}

/** Set-Cookie values as the Cookie header a browser would send back (cleared cookies left out). */
export function cookiePairs(setCookies: string[]): string {
  return setCookies.map((c) => c.split(';')[0]!).filter((pair) => !pair.endsWith('=')).join('; ');
}

/** The session sealed in a response's Set-Cookie, or undefined. */
export async function sessionFrom(app: Bff, setCookies: string[]): Promise<Session | undefined> {
  const pairs = cookiePairs(setCookies);
  return pairs ? (await app.latch.sites.all[0]!.cookies.read(pairs))?.session : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Raw bytes on the wire: an upstream on node:net that parses what it gets itself, and raw inbound requests.

/** Raw bytes to answer with, or bytes after which the upstream closes the connection. */
export type WireReply = Buffer | string | { bytes: Buffer | string; close: true };

/** One request as the raw upstream parsed it off its connection. */
export interface WireRequest {
  /** Which TCP connection it came on (0, 1, … in accept order). */
  conn: number;
  method: string;
  target: string;
  /** Header names lower-cased, in the order sent. */
  headers: Array<[string, string]>;
  /** The framing its head declared. */
  framing: 'none' | 'length' | 'chunked';
  body: Buffer;
  /** Every byte of it as received, head and framing included. */
  raw: Buffer;
  /** False when the connection ended first, or the bytes were not a request at all (`method` is then ''). */
  complete: boolean;
}

export const header = (req: WireRequest, name: string): string | undefined => req.headers.find(([n]) => n === name)?.[1];

/**
 * An HTTP/1.1 upstream written on node:net: it splits the byte stream into requests by their own framing
 * (Content-Length, or chunked), the way any keep-alive server does, so bytes smuggled into a body show up as
 * requests of their own. Every request is answered 200 with a small JSON body naming it, keep-alive. Bytes
 * that are not a request are recorded (`complete: false`) and the connection is closed; so is the remainder
 * of a request the connection ended in the middle of.
 */
export async function startWireUpstream() {
  const requests: WireRequest[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let respond: ((req: WireRequest) => WireReply | undefined) | undefined;
  const server = net.createServer((socket) => {
    const conn = connections++;
    sockets.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buffer = Buffer.concat([buffer, data]);
      for (;;) {
        const parsed = parseRequest(buffer, conn);
        if (parsed === 'more') return;
        requests.push(parsed.request);
        buffer = buffer.subarray(parsed.used);
        if (!parsed.request.complete) {
          buffer = Buffer.alloc(0);
          socket.destroy();
          return;
        }
        const answer = respond?.(parsed.request);
        if (typeof answer === 'object' && !Buffer.isBuffer(answer)) {
          socket.end(answer.bytes);
          return;
        }
        if (answer !== undefined) socket.write(answer);
        else {
          const body = JSON.stringify({ n: requests.length - 1, method: parsed.request.method, target: parsed.request.target });
          socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${parsed.request.method === 'HEAD' ? 0 : Buffer.byteLength(body)}\r\n\r\n${parsed.request.method === 'HEAD' ? '' : body}`);
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      // A request cut off by the connection's end: what had arrived of it.
      if (buffer.length > 0) requests.push({ ...partialRequest(buffer, conn), complete: false });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get connections() {
      return connections;
    },
    /** Answers with these bytes instead of the JSON echo (undefined: the echo; `{ bytes, close }`: then closes). */
    setResponder(fn?: (req: WireRequest) => WireReply | undefined) {
      respond = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const REQUEST_LINE = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/;

function parseHead(head: string): { method: string; target: string; headers: Array<[string, string]> } | undefined {
  const [line, ...rest] = head.split('\r\n');
  const m = REQUEST_LINE.exec(line ?? '');
  if (!m) return undefined;
  const headers: Array<[string, string]> = [];
  for (const field of rest) {
    const colon = field.indexOf(':');
    if (colon <= 0) return undefined;
    headers.push([field.slice(0, colon).toLowerCase(), field.slice(colon + 1).trim()]);
  }
  return { method: m[1]!, target: m[2]!, headers };
}

function partialRequest(buffer: Buffer, conn: number): WireRequest {
  const end = buffer.indexOf('\r\n\r\n');
  const head = end < 0 ? undefined : parseHead(buffer.subarray(0, end).toString('latin1'));
  return {
    conn, method: head?.method ?? '', target: head?.target ?? '', headers: head?.headers ?? [], framing: 'none',
    body: end < 0 ? Buffer.alloc(0) : buffer.subarray(end + 4), raw: buffer, complete: false,
  };
}

/** One request off the front of `buffer`, 'more' when it is not all there yet. */
function parseRequest(buffer: Buffer, conn: number): { request: WireRequest; used: number } | 'more' {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) {
    // Not even a request line that could become valid: garbage.
    const firstLine = buffer.indexOf('\r\n');
    if (firstLine >= 0 && !REQUEST_LINE.test(buffer.subarray(0, firstLine).toString('latin1'))) {
      return { request: partialRequest(buffer, conn), used: buffer.length };
    }
    return 'more';
  }
  const head = parseHead(buffer.subarray(0, end).toString('latin1'));
  if (!head) return { request: partialRequest(buffer, conn), used: buffer.length };
  const te = head.headers.filter(([n]) => n === 'transfer-encoding').map(([, v]) => v.toLowerCase());
  const cl = head.headers.filter(([n]) => n === 'content-length').map(([, v]) => v);
  let at = end + 4;
  if (te.length > 0) {
    if (te.join(',') !== 'chunked' || cl.length > 0) return { request: partialRequest(buffer, conn), used: buffer.length };
    const chunks: Buffer[] = [];
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', at);
      if (lineEnd < 0) return 'more';
      const size = Number.parseInt(buffer.subarray(at, lineEnd).toString('latin1').split(';')[0]!, 16);
      if (!Number.isFinite(size)) return { request: partialRequest(buffer, conn), used: buffer.length };
      at = lineEnd + 2;
      if (size === 0) {
        // Trailers, then the empty line.
        for (;;) {
          const trailerEnd = buffer.indexOf('\r\n', at);
          if (trailerEnd < 0) return 'more';
          const empty = trailerEnd === at;
          at = trailerEnd + 2;
          if (empty) break;
        }
        break;
      }
      if (buffer.length < at + size + 2) return 'more';
      chunks.push(buffer.subarray(at, at + size));
      at += size + 2;
    }
    return { request: { conn, ...head, framing: 'chunked', body: Buffer.concat(chunks), raw: buffer.subarray(0, at), complete: true }, used: at };
  }
  if (cl.length > 1 || (cl.length === 1 && !/^\d+$/.test(cl[0]!))) return { request: partialRequest(buffer, conn), used: buffer.length };
  const length = cl.length === 1 ? Number(cl[0]) : 0;
  if (buffer.length < at + length) return 'more';
  const body = buffer.subarray(at, at + length);
  return { request: { conn, ...head, framing: cl.length === 1 ? 'length' : 'none', body, raw: buffer.subarray(0, at + length), complete: true }, used: at + length };
}

export interface WireAnswer {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: Buffer;
  code?: string;
  /** Every byte the server sent, interim answers (100 Continue) included. */
  raw: string;
}

/**
 * Writes `bytes` to the server as they are (no client library normalises the framing) and reads until the
 * server closes the connection; send `Connection: close`. The last answer on the connection is parsed.
 */
export function wireRequest(port: number, bytes: string | Buffer, opts: { timeoutMs?: number } = {}): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const parts: Buffer[] = [];
    socket.setTimeout(opts.timeoutMs ?? 10_000, () => socket.destroy(new Error('wireRequest: no end of the answer in time')));
    socket.on('data', (d: Buffer) => parts.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(parts);
      try {
        resolve(parseAnswer(raw));
      } catch (err) {
        reject(err);
      }
    });
    socket.on('connect', () => socket.write(bytes));
  });
}

function parseAnswer(raw: Buffer): WireAnswer {
  let at = 0;
  for (;;) {
    const end = raw.indexOf('\r\n\r\n', at);
    if (end < 0) throw new Error(`wireRequest: no complete answer: ${JSON.stringify(raw.toString('latin1').slice(0, 300))}`);
    const [line, ...fields] = raw.subarray(at, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(line ?? '')?.[1]);
    at = end + 4;
    if (status >= 100 && status < 200) continue;
    const headers: Record<string, string> = {};
    for (const field of fields) {
      const colon = field.indexOf(':');
      headers[field.slice(0, colon).toLowerCase()] = field.slice(colon + 1).trim();
    }
    let body = raw.subarray(at);
    if (headers['transfer-encoding'] === 'chunked') {
      const chunks: Buffer[] = [];
      for (let p = 0; ;) {
        const lineEnd = body.indexOf('\r\n', p);
        const size = Number.parseInt(body.subarray(p, lineEnd).toString('latin1'), 16);
        if (!(size > 0)) break;
        chunks.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(chunks);
    }
    let code: string | undefined;
    try {
      code = (JSON.parse(body.toString('utf8')) as { error?: { code?: string } }).error?.code;
    } catch {
      // not JSON
    }
    return { status, headers, body, raw: raw.toString('latin1'), ...(code ? { code } : {}) };
  }
}

/** A request head and body as bytes; `body` is sent as given (framing is the caller's: `chunked()` helps). */
export function wireBytes(method: string, target: string, headers: Record<string, string>, body: string | Buffer = ''): Buffer {
  const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]);
}

/** `parts` in chunked transfer coding, with the last chunk. */
export function chunked(...parts: Array<string | Buffer>): Buffer {
  const chunks = parts.map((p) => Buffer.from(p)).filter((p) => p.length > 0);
  return Buffer.concat([...chunks.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]), Buffer.from('0\r\n\r\n')]);
}

/** A fresh sign-in at the stack's provider: its cookie header, and the session sealed in it. */
export async function signedIn(stack: Stack): Promise<{ cookie: string; session: Session }> {
  const client = new HttpClient();
  await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, stack.user);
  const cookie = await client.jar.getCookieString(stack.bffUrl);
  const read = await stack.app.latch.sites.all[0]!.cookies.read(cookie);
  assert.ok(read);
  return { cookie, session: read.session };
}
