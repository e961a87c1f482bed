import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

/**
 * The `fetch` oauth4webapi calls for the token, userinfo and revocation requests (its `customFetch`,
 * given in outbound.ts requestOptions), on node:http instead of Node's fetch (undici). A sign-in makes
 * two such calls (token, userinfo); through undici each cost ~380 µs of the BFF's CPU against ~50 µs on
 * node:http, measured apart, and undici was the largest package in a profile of 300 sign-ins
 * (docs/bench.md, "what moved each figure"). What it keeps of fetch's behaviour, and what it adds:
 *
 * - no redirect is followed (oauth4webapi asks for `redirect: 'manual'` and treats a 3xx as an error);
 * - https verifies the server's certificate (node:https's default; nothing here turns it off);
 * - the deadline: `timeoutMs` from the start to the whole body, and the caller's `signal`, if any; a
 *   deadline missed rejects with a TimeoutError, an abort with the signal's reason;
 * - a failure to connect (refused, DNS, TLS, reset) rejects as fetch does: TypeError('fetch failed')
 *   with the cause (outbound.ts codes it 503 LATCH_UPSTREAM_UNAVAILABLE);
 * - an answer larger than MAX_ANSWER_BYTES is refused (fetch reads any size into memory);
 * - the answer is a real `Response` (status, every header as sent, the body), as oauth4webapi checks.
 *
 * Connections are kept alive (one agent per scheme, as undici pools them). Bodies: none, a string,
 * URLSearchParams or bytes; anything else (a stream) goes to Node's fetch as before.
 */
export const MAX_ANSWER_BYTES = 2 * 1024 * 1024;

/**
 * Idle connections close after 4 s (undici's default), or before the server's own `Keep-Alive: timeout`
 * hint (node:http's agent honours it): a connection the server has just closed is not reused for a
 * POST to the token endpoint, which would fail with ECONNRESET.
 */
const KEEP_ALIVE = { keepAlive: true, timeout: 4000 };
const agents = { 'http:': new http.Agent(KEEP_ALIVE), 'https:': new https.Agent(KEEP_ALIVE) };

/** Statuses whose Response has no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

class DeadlineError extends Error {
  constructor(ms: number) {
    super(`no complete answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

export function httpFetch(timeoutMs: number): typeof fetch {
  return (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const body = init.body;
    if (input instanceof Request || !(body === undefined || body === null || typeof body === 'string' || body instanceof URLSearchParams || body instanceof Uint8Array)) {
      return fetch(input, { ...init, signal: init.signal ?? AbortSignal.timeout(timeoutMs) });
    }
    const transport = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!transport) return Promise.reject(new TypeError('fetch failed', { cause: new Error(`unsupported protocol ${url.protocol}`) }));
    const payload = body === undefined || body === null ? undefined : Buffer.from(body instanceof Uint8Array ? body : String(body));
    const headers = new Headers(init.headers);
    if (body instanceof URLSearchParams && !headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    if (payload) headers.set('content-length', String(payload.length));
    const signal = init.signal ?? undefined;

    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const req = transport.request(url, { method: init.method ?? 'GET', headers: Object.fromEntries(headers), agent: agents[url.protocol as 'http:' | 'https:'] });
      let settled = false;
      const finish = (err: unknown, answer?: Response) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err === undefined) resolve(answer!);
        else {
          req.destroy();
          reject(err);
        }
      };
      const timer = setTimeout(() => finish(new DeadlineError(timeoutMs)), timeoutMs);
      const onAbort = () => finish(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.once('error', (err) => finish(new TypeError('fetch failed', { cause: err })));
      // Closed with neither an answer nor an error (a 101 to a request that asked for no upgrade, which
      // Node's client drops in silence): a failure now, not at the deadline.
      let answered = false;
      req.once('close', () => {
        if (!answered) finish(new TypeError('fetch failed', { cause: new Error('the connection closed without an answer') }));
      });
      req.once('response', (res: IncomingMessage) => {
        answered = true;
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_ANSWER_BYTES) finish(new TypeError('fetch failed', { cause: new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`) }));
          else chunks.push(chunk);
        });
        res.once('error', (err) => finish(new TypeError('fetch failed', { cause: err })));
        res.once('end', () => {
          const status = res.statusCode ?? 0;
          const out = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          try {
            finish(undefined, new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: out }));
          } catch (err) {
            finish(new TypeError('fetch failed', { cause: err }));
          }
        });
      });
      req.end(payload);
    });
  };
}
