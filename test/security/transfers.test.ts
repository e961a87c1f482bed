/**
 * Bodies that never finish, on raw sockets: a client that sends part of a body and goes away is not a
 * server fault (no 500, nothing logged above debug; issue 13, item 8), and a client that trickles its
 * body is cut off after LATCH_REQUEST_TIMEOUT_MS by the body readers themselves, whatever server the app
 * runs in (item 9; bff/server.ts's own Node timeouts are tested in test/deploy/operations.test.ts).
 *
 * Every route that reads a body is covered: /backchannel-logout and /handoff (unauthenticated), the
 * password sign-in, and the API proxy's three readers (a small body read whole, a large one streamed, a
 * chunked one streamed).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { HttpClient, signIn } from '../helpers/http.ts';
import { listen, trickle, type Listening } from '../helpers/net.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { wireBytes, wireRequest } from '../bff/routes/proxy-support.ts';

const REQUEST_TIMEOUT_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface LogLine {
  level: number;
  status?: number;
  code?: string;
  path?: string;
  msg?: string;
}

/** A body-reading route, and the head that gets a request through to its reader. */
interface Reader {
  name: string;
  path: string;
  headers: () => Record<string, string>;
  /** A complete body would be this long; less is sent. */
  length: number;
  chunked?: boolean;
}

describe('bodies that never finish', () => {
  let stack: Stack;
  let upstream: Listening;
  let cookie: string;
  const upstreamSeen: Array<{ url: string; ended: boolean; closed: boolean }> = [];

  before(async () => {
    // An upstream that reads what it gets and notes whether the request ended or was dropped.
    upstream = await listen((req, res) => {
      const seen = { url: req.url ?? '', ended: false, closed: false };
      upstreamSeen.push(seen);
      req.on('data', () => {});
      req.on('end', () => {
        seen.ended = true;
        res.end('{}');
      });
      req.on('close', () => (seen.closed = true));
    });
    stack = await startStack({
      env: {
        LATCH_HANDOFF: 'true',
        LATCH_ENABLE_PASSWORD_GRANT: 'true',
        LATCH_API_ROUTES: `up=${upstream.url}`,
        LATCH_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        LATCH_MAX_BODY_BYTES: String(4 * 1024 * 1024),
      },
    });
    const client = new HttpClient();
    await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, stack.user);
    cookie = await client.jar.getCookieString(stack.bffUrl);
  });
  after(async () => {
    await stack?.close();
    await upstream?.close();
  });
  beforeEach(() => {
    upstreamSeen.length = 0;
  });

  const host = () => `127.0.0.1:${stack.bff.port}`;
  const page = () => ({ host: host(), origin: stack.siteOrigin, 'latch-csrf': '1' });
  const readers: Reader[] = [
    { name: 'POST /backchannel-logout', path: '/backchannel-logout', headers: () => ({ host: host(), 'content-type': 'application/x-www-form-urlencoded' }), length: 2000 },
    { name: 'POST /handoff', path: '/handoff', headers: () => ({ ...page(), 'content-type': 'application/json' }), length: 900 },
    { name: 'POST /login/password', path: '/login/password', headers: () => ({ ...page(), 'content-type': 'application/json' }), length: 3000 },
    { name: 'the proxy, a small body read whole', path: '/api/up/small', headers: () => ({ ...page(), cookie, 'content-type': 'application/octet-stream' }), length: 32 * 1024 },
    { name: 'the proxy, a large body streamed', path: '/api/up/large', headers: () => ({ ...page(), cookie, 'content-type': 'application/octet-stream' }), length: 2 * 1024 * 1024 },
    { name: 'the proxy, a chunked body streamed', path: '/api/up/chunked', headers: () => ({ ...page(), cookie, 'content-type': 'application/octet-stream' }), length: 2 * 1024 * 1024, chunked: true },
  ];

  const head = (reader: Reader) =>
    wireBytes('POST', reader.path, { ...reader.headers(), ...(reader.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(reader.length) }) });
  /** `n` bytes of the body, in the request's own framing (one chunk when chunked). */
  const part = (reader: Reader, n: number) => {
    const bytes = Buffer.alloc(n, 'a');
    return reader.chunked ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]) : bytes;
  };

  const linesFor = (path: string, from: number): LogLine[] =>
    stack.logs.slice(from).map((l) => JSON.parse(l) as LogLine).filter((l) => l.path === path);

  /** Waits (at most 5 s) until the BFF has logged the request's outcome. */
  async function outcome(path: string, from: number): Promise<LogLine[]> {
    for (const until = Date.now() + 5000; Date.now() < until; await sleep(20)) {
      const lines = linesFor(path, from);
      if (lines.length > 0) return lines;
    }
    return linesFor(path, from);
  }

  describe('a client that sends part of its body and goes away (item 8)', () => {
    for (const reader of readers) {
      it(`${reader.name}: no 500, nothing logged above debug, and the upstream request (if any) dropped`, async () => {
        const from = stack.logs.length;
        const socket = net.connect({ host: '127.0.0.1', port: stack.bff.port });
        await new Promise<void>((resolve) => socket.once('connect', resolve));
        socket.on('error', () => {});
        socket.write(head(reader));
        // A fair share of the body, so that the reader is mid-body (for the large ones, streaming upstream).
        socket.write(part(reader, Math.min(reader.length - 1, 100 * 1024)));
        await sleep(150);
        socket.destroy();

        const lines = await outcome(reader.path, from);
        assert.ok(lines.length > 0, `the BFF logged the request's end: ${stack.logs.slice(from).join('')}`);
        const everything = stack.logs.slice(from).map((l) => JSON.parse(l) as LogLine);
        for (const line of everything) {
          assert.ok(line.level < 40, `logged at level ${line.level}: ${JSON.stringify(line)}`);
          assert.notEqual(line.status, 500, JSON.stringify(line));
        }
        for (const line of lines) assert.equal(line.level, 20, `at debug: ${JSON.stringify(line)}`);
        if (reader.path.startsWith('/api/') && upstreamSeen.length > 0) {
          for (let i = 0; i < 100 && !upstreamSeen.every((s) => s.closed); i++) await sleep(20);
          assert.deepEqual(upstreamSeen.map((s) => [s.ended, s.closed]), [[false, true]], 'the upstream request was dropped, not ended as if complete');
        }
      });
    }
  });

  describe('a client that trickles its body (item 9: the readers\' own deadline)', () => {
    for (const reader of readers) {
      it(`${reader.name}: cut off after LATCH_REQUEST_TIMEOUT_MS with 408 (or a closed connection), not held`, async () => {
        const from = stack.logs.length;
        // One byte every 100 ms: never idle long enough for an idle timeout, never done.
        const slow = await trickle(stack.bff.port, head(reader), () => part(reader, 1));
        try {
          // This test server is a plain node:http server with Node's defaults (requestTimeout 300 s): only
          // the readers' own deadline can end this within the bound.
          const bound = REQUEST_TIMEOUT_MS + 2000;
          const elapsed = await Promise.race([slow.closed, sleep(bound).then(() => undefined)]);
          assert.ok(elapsed !== undefined, `the connection was still open after ${bound} ms`);
          assert.ok(elapsed >= REQUEST_TIMEOUT_MS - 50, `not before the timeout: ${Math.round(elapsed)} ms`);
          assert.match(slow.answer(), /^HTTP\/1\.1 408 /, `answered 408: ${JSON.stringify(slow.answer().slice(0, 200))}`);
          assert.match(slow.answer(), /"code":"LATCH_REQUEST_TIMEOUT"/);
          for (const line of stack.logs.slice(from).map((l) => JSON.parse(l) as LogLine)) {
            assert.ok(line.level < 50 && line.status !== 500, JSON.stringify(line));
          }
        } finally {
          slow.stop();
        }
      });
    }

    it('a body that arrives in time is read as usual (the deadline does not cut a steady sender)', async () => {
      // 10 KiB in 20 pieces over about half the timeout: well within it.
      const socket = net.connect({ host: '127.0.0.1', port: stack.bff.port });
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(wireBytes('POST', '/api/up/steady', { ...page(), cookie, connection: 'close', 'content-length': String(20 * 512) }));
      for (let i = 0; i < 20; i++) {
        socket.write(Buffer.alloc(512, 'b'));
        await sleep(REQUEST_TIMEOUT_MS / 40);
      }
      await closed;
      assert.match(answer, /^HTTP\/1\.1 200 /, answer.slice(0, 200));
      assert.deepEqual(upstreamSeen.map((s) => [s.url, s.ended]), [['/steady', true]]);
    });
  });

  it('the deadline is the upload\'s only: a download that outlasts it after a streamed upload goes on', async () => {
    const download = await listen((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        let sent = 0;
        const timer = setInterval(() => {
          res.write('x'.repeat(1000));
          if (++sent === 20) {
            clearInterval(timer);
            res.end();
          }
        }, (2 * REQUEST_TIMEOUT_MS) / 20);
      });
    });
    const slowStack = await startStack({ env: { LATCH_API_ROUTES: `down=${download.url}`, LATCH_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) } });
    try {
      const client = new HttpClient();
      await signIn(client, `${slowStack.bffUrl}/login?returnTo=${encodeURIComponent(`${slowStack.siteOrigin}/`)}`, slowStack.user);
      const headers = { host: `127.0.0.1:${slowStack.bff.port}`, origin: slowStack.siteOrigin, 'latch-csrf': '1', cookie: await client.jar.getCookieString(slowStack.bffUrl), connection: 'close' };
      const framings: Array<Record<string, string>> = [{ 'content-length': String(100 * 1024) }, { 'transfer-encoding': 'chunked' }];
      for (const framing of framings) {
        const body = framing['transfer-encoding'] ? Buffer.from(`${(100 * 1024).toString(16)}\r\n${'u'.repeat(100 * 1024)}\r\n0\r\n\r\n`) : Buffer.alloc(100 * 1024, 'u');
        const res = await wireRequest(slowStack.bff.port, wireBytes('POST', '/api/down/file', { ...headers, ...framing }, body), { timeoutMs: 10_000 });
        assert.equal(res.status, 200, JSON.stringify(framing));
        assert.equal(res.body.length, 20 * 1000, `the whole download, over twice the request timeout (${JSON.stringify(framing)})`);
      }
    } finally {
      await slowStack.close();
      await download.close();
    }
  });

  it('the BFF still answers afterwards', async () => {
    const res = await wireRequest(stack.bff.port, wireBytes('GET', '/healthz', { host: host(), connection: 'close' }));
    assert.equal(res.status, 200);
  });
});
