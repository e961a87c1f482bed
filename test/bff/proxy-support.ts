/** Shared by the proxy tests: a recording upstream on loopback, and raw (un-normalised) HTTP requests. */
import { createHash } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Bff } from '../../bff/app.ts';
import type { Session } from '../../bff/session/session.ts';
import { listen } from '../helpers/net.ts';

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
  const read = await app.latch.sessions.read(cookieHeader);
  if (!read) throw new Error('patchedSessionCookie: no session in the cookie header');
  const session = { ...read.session, ...patch };
  return { cookie: cookiePairs(await app.latch.sessions.write(session)), session };
}

/** Set-Cookie values as the Cookie header a browser would send back (cleared cookies left out). */
export function cookiePairs(setCookies: string[]): string {
  return setCookies.map((c) => c.split(';')[0]!).filter((pair) => !pair.endsWith('=')).join('; ');
}

/** The session sealed in a response's Set-Cookie, or undefined. */
export async function sessionFrom(app: Bff, setCookies: string[]): Promise<Session | undefined> {
  const pairs = cookiePairs(setCookies);
  return pairs ? (await app.latch.sessions.read(pairs))?.session : undefined;
}
