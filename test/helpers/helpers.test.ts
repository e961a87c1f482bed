import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import { browserSuiteOptions, launchBrowser } from './browser.ts';
import { dotSuiteOptions, startDot } from './dot.ts';
import { HttpClient, parseForms } from './http.ts';
import { inMemory } from './in-memory.ts';
import { freePort, listen, redisPing, redisSuiteOptions, startRedis } from './net.ts';
import { makeCertificates, opensslSuiteOptions } from './tls.ts';

/** Binds and releases the port on 127.0.0.1; rejects if it is taken. */
function bindOnce(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

describe('freePort()', () => {
  it('returns distinct ports that can be bound on 127.0.0.1', async () => {
    const ports = await Promise.all(Array.from({ length: 5 }, () => freePort()));
    assert.equal(new Set(ports).size, ports.length);
    for (const port of ports) await bindOnce(port);
  });
});

describe('listen()', () => {
  it('serves the handler on 127.0.0.1 and frees the port on close, even with a keep-alive connection open', async () => {
    const srv = await listen((_req, res) => res.end('hello'));
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(srv.urlFor('www.latch.test'), `http://www.latch.test:${srv.port}`);
    const agent = new http.Agent({ keepAlive: true });
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get(srv.url, { agent }, (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    assert.equal(body, 'hello');
    await srv.close(); // would hang without closeAllConnections: the agent keeps the socket open
    await srv.close(); // idempotent
    agent.destroy();
    await bindOnce(srv.port);
  });

  it('accepts a Koa-style async callback', async () => {
    const srv = await listen(async (_req, res) => {
      await Promise.resolve();
      res.statusCode = 204;
      res.end();
    });
    try {
      const res = await fetch(srv.url);
      assert.equal(res.status, 204);
    } finally {
      await srv.close();
    }
  });
});

describe('inMemory()', () => {
  /** A handler that answers what it was sent, as node:http's server handed it over. */
  const echo = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, peer: req.socket.remoteAddress, body: Buffer.concat(chunks).toString() }));
    });
  };

  it('hands the request to node:http\'s server and reads its answer, without a port: the URL\'s host, a body with its length, nothing else added, each Set-Cookie apart', async () => {
    const app = inMemory(echo, { url: 'http://auth.example.test:8787' });
    const res = await app.fetch('/me?x=1', { method: 'POST', headers: { 'x-test': 'yes' }, body: 'héllo' });
    assert.equal(res.status, 200);
    const seen = (await res.json()) as { method: string; url: string; headers: Record<string, string>; peer: string; body: string };
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/me?x=1');
    assert.equal(seen.peer, '127.0.0.1');
    assert.equal(seen.body, 'héllo');
    assert.equal(seen.headers['host'], 'auth.example.test:8787');
    assert.equal(seen.headers['content-length'], '6');
    assert.equal(seen.headers['accept'], undefined, 'no header the test did not give');
    assert.equal(seen.headers['user-agent'], undefined);
    assert.deepEqual(res.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/']);
    // A cookie-jar client over it keeps both.
    const client = new HttpClient({ fetch: app.fetch });
    await client.request(`${app.url}/`);
    assert.equal(await client.jar.getCookieString(`${app.url}/`), 'a=1; b=2');
  });

  it('reads the request with Node\'s own parser: a head over maxHeaderSize is 431 before the handler runs', async () => {
    let ran = 0;
    const app = inMemory((_req, res) => void (ran++, res.end('ok')), { server: { maxHeaderSize: 2048 } });
    assert.equal((await app.fetch('/', { headers: { cookie: 'x'.repeat(1000) } })).status, 200);
    assert.equal((await app.fetch('/', { headers: { cookie: 'x'.repeat(4000) } })).status, 431);
    assert.equal(ran, 1);
  });

  it('answers HEAD, 204 and 304 without a body', async () => {
    const app = inMemory((req, res) => {
      res.writeHead(req.url === '/none' ? 204 : req.url === '/same' ? 304 : 200, { etag: '"e"' });
      res.end(req.method === 'HEAD' || req.url !== '/' ? undefined : 'body');
    });
    assert.equal(await (await app.fetch('/')).text(), 'body');
    const head = await app.fetch('/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    for (const [path, status] of [['/none', 204], ['/same', 304]] as const) {
      const res = await app.fetch(path);
      assert.equal(res.status, status);
      assert.equal(res.body, null);
    }
  });
});

describe('launchBrowser()', browserSuiteOptions(), () => {
  it('loads a page from a local server at http://www.latch.test:PORT/ through the host rule', async () => {
    const seenHosts: string[] = [];
    const srv = await listen((req, res) => {
      seenHosts.push(req.headers.host ?? '');
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end('<!doctype html><title>Latch harness</title><p>ok</p>');
    });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const response = await page.goto(`${srv.urlFor('www.latch.test')}/`);
      assert.equal(response?.status(), 200);
      assert.equal(await page.title(), 'Latch harness');
      assert.deepEqual(seenHosts.filter((h) => h !== `www.latch.test:${srv.port}`), []);
    } finally {
      await browser.close();
      await srv.close();
    }
  });

  it('removes its user-data-dir on close', async () => {
    const browser = await launchBrowser();
    // The profile dir is the --user-data-dir Chromium was started with; read it back from the page.
    const page = await browser.newPage();
    await page.goto('chrome://version');
    const text = await page.locator('body').innerText();
    const dir = /--user-data-dir=(\S+)/.exec(text)?.[1];
    assert.ok(dir && existsSync(dir), `user-data-dir found while running: ${dir}`);
    await browser.close();
    await browser.close(); // idempotent
    assert.equal(existsSync(dir), false);
  });
});

describe('makeCertificates()', opensslSuiteOptions(), () => {
  it('makes a leaf that Node trusts through the CA for the names it lists, and only those', async () => {
    const https = await import('node:https');
    const certs = await makeCertificates(['shop-a.test', '*.brand.test']);
    assert.match(certs.spki, /^[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(certs.chromiumArgs, [`--ignore-certificate-errors-spki-list=${certs.spki}`]);
    const srv = await listen((_req, res) => res.end('tls'), { tls: certs });
    const get = (servername: string) =>
      new Promise<string>((resolve, reject) => {
        https.get({ host: '127.0.0.1', port: srv.port, servername, headers: { host: servername }, ca: certs.ca }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c)).on('end', () => resolve(body));
        }).once('error', reject);
      });
    try {
      assert.equal(await get('shop-a.test'), 'tls');
      assert.equal(await get('auth.brand.test'), 'tls');
      await assert.rejects(get('evil.test'), /altnames/);
    } finally {
      await srv.close();
    }
  });
});

describe('startRedis()', redisSuiteOptions(), () => {
  it('answers PING with PONG, and stop() frees the port', async () => {
    const redis = await startRedis();
    try {
      assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
      assert.equal(await redisPing(redis.port), true);
    } finally {
      await redis.stop();
    }
    assert.equal(await redisPing(redis.port), false);
    await bindOnce(redis.port);
  });

  it('comes back on the same port after kill() and restart()', async () => {
    const redis = await startRedis();
    try {
      redis.kill();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await redisPing(redis.port), false);
      await redis.restart();
      assert.equal(await redisPing(redis.port), true);
    } finally {
      await redis.stop();
    }
  });
});

describe('startDot() (django-oauth-toolkit)', dotSuiteOptions(), () => {
  it('serves DOT configured as a deployment: OIDC metadata, PKCE required, one grant type per application; close() frees the port', async () => {
    const redirect = 'http://127.0.0.1:9/callback';
    const dot = await startDot({ redirectUris: [redirect] });
    const port = Number(new URL(dot.url).port);
    try {
      assert.match(dot.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const metadata = (await (await fetch(`${dot.url}/o/.well-known/openid-configuration/`)).json()) as Record<string, unknown>;
      assert.equal(metadata['issuer'], dot.issuer);
      assert.equal(metadata['jwks_uri'], `${dot.issuer}/.well-known/jwks.json`);

      // Signed in at DOT's own login page, an authorization request without PKCE is refused.
      const client = new HttpClient();
      const authorize = `${dot.url}/o/authorize/?${new URLSearchParams({ client_id: dot.apps.web.clientId, redirect_uri: redirect, response_type: 'code', scope: 'openid', state: 's' })}`;
      const page = await client.follow(authorize);
      const form = parseForms(page.result.text, page.result.url).find((f) => f.inputs.has('password'))!;
      const body = new URLSearchParams([...form.inputs, ['username', dot.user.username], ['password', dot.user.password]]);
      const { chain } = await client.follow(form.action, {
        init: { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() },
        until: (url) => url.href.startsWith(redirect),
      });
      const back = new URL(chain.at(-1)!);
      assert.equal(back.searchParams.get('error'), 'invalid_request', chain.join('\n'));
      assert.match(back.searchParams.get('error_description') ?? '', /code challenge/i);

      // The authorization-code application may not use client credentials; the service application may.
      const cc = (app: { clientId: string; clientSecret: string }) =>
        fetch(`${dot.url}/o/token/`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret }),
        }).then(async (res) => [res.status, ((await res.json()) as { error?: string }).error ?? 'ok']);
      assert.deepEqual(await cc(dot.apps.web), [400, 'unauthorized_client']);
      assert.deepEqual(await cc(dot.apps.service), [200, 'ok']);
      assert.deepEqual(dot.tokenRequests('client_credentials').map((r) => [r.client_id, r.status]), [[dot.apps.web.clientId, 400], [dot.apps.service.clientId, 200]]);
    } finally {
      await dot.close();
    }
    await bindOnce(port);
  });
});
