import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createBff } from '../../bff/app.ts';
import { loadConfig } from '../../bff/config.ts';
import { LatchError } from '../../bff/errors.ts';
import { createMetrics } from '../../bff/metrics.ts';
import type { Provider } from '../../bff/providers/provider.ts';
import { defaultWidgetDir } from '../../bff/routes/widget-asset.ts';
import { startServer } from '../../bff/server.ts';
import { HttpClient, signIn } from '../helpers/http.ts';
import { freePort, listen, trickle, type Listening } from '../helpers/net.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { captureLogs } from '../helpers/logs.ts';

const SITE = 'http://www.latch.test:8080';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    LATCH_ISSUER: 'http://127.0.0.1:9',
    LATCH_CLIENT_ID: 'latch-test',
    LATCH_CLIENT_SECRET: 'secret',
    LATCH_BASE_URL: 'http://127.0.0.1:8787',
    LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
    LATCH_ALLOWED_ORIGINS: SITE,
    LATCH_ALLOW_INSECURE_HTTP: 'true',
    LATCH_HTTP_TIMEOUT_MS: '1000',
    ...extra,
  };
}

describe('LATCH_TRUST_PROXY', () => {
  async function seen(trustProxy: string) {
    const app = createBff(loadConfig(env({ LATCH_TRUST_PROXY: trustProxy })), { logger: captureLogs().logger });
    app.use((ctx) => {
      ctx.body = { ip: ctx.ip, protocol: ctx.protocol, host: ctx.host };
    });
    const server = await listen(app.callback());
    try {
      const res = await fetch(`${server.url}/probe`, {
        // The client wrote 198.51.100.66 itself; a CDN saw 203.0.113.9; the load balancer saw the CDN at 10.0.0.1.
        headers: { 'x-forwarded-for': '198.51.100.66, 203.0.113.9, 10.0.0.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'auth.example.com' },
      });
      return (await res.json()) as { ip: string; protocol: string; host: string };
    } finally {
      await server.close();
    }
  }

  it('is off by default: X-Forwarded-* are ignored', async () => {
    const s = await seen('false');
    assert.equal(s.ip, '127.0.0.1');
    assert.equal(s.protocol, 'http');
    assert.match(s.host, /^127\.0\.0\.1:\d+$/);
  });

  it('true (one proxy): the address that proxy saw, and the scheme and host it forwarded', async () => {
    assert.deepEqual(await seen('true'), { ip: '10.0.0.1', protocol: 'https', host: 'auth.example.com' });
  });

  it('a number of proxies: the address the outermost one saw, never one the client wrote', async () => {
    assert.equal((await seen('2')).ip, '203.0.113.9');
    assert.equal((await seen('3')).ip, '198.51.100.66');
  });
});

describe('GET /readyz', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  it('answers 200 once discovery and the JWKS load', async () => {
    const res = await fetch(`${stack.bffUrl}/readyz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ready: true, checks: { provider: 'ok' } });
  });

  it('answers 503 while the authorization server cannot be reached; /healthz stays 200', async () => {
    const { lines, logger } = captureLogs();
    const port = await freePort(); // nothing listens there
    const app = createBff(loadConfig(env({ LATCH_ISSUER: `http://127.0.0.1:${port}` })), { logger });
    const server = await listen(app.callback());
    try {
      const res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { ready: false, checks: { provider: 'LATCH_UPSTREAM_UNAVAILABLE' } });
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      assert.match(lines.join(''), /not ready/);
    } finally {
      await server.close();
    }
  });

  it('answers 503 while the JWKS cannot be loaded, even with discovery working', async () => {
    const broken: Provider = {
      ...({} as Provider),
      kind: 'test',
      ready: () => Promise.reject(new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'jwks down' })),
    };
    const app = createBff(stack.config, { logger: captureLogs().logger, provider: broken });
    const server = await listen(app.callback());
    try {
      const res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 503);
      assert.deepEqual(((await res.json()) as { checks: unknown }).checks, { provider: 'LATCH_UPSTREAM_ERROR' });
    } finally {
      await server.close();
    }
  });

  it('waits for extra checks too (e.g. a configured Redis), given at creation or added later', async () => {
    let redisUp = false;
    const app = createBff(stack.config, {
      logger: captureLogs().logger,
      readiness: [{ name: 'redis', check: async () => { if (!redisUp) throw new LatchError('LATCH_STORE_UNAVAILABLE', { detail: 'down' }); } }],
    });
    const server = await listen(app.callback());
    try {
      let res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 503);
      assert.deepEqual(((await res.json()) as { checks: unknown }).checks, { provider: 'ok', redis: 'LATCH_STORE_UNAVAILABLE' });
      redisUp = true;
      res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 200);
      app.latch.readiness!.push({ name: 'late', check: () => new Promise(() => {}) });
      res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 503);
      assert.deepEqual(((await res.json()) as { checks: unknown }).checks, { provider: 'ok', redis: 'ok', late: 'timeout' });
    } finally {
      await server.close();
    }
  });
});

describe('GET /metrics', () => {
  it('is 404 LATCH_NOT_FOUND unless LATCH_METRICS=true', async () => {
    const server = await listen(createBff(loadConfig(env()), { logger: captureLogs().logger }).callback());
    try {
      const res = await fetch(`${server.url}/metrics`);
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'LATCH_NOT_FOUND');
    } finally {
      await server.close();
    }
  });

  describe('with LATCH_METRICS=true, after a login, a refresh and some failures', () => {
    let stack: Stack;
    let text: string;
    before(async () => {
      // Access tokens live 3 s: within the BFF's refresh margin (half their life) after 1.5 s, so /me refreshes.
      stack = await startStack({ env: { LATCH_METRICS: 'true' }, provider: { accessTokenTtl: 3 } });
      const client = new HttpClient();
      await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(stack.siteOrigin + '/')}`, stack.user);
      await sleep(1600);
      assert.equal((await client.request(`${stack.bffUrl}/me`)).status, 200);
      assert.equal((await fetch(`${stack.bffUrl}/me`)).status, 401);
      await fetch(`${stack.bffUrl}/callback?code=x&state=nope`);
      await fetch(`${stack.bffUrl}/no/such/page/${randomBytes(4).toString('hex')}`);
      const res = await fetch(`${stack.bffUrl}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      text = await res.text();
    });
    after(() => stack.close());

    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };

    it('counts requests by route pattern and status, never by raw path', () => {
      assert.equal(value('latch_http_requests_total{method="GET",route="/me",status="200"}'), 1);
      assert.equal(value('latch_http_requests_total{method="GET",route="/me",status="401"}'), 1);
      assert.ok((value('latch_http_request_duration_seconds_count{method="GET",route="/login"}') ?? 0) >= 1);
      assert.equal(value('latch_http_requests_total{method="GET",route="(unmatched)",status="404"}'), 1);
      assert.doesNotMatch(text, /no\/such\/page/);
    });

    it('counts logins, refreshes and failures', () => {
      assert.equal(value('latch_logins_total{result="success"}'), 1);
      assert.equal(value('latch_logins_total{result="error"}'), 1);
      assert.equal(value('latch_token_refreshes_total{result="success"}'), 1);
      assert.equal(value('latch_token_refreshes_total{result="failure"}'), 0);
      assert.equal(value('latch_errors_total{code="LATCH_UNAUTHENTICATED"}'), 1);
    });

    it('times the calls to the authorization server', () => {
      for (const step of ['discovery', 'code exchange', 'userinfo', 'refresh']) {
        assert.ok((value(`latch_outbound_duration_seconds_count{step="${step}",result="success"}`) ?? 0) >= 1, step);
      }
    });

    it('includes the process metrics', () => {
      assert.match(text, /^process_cpu_user_seconds_total /m);
      assert.match(text, /^nodejs_eventloop_lag_seconds /m);
    });
  });

  it('counts a failed refresh as a failure', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.observeOutbound('refresh', 12, false);
    await sleep(10); // prom-client loads on first use
    assert.match(await (await metrics.registry()).metrics(), /latch_token_refreshes_total\{result="failure"\} 1/);
  });
});

describe('the widget bundle at /latch.js', () => {
  let dir: string;
  let server: Listening;
  let logs: string[];
  const bundle = 'export const latch = 1;\n';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latch-widget-'));
    await writeFile(join(dir, 'latch.js'), bundle);
    await writeFile(join(dir, 'latch.iife.js'), 'var latch = 1;\n');
    await writeFile(join(dir, 'latch-de.js'), 'export default {"x":"y"};\n');
    await writeFile(join(dir, 'other.js'), 'not served\n');
    const { lines, logger } = captureLogs();
    logs = lines;
    server = await listen(createBff(loadConfig(env({ LATCH_WIDGET_DIR: dir })), { logger }).callback());
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the stable alias with a short cache, an ETag and public CORS', async () => {
    const res = await fetch(`${server.url}/latch.js`, { headers: { origin: SITE } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), bundle);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
    assert.match(res.headers.get('etag') ?? '', /^"[0-9a-f]{12}"$/);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    assert.equal(res.headers.get('cross-origin-resource-policy'), 'cross-origin');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });

  it('serves the content-hashed name as immutable for a year, and lists it in /latch.manifest.json', async () => {
    const manifest = (await (await fetch(`${server.url}/latch.manifest.json`)).json()) as Record<string, string>;
    assert.deepEqual(Object.keys(manifest).sort(), ['latch-de.js', 'latch.iife.js', 'latch.js']);
    assert.match(manifest['latch.js']!, /^latch\.[0-9a-f]{12}\.js$/);
    assert.match(manifest['latch.iife.js']!, /^latch\.iife\.[0-9a-f]{12}\.js$/);
    const res = await fetch(`${server.url}/${manifest['latch.js']}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), bundle);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const iife = await fetch(`${server.url}/${manifest['latch.iife.js']}`);
    assert.equal(await iife.text(), 'var latch = 1;\n');
  });

  it('serves the language chunks the bundle imports from beside itself', async () => {
    const res = await fetch(`${server.url}/latch-de.js`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'export default {"x":"y"};\n');
  });

  it('answers 304 to a matching If-None-Match, and HEAD without a body', async () => {
    const first = await fetch(`${server.url}/latch.js`);
    // As a browser revalidates (fetch() alone would add Cache-Control: no-cache, which forbids a 304).
    const again = await fetch(`${server.url}/latch.js`, { headers: { 'if-none-match': first.headers.get('etag')!, 'cache-control': 'max-age=0' } });
    assert.equal(again.status, 304);
    const head = await fetch(`${server.url}/latch.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('answers 404 LATCH_NOT_FOUND to a stale hash and to other files', async () => {
    for (const path of ['/latch.000000000000.js', '/other.js', '/latch.js.map', '/latch..js']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'LATCH_NOT_FOUND');
    }
  });

  it('answers 404 and warns once when the widget is not built', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'latch-nowidget-'));
    const { lines, logger } = captureLogs();
    const app = await listen(createBff(loadConfig(env({ LATCH_WIDGET_DIR: empty })), { logger }).callback());
    try {
      assert.equal((await fetch(`${app.url}/latch.js`)).status, 404);
      assert.equal((await fetch(`${app.url}/latch.js`)).status, 404);
      assert.equal(lines.filter((l) => l.includes('no widget bundle')).length, 1);
      // Built later: found without a restart.
      await writeFile(join(empty, 'latch.js'), bundle);
      assert.equal((await fetch(`${app.url}/latch.js`)).status, 200);
    } finally {
      await app.close();
      await rm(empty, { recursive: true, force: true });
    }
    assert.equal(logs.some((l) => l.includes('no widget bundle')), false);
  });

  it('finds dist/ beside the build by default, from source and from the bundle', () => {
    assert.equal(defaultWidgetDir(pathToFileURL('/srv/app/dist/bff/server.js').href), '/srv/app/dist');
    assert.equal(defaultWidgetDir(pathToFileURL('/work/latch/bff/routes/widget-asset.ts').href), '/work/latch/dist');
  });
});

describe('bff/server.ts graceful shutdown', () => {
  it('drains at once when only idle keep-alive connections remain', async () => {
    const config = loadConfig(env({ PORT: String(await freePort()) }));
    const running = await startServer(config, { logger: captureLogs().logger });
    const url = `http://127.0.0.1:${config.port}`;
    assert.equal((await fetch(`${url}/healthz`)).status, 200); // leaves a keep-alive connection open
    const started = performance.now();
    assert.equal(await running.shutdown(), 'drained');
    assert.ok(performance.now() - started < 1000, 'an idle keep-alive connection does not hold the process');
  });

  it('cuts requests still running when the grace period ends', async () => {
    const hanging: Provider = { ...({} as Provider), kind: 'test', ready: () => new Promise(() => {}) };
    const config = loadConfig(env({ PORT: String(await freePort()) }));
    const running = await startServer(config, { logger: captureLogs().logger, provider: hanging });
    const inFlight = fetch(`http://127.0.0.1:${config.port}/readyz`).then((r) => r.status, () => 'cut');
    await sleep(100);
    assert.equal(await running.shutdown(300), 'forced');
    assert.equal(await inFlight, 'cut');
  });
});

describe('bff/server.ts request timeouts (LATCH_REQUEST_TIMEOUT_MS)', () => {
  const TIMEOUT_MS = 1000;
  /** The timeout, then one connection check (a tenth of it), and room for a loaded machine. */
  const BOUND_MS = TIMEOUT_MS + 1500;
  let running: Awaited<ReturnType<typeof startServer>>;
  let port: number;

  before(async () => {
    const config = loadConfig(env({ PORT: String(await freePort()), LATCH_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) }));
    port = config.port;
    running = await startServer(config, { logger: captureLogs().logger });
  });
  after(() => running?.shutdown(500));

  it('sets Node\'s timeouts so that the request timeout holds: headersTimeout no larger, checked often', () => {
    const { server } = running;
    assert.equal(server.requestTimeout, TIMEOUT_MS);
    assert.ok(server.headersTimeout > 0 && server.headersTimeout <= server.requestTimeout, `headersTimeout ${server.headersTimeout}`);
    // Node looks for expired requests only this often (30 s by default).
    const interval = (server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval;
    assert.ok(interval > 0 && interval <= TIMEOUT_MS / 10, `connectionsCheckingInterval ${interval}`);
    assert.equal(server.keepAliveTimeout, 65_000);
  });

  /** Twenty slow clients at once; every one must be closed within the bound. */
  async function twenty(head: () => string, drip: string): Promise<{ elapsed: number[]; answers: string[] }> {
    const slow = await Promise.all(Array.from({ length: 20 }, () => trickle(port, head(), () => drip)));
    try {
      const elapsed = await Promise.all(slow.map((s) => Promise.race([s.closed, sleep(BOUND_MS).then(() => Infinity)])));
      return { elapsed, answers: slow.map((s) => s.answer()) };
    } finally {
      for (const s of slow) s.stop();
    }
  }

  it('closes twenty connections trickling a body to /backchannel-logout, each with 408, within the timeout', async () => {
    const { elapsed, answers } = await twenty(() => `POST /backchannel-logout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n`, 'a');
    const open = elapsed.filter((ms) => ms === Infinity).length;
    assert.equal(open, 0, `${open} of 20 connections still open after ${BOUND_MS} ms`);
    for (const ms of elapsed) assert.ok(ms >= TIMEOUT_MS - 50, `closed after ${Math.round(ms)} ms, before the timeout`);
    for (const answer of answers) assert.match(answer, /^HTTP\/1\.1 408 /, JSON.stringify(answer.slice(0, 120)));
  });

  it('closes twenty connections trickling their request head, within the timeout (Node answers 408)', async () => {
    let n = 0;
    const { elapsed, answers } = await twenty(() => `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-${n++}: `, 'a');
    assert.equal(elapsed.filter((ms) => ms === Infinity).length, 0, `still open after ${BOUND_MS} ms`);
    for (const answer of answers) assert.match(answer, /^HTTP\/1\.1 408 /, JSON.stringify(answer.slice(0, 120)));
  });

  it('closes twenty connections trickling a body that no route reads, within the timeout', async () => {
    // /logout refuses it at once (no CSRF header) and never reads the body: only Node's requestTimeout ends it.
    const { elapsed } = await twenty(() => `POST /logout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4000\r\n\r\n`, 'a');
    assert.equal(elapsed.filter((ms) => ms === Infinity).length, 0, `still open after ${BOUND_MS} ms`);
  });

  it('leaves an idle keep-alive connection alone for longer than the request timeout', async () => {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    const ask = async () => {
      got = '';
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      for (let i = 0; i < 100 && !/\r\n\r\n[\s\S]*\}/.test(got); i++) await sleep(10);
      return got;
    };
    try {
      assert.match(await ask(), /^HTTP\/1\.1 200 /);
      await sleep(TIMEOUT_MS + 500);
      assert.equal(socket.destroyed, false, 'the idle connection was closed');
      assert.match(await ask(), /^HTTP\/1\.1 200 /, 'a second request on the same connection');
    } finally {
      socket.destroy();
    }
  });
});
