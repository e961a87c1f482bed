import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import { browserSuiteOptions, launchBrowser } from './browser.ts';
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
