/**
 * httpFetch (bff/oauth/http-fetch.ts), the fetch oauth4webapi calls on node:http: against real servers
 * on loopback, what it must keep of fetch (the request as given, every answer header, no redirect
 * followed, certificate checks, coded failures) and the bounds it adds (the deadline to the whole
 * answer, the answer's size).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { httpFetch, MAX_ANSWER_BYTES } from '../../../bff/oauth/http-fetch.ts';
import { toLatchError } from '../../../bff/oauth/outbound.ts';
import { freePort, listen, type Listening } from '../../helpers/net.ts';
import { makeCertificates, opensslSuiteOptions } from '../../helpers/tls.ts';

describe('httpFetch', () => {
  let server: Listening;
  const seen: Array<{ method: string; url: string; headers: Record<string, string | string[] | undefined>; body: string }> = [];
  before(async () => {
    server = await listen((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        switch (req.url) {
          case '/token':
            res.writeHead(400, [['Content-Type', 'application/json'], ['WWW-Authenticate', 'Bearer error="a"'], ['WWW-Authenticate', 'DPoP error="b"']]);
            res.end('{"error":"invalid_grant"}');
            return;
          case '/moved':
            res.writeHead(302, { Location: '/token' }).end();
            return;
          case '/empty':
            res.writeHead(204).end();
            return;
          case '/silent':
            return; // never answers
          case '/drip':
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.write('{');
            return; // the rest never comes
          case '/huge':
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.end(Buffer.alloc(MAX_ANSWER_BYTES + 1, 0x20));
            return;
          default:
            res.writeHead(404).end();
        }
      });
    });
  });
  after(() => server.close());

  it('sends the method, headers and form body it is given, and answers a Response with every header and the body', async () => {
    const f = httpFetch(2000);
    const res = await f(`${server.url}/token`, { method: 'POST', headers: { accept: 'application/json', 'x-one': '1' }, body: new URLSearchParams({ grant_type: 'authorization_code', code: 'c d' }), redirect: 'manual' });
    assert.ok(res instanceof Response);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer error="a", DPoP error="b"');
    assert.deepEqual(await res.json(), { error: 'invalid_grant' });
    const sent = seen.at(-1)!;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.body, 'grant_type=authorization_code&code=c+d');
    assert.equal(sent.headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8');
    assert.equal(sent.headers['content-length'], String(sent.body.length));
    assert.equal(sent.headers['x-one'], '1');
  });

  it('follows no redirect, and gives a 204 without a body', async () => {
    const f = httpFetch(2000);
    const moved = await f(`${server.url}/moved`, { redirect: 'manual' });
    assert.equal(moved.status, 302);
    assert.equal(moved.headers.get('location'), '/token');
    const empty = await f(`${server.url}/empty`);
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
  });

  it('gives up at its deadline on a server that never answers, or never finishes its body: a timeout (504)', async () => {
    const f = httpFetch(300);
    for (const path of ['/silent', '/drip']) {
      const started = performance.now();
      const err = await f(`${server.url}${path}`).then(() => assert.fail('answered'), (e: unknown) => e);
      assert.ok(performance.now() - started >= 290, path);
      assert.equal((err as Error).name, 'TimeoutError', path);
      assert.equal(toLatchError(err, 'code exchange').code, 'LATCH_UPSTREAM_TIMEOUT', path);
    }
  });

  it("stops at the caller's signal", async () => {
    const controller = new AbortController();
    const pending = httpFetch(5000)(`${server.url}/silent`, { signal: controller.signal });
    controller.abort(new DOMException('stop', 'AbortError'));
    await assert.rejects(pending, (err: Error) => err.name === 'AbortError');
  });

  it('refuses an answer larger than MAX_ANSWER_BYTES, as a failure to reach the server (503)', async () => {
    const err = await httpFetch(5000)(`${server.url}/huge`).then(() => assert.fail('answered'), (e: unknown) => e);
    assert.ok(err instanceof TypeError);
    assert.match(String((err as TypeError).cause), /larger than/);
    assert.equal(toLatchError(err, 'userinfo').code, 'LATCH_UPSTREAM_UNAVAILABLE');
  });

  it('reports a refused connection as fetch does: TypeError with the cause (503 LATCH_UPSTREAM_UNAVAILABLE)', async () => {
    const port = await freePort();
    const err = await httpFetch(2000)(`http://127.0.0.1:${port}/token`, { method: 'POST', body: 'x=1' }).then(() => assert.fail('answered'), (e: unknown) => e);
    assert.ok(err instanceof TypeError);
    assert.equal(((err as TypeError).cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    assert.equal(toLatchError(err, 'code exchange').code, 'LATCH_UPSTREAM_UNAVAILABLE');
  });

  describe('over https', opensslSuiteOptions(), () => {
    it('refuses a server whose certificate no trusted authority signed', async () => {
      const certs = await makeCertificates(['localhost']);
      const tls = await listen((_req, res) => res.end('{}'), { tls: { key: certs.key, cert: certs.cert } });
      try {
        const err = await httpFetch(2000)(`${tls.urlFor('localhost')}/token`).then(() => assert.fail('answered'), (e: unknown) => e);
        assert.ok(err instanceof TypeError);
        assert.match(((err as TypeError).cause as NodeJS.ErrnoException).code ?? '', /CERT|SELF_SIGNED|UNABLE_TO/);
      } finally {
        await tls.close();
      }
    });
  });
});
