/**
 * The proxy with streams and caches (bff/routes/proxy.ts, proxy-cache.ts), a real upstream and a real
 * provider: server-sent events and chunked answers reach the page as the upstream writes them (each
 * event within 50 ms of being written, the gaps between them longer than LATCH_API_TIMEOUT_MS), and
 * Cache-Control passes for privately cacheable answers, never `public`.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { HttpClient, signIn } from '../../helpers/http.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';
import { startUpstream } from './proxy-support.ts';

describe('proxy: streams and caching', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let stack: Stack;
  let headers: Record<string, string>;
  before(async () => {
    upstream = await startUpstream();
    stack = await startStack({ env: { LATCH_API_ROUTES: `up=${upstream.server.url}`, LATCH_API_TIMEOUT_MS: '400' } });
    const client = new HttpClient();
    await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, stack.user);
    headers = { origin: stack.siteOrigin, 'latch-csrf': '1', cookie: await client.jar.getCookieString(stack.bffUrl) };
  });
  after(async () => {
    await stack.close();
    await upstream.server.close();
  });
  beforeEach(() => upstream.reset());

  /**
   * The upstream writes `parts` one by one, `gapMs` apart, noting when each was written; the page (a
   * raw client asking for gzip, as browsers do) notes when each arrived. Returns the delays, ms.
   */
  async function timed(contentType: string, parts: string[], gapMs: number): Promise<{ delays: number[]; head: http.IncomingHttpHeaders; body: string }> {
    const written: number[] = [];
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache' });
      res.flushHeaders();
      let i = 0;
      const next = () => {
        written.push(performance.now());
        if (i === parts.length - 1) return res.end(parts[i++]);
        res.write(parts[i++]);
        setTimeout(next, gapMs);
      };
      setTimeout(next, gapMs);
    });
    return new Promise((resolve, reject) => {
      const arrived: number[] = [];
      let body = '';
      const req = http.get(`${stack.bffUrl}/api/up/stream`, { headers: { ...headers, accept: contentType, 'accept-encoding': 'gzip, deflate, br' }, agent: false }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          // Every part ends in a blank line or a newline: count the parts complete so far.
          while (arrived.length < parts.length && body.length >= parts.slice(0, arrived.length + 1).join('').length) arrived.push(performance.now());
        });
        res.on('end', () => resolve({ delays: arrived.map((t, i) => t - written[i]!), head: res.headers, body }));
      });
      req.on('error', reject);
    });
  }

  it('passes server-sent events through unbuffered: each within 50 ms of the upstream writing it, quiet gaps longer than the API timeout', async () => {
    const events = ['retry: 1000\n\n', 'event: a\ndata: 1\n\n', 'data: 2\n\n', ': ping\n\n', 'data: 3\n\n'];
    const { delays, head, body } = await timed('text/event-stream', events, 600);
    assert.equal(body, events.join(''));
    assert.equal(head['content-encoding'], undefined, 'not compressed on the way');
    assert.equal(head['x-accel-buffering'], 'no');
    assert.equal(head['cache-control'], 'private, no-cache', 'the upstream\'s directive, private');
    for (const [i, d] of delays.entries()) assert.ok(d < 50, `event ${i} reached the page ${d.toFixed(1)} ms after it was written`);
  });

  it('passes a chunked stream through unbuffered (first byte within 50 ms)', async () => {
    const lines = ['{"n":1}\n', '{"n":2}\n', '{"n":3}\n'];
    const { delays, body } = await timed('application/x-ndjson', lines, 200);
    assert.equal(body, lines.join(''));
    for (const [i, d] of delays.entries()) assert.ok(d < 50, `chunk ${i} reached the page ${d.toFixed(1)} ms after it was written`);
  });

  async function cacheControl(method: string, status: number, value: string | undefined) {
    upstream.setHandler((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...(value === undefined ? {} : { 'cache-control': value }) });
      res.end(method === 'HEAD' ? undefined : '{}');
    });
    const res = await fetch(`${stack.bffUrl}/api/up/x`, { method, headers, ...(method === 'POST' ? { body: '{}' } : {}) });
    await res.arrayBuffer();
    return { cc: res.headers.get('cache-control'), vary: res.headers.get('vary') ?? '' };
  }

  it('passes the upstream\'s Cache-Control for privately cacheable answers, never public: public and s-maxage rewritten, Vary: Cookie', async () => {
    const shared = await cacheControl('GET', 200, 'public, max-age=60, s-maxage=600');
    assert.equal(shared.cc, 'private, max-age=60');
    assert.match(shared.vary, /\bCookie\b/);
    assert.equal((await cacheControl('GET', 200, 'max-age=30')).cc, 'private, max-age=30');
    assert.equal((await cacheControl('HEAD', 200, 'private, max-age=5')).cc, 'private, max-age=5');
    assert.equal((await cacheControl('GET', 200, 'private="set-cookie", max-age=5, proxy-revalidate')).cc, 'private, max-age=5');
    assert.equal((await cacheControl('GET', 404, 'public, max-age=5')).cc, 'private, max-age=5');
  });

  it('keeps no-store where caching is not safe: other methods, unauthorised answers, no or broken upstream value', async () => {
    for (const [method, status, value] of [['POST', 200, 'public, max-age=60'], ['GET', 401, 'max-age=60'], ['GET', 403, 'public, max-age=60'], ['GET', 500, 'max-age=60'], ['GET', 200, undefined], ['GET', 200, 'max-age=60, "broken']] as const) {
      const { cc } = await cacheControl(method, status, value);
      assert.equal(cc, 'no-store', `${method} ${status} ${value}`);
    }
    assert.equal((await cacheControl('GET', 200, 'no-store')).cc, 'no-store');
  });
});
