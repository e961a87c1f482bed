import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import type { ApiRoute } from '../../../bff/config.ts';
import { resolveTarget } from '../../../bff/routes/proxy.ts';
import { HttpClient, signIn } from '../../helpers/http.ts';
import { freePort, listen, type Listening } from '../../helpers/net.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';
import { raw, sha256, startUpstream, type RawResult } from './proxy-support.ts';

const RESOURCE = 'https://api.latch.test';


describe('the /api proxy', () => {
  let stack: Stack;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let silent: Listening;
  let client: HttpClient;
  let cookie: string;
  let headers: Record<string, string>;

  before(async () => {
    upstream = await startUpstream();
    // Accepts connections, never answers.
    silent = await listen(() => {});
    const refused = await freePort();
    stack = await startStack({
      provider: { jwtAccessTokens: { resource: RESOURCE, scopes: ['orders:read'] } },
      env: {
        LATCH_API_ROUTES: `echo=${upstream.server.url}/base,slow=${silent.url},down=http://127.0.0.1:${refused}`,
        LATCH_API_ROUTE_ECHO_SCOPE: 'orders:read',
        LATCH_API_TIMEOUT_MS: '400',
        LATCH_MAX_BODY_BYTES: String(32 * 1024 * 1024),
      },
    });
    client = new HttpClient();
    await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, stack.user);
    cookie = await client.jar.getCookieString(stack.bffUrl);
    headers = { origin: stack.siteOrigin, 'latch-csrf': '1', cookie };
  });
  after(async () => {
    await stack.close();
    await upstream.server.close();
    await silent.close();
  });
  beforeEach(() => upstream.reset());

  describe('forwarding', () => {
    it('forwards method, path, query and body to the upstream with the user access token as Bearer', async () => {
      const res = await fetch(`${stack.bffUrl}/api/echo/orders/123?a=1&b=%20x&c=%2F`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ qty: 2 }),
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { method: 'POST', url: '/base/orders/123?a=1&b=%20x&c=%2F' });
      const [got] = upstream.seen;
      assert.ok(got);
      assert.equal(got.body.toString(), '{"qty":2}');
      assert.equal(got.headers['content-type'], 'application/json');
      const bearer = /^Bearer (.+)$/.exec(got.headers.authorization ?? '')?.[1];
      assert.ok(bearer, 'a bearer token is attached');
      const claims = decodeJwt(bearer);
      assert.equal(claims.sub, stack.provider.users[0]!.sub);
      assert.equal(claims.aud, RESOURCE);
      assert.equal(claims['scope'], 'orders:read', 'the route scope was asked for at sign-in');
    });

    it('maps /api/<name> and a trailing slash onto the base path', async () => {
      assert.equal((await raw(stack.bff.port, '/api/echo', { headers })).status, 200);
      assert.equal((await raw(stack.bff.port, '/api/echo/', { headers })).status, 200);
      assert.deepEqual(upstream.seen.map((s) => s.url), ['/base', '/base/']);
    });

    it('never forwards Cookie, Authorization, Origin, X-Forwarded-*, Forwarded, hop-by-hop or Latch-CSRF headers', async () => {
      const res = await raw(stack.bff.port, '/api/echo/h', {
        headers: {
          ...headers,
          cookie: `${cookie}; other=1`,
          authorization: 'Bearer from-the-browser',
          'x-forwarded-for': '203.0.113.9',
          'x-forwarded-host': 'evil.example',
          'x-forwarded-proto': 'http',
          forwarded: 'for=203.0.113.9',
          'x-real-ip': '203.0.113.9',
          'proxy-authorization': 'Basic eA==',
          connection: 'keep-alive, x-secret',
          'keep-alive': 'timeout=5',
          'x-secret': 'hop',
          te: 'trailers',
          referer: `${stack.siteOrigin}/page`,
          'accept-language': 'de',
          accept: 'application/json',
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          'x-request-id': 'req-1',
        },
      });
      assert.equal(res.status, 200);
      const got = upstream.seen[0]!.headers;
      for (const name of ['cookie', 'origin', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded', 'x-real-ip',
        'proxy-authorization', 'x-secret', 'keep-alive', 'te', 'referer', 'latch-csrf']) {
        assert.equal(got[name], undefined, `${name} must not reach the upstream`);
      }
      assert.notEqual(got.authorization, 'Bearer from-the-browser');
      assert.match(got.authorization ?? '', /^Bearer eyJ/);
      assert.equal(got['accept-language'], 'de');
      assert.equal(got.accept, 'application/json');
      assert.equal(got['x-request-id'], 'req-1');
      assert.ok(got.traceparent);
    });

    it("drops the upstream's Set-Cookie, CORS and WWW-Authenticate headers and keeps its others", async () => {
      const res = await fetch(`${stack.bffUrl}/api/echo/x`, { headers });
      assert.equal(res.status, 200);
      assert.deepEqual(res.headers.getSetCookie(), []);
      assert.equal(res.headers.get('access-control-allow-origin'), stack.siteOrigin, "the BFF's CORS, not the upstream's *");
      assert.equal(res.headers.get('www-authenticate'), null);
      assert.equal(res.headers.get('x-upstream'), 'yes');
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.equal(res.headers.get('cache-control'), 'no-store');
    });

    it('passes upstream errors through with their status and body', async () => {
      upstream.setHandler((_req, res) => {
        res.writeHead(422, { 'content-type': 'application/problem+json' });
        res.end('{"title":"out of stock"}');
      });
      const res = await fetch(`${stack.bffUrl}/api/echo/orders`, { method: 'POST', headers, body: '{}' });
      assert.equal(res.status, 422);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.equal(await res.text(), '{"title":"out of stock"}');

      upstream.setHandler((_req, res) => res.writeHead(503).end('down for maintenance'));
      const down = await fetch(`${stack.bffUrl}/api/echo/orders`, { headers });
      assert.equal(down.status, 503);
      assert.equal(await down.text(), 'down for maintenance');
    });

    it('points redirects within the upstream base back through the proxy', async () => {
      upstream.setHandler((_req, res) => res.writeHead(302, { location: '/base/orders/9?x=1' }).end());
      const res = await raw(stack.bff.port, '/api/echo/orders', { headers });
      assert.equal(res.status, 302);
      assert.equal(res.headers.location, `${stack.bffUrl}/api/echo/orders/9?x=1`);
    });

    it('answers 504 LATCH_UPSTREAM_TIMEOUT when the upstream does not answer in time', async () => {
      const res = await raw(stack.bff.port, '/api/slow/x', { headers });
      assert.equal(res.status, 504);
      assert.equal(res.code, 'LATCH_UPSTREAM_TIMEOUT');
    });

    it('answers 502 LATCH_UPSTREAM_UNAVAILABLE when the upstream refuses the connection', async () => {
      const res = await raw(stack.bff.port, '/api/down/x', { headers });
      assert.equal(res.status, 502);
      assert.equal(res.code, 'LATCH_UPSTREAM_UNAVAILABLE');
    });
  });

  describe('protection', () => {
    it('answers 401 LATCH_UNAUTHENTICATED without a session, and calls nothing', async () => {
      const res = await raw(stack.bff.port, '/api/echo/x', { headers: { origin: stack.siteOrigin, 'latch-csrf': '1' } });
      assert.equal(res.status, 401);
      assert.equal(res.code, 'LATCH_UNAUTHENTICATED');
      assert.equal(upstream.seen.length, 0);
    });

    it('requires Latch-CSRF and an allowed Origin, for GET too', async () => {
      const noHeader = await raw(stack.bff.port, '/api/echo/x', { headers: { origin: stack.siteOrigin, cookie } });
      assert.equal(noHeader.status, 403);
      assert.equal(noHeader.code, 'LATCH_CSRF');
      const evil = await raw(stack.bff.port, '/api/echo/x', { headers: { origin: 'https://evil.example', 'latch-csrf': '1', cookie } });
      assert.equal(evil.status, 403);
      assert.equal(evil.code, 'LATCH_ORIGIN_NOT_ALLOWED');
      const post = await raw(stack.bff.port, '/api/echo/x', { method: 'POST', headers: { origin: stack.siteOrigin, cookie }, body: '{}' });
      assert.equal(post.code, 'LATCH_CSRF');
      assert.equal(upstream.seen.length, 0);
    });

    it('answers 404 LATCH_NOT_FOUND for an API it does not know', async () => {
      for (const path of ['/api/nope/x', '/api/ECHO/x', '/api/', '/api', '/api/echo@evil.example/x']) {
        const res = await raw(stack.bff.port, path, { headers });
        assert.equal(res.status, 404, path);
        assert.equal(res.code, 'LATCH_NOT_FOUND', path);
      }
    });

    it('forwards only GET, HEAD, POST, PUT, PATCH and DELETE', async () => {
      const res = await raw(stack.bff.port, '/api/echo/x', { method: 'PROPFIND', headers });
      assert.equal(res.status, 405);
      assert.equal(res.code, 'LATCH_METHOD_NOT_ALLOWED');
      for (const method of ['PUT', 'PATCH', 'DELETE', 'HEAD']) {
        assert.equal((await raw(stack.bff.port, '/api/echo/x', { method, headers })).status, 200, method);
      }
    });

    const tricks = [
      '/api/echo/../secret',
      '/api/echo/a/../../secret',
      '/api/echo/./secret',
      '/api/echo/%2e%2e/secret',
      '/api/echo/%2E%2E/secret',
      '/api/echo/.%2e/secret',
      '/api/echo/%2e/secret',
      '/api/echo/a%2f..%2f..%2fsecret',
      '/api/echo/a%2F..%2Fsecret',
      '/api/echo/a%5c..%5csecret',
      '/api/echo/a\\..\\secret',
      '/api/echo/..\\secret',
      '/api/echo//evil.example/x',
      '/api/echo/https://evil.example/x',
      '/api/echo/https:%2f%2fevil.example',
      '/api/echo/%252e%252e/secret',
      '/api/echo/..;/secret',
      '/api/echo/%2e%2e;x=1/secret',
      '/api/echo/a%00b',
      '/api/echo/a%0d%0aX-Injected:%201',
      '/api/echo/%zz',
    ];
    for (const path of tricks) {
      it(`refuses ${path} with 400 LATCH_BAD_REQUEST`, async () => {
        const res = await raw(stack.bff.port, path, { headers });
        assert.equal(res.status, 400, res.text);
        assert.equal(res.code, 'LATCH_BAD_REQUEST');
        assert.equal(upstream.seen.length, 0, 'nothing reached the upstream');
      });
    }

    it('refuses an absolute-form request target with 400 LATCH_BAD_REQUEST', async () => {
      for (const target of [`http://evil.example/api/echo/x`, `${upstream.server.url}/api/echo/x`]) {
        const res = await raw(stack.bff.port, target, { headers });
        assert.equal(res.status, 400, target);
        assert.equal(res.code, 'LATCH_BAD_REQUEST', target);
      }
      assert.equal(upstream.seen.length, 0);
    });

    it('keeps every accepted path under the base URL', () => {
      const route: ApiRoute = { name: 'o', upstream: 'https://api.example.com/v1/orders', token: 'user' };
      const routes = new Map([['o', route]]);
      const cases: Array<[string, string]> = [
        ['/api/o', 'https://api.example.com/v1/orders'],
        ['/api/o/', 'https://api.example.com/v1/orders/'],
        ['/api/o/123', 'https://api.example.com/v1/orders/123'],
        ['/api/o/a%20b/c.json?x=%2F..&y', 'https://api.example.com/v1/orders/a%20b/c.json?x=%2F..&y'],
        ['/api/o/...', 'https://api.example.com/v1/orders/...'],
        ['/api/o/..a/b..', 'https://api.example.com/v1/orders/..a/b..'],
        ['/api/o/@evil.example', 'https://api.example.com/v1/orders/@evil.example'],
        ['/api/o/:8080', 'https://api.example.com/v1/orders/:8080'],
      ];
      for (const [target, expected] of cases) assert.equal(resolveTarget(target, routes).url.href, expected, target);
    });
  });

  describe('streaming', () => {
    it('streams a 20 MB upload: the upstream has the first chunk before the browser sends the rest', async () => {
      const total = 20 * 1024 * 1024;
      const chunk = 1024 * 1024;
      const data = randomBytes(total);
      let firstArrived!: () => void;
      const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
      let received = 0;
      const hash = createHash('sha256');
      upstream.setHandler((req, res) => {
        req.on('data', (c: Buffer) => {
          if (received === 0) firstArrived();
          received += c.length;
          hash.update(c);
        });
        req.on('end', () => res.writeHead(201, { 'content-type': 'text/plain' }).end(String(received)));
      });
      const answer = new Promise<RawResult>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1', port: stack.bff.port, path: '/api/echo/upload', method: 'PUT',
          headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(total) },
        }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString() }));
        });
        req.on('error', reject);
        req.write(data.subarray(0, chunk));
        // The rest goes only once the upstream has seen the first megabyte: a buffering proxy would wait forever.
        const timer = setTimeout(() => req.destroy(new Error('the upstream saw nothing while the upload was incomplete: the body was buffered')), 5000);
        void arrived.then(() => {
          clearTimeout(timer);
          for (let at = chunk; at < total; at += chunk) req.write(data.subarray(at, at + chunk));
          req.end();
        });
      });
      const res = await answer;
      assert.equal(res.status, 201);
      assert.equal(res.text, String(total));
      assert.equal(hash.digest('hex'), sha256(data), 'every byte arrived, in order');
    });

    it('streams a chunked upload of unknown length', async () => {
      const parts = Array.from({ length: 8 }, () => randomBytes(256 * 1024));
      let release!: () => void;
      const firstSeen = new Promise<void>((resolve) => (release = resolve));
      const hash = createHash('sha256');
      upstream.setHandler((req, res) => {
        req.on('data', (c: Buffer) => {
          hash.update(c);
          release();
        });
        req.on('end', () => res.writeHead(200).end('ok'));
      });
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent === 1) {
            const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('body buffered')), 5000));
            await Promise.race([firstSeen, timeout]);
          }
          if (sent === parts.length) return controller.close();
          controller.enqueue(parts[sent++]);
        },
      });
      const res = await fetch(`${stack.bffUrl}/api/echo/upload`, { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
      assert.equal(res.status, 200);
      assert.equal(hash.digest('hex'), sha256(Buffer.concat(parts)));
    });

    it('answers 413 LATCH_BODY_TOO_LARGE and drops the upstream request when a chunked upload passes LATCH_MAX_BODY_BYTES', async () => {
      let upstreamClosed!: () => void;
      const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
      let received = 0;
      upstream.setHandler((req, res) => {
        req.on('data', (c: Buffer) => (received += c.length));
        req.on('close', () => upstreamClosed());
        req.on('end', () => res.writeHead(200).end());
      });
      const part = randomBytes(1024 * 1024);
      const res = await new Promise<RawResult>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: stack.bff.port, path: '/api/echo/upload', method: 'POST', headers }, (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 0, headers: answer.headers, text: Buffer.concat(chunks).toString() }));
        });
        req.on('error', reject);
        let sent = 0;
        const more = () => {
          while (sent < 40) {
            sent += 1;
            if (!req.write(part)) return void req.once('drain', more);
          }
          req.end();
        };
        more();
      });
      assert.equal(res.status, 413);
      assert.equal((JSON.parse(res.text) as { error: { code: string } }).error.code, 'LATCH_BODY_TOO_LARGE');
      await closed;
      assert.ok(received <= 33 * 1024 * 1024, `the upstream got ${received} bytes, no more than the limit and a chunk`);
    });

    it('streams a large download: the browser has the first bytes before the upstream sends the rest', async () => {
      const chunk = randomBytes(1024 * 1024);
      let browserHasBytes!: () => void;
      const gotFirst = new Promise<void>((resolve) => (browserHasBytes = resolve));
      upstream.setHandler((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(chunk);
        const timer = setTimeout(() => res.destroy(), 5000);
        void gotFirst.then(() => {
          clearTimeout(timer);
          for (let i = 0; i < 15; i++) res.write(chunk);
          res.end();
        });
      });
      const res = await fetch(`${stack.bffUrl}/api/echo/download`, { headers });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let total = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (total === 0) browserHasBytes();
        total += value.length;
      }
      assert.equal(total, 16 * chunk.length);
    });
  });
});
