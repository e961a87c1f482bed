/**
 * Request smuggling through the /api proxy, tested where it lives: raw bytes on the wire at both ends.
 * The browser side is written byte for byte over node:net (fetch() would normalise the framing), and the
 * upstream is a node:net server that splits what it gets into requests by their own framing, as any
 * keep-alive server does. A body forwarded without framing on a pooled connection becomes a request of
 * its own there, sent with the BFF's Authorization header (issue 13, item 1).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HttpClient, signIn } from '../../helpers/http.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';
import { chunked, header, startWireUpstream, wireBytes, wireRequest, type WireAnswer, type WireReply, type WireRequest } from './proxy-support.ts';
import { WHOLE_ANSWER_BYTES } from '../../../bff/routes/proxy.ts';

/** A whole request as a body: forwarded without framing, the upstream would run it as a second request. */
const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: upstream.internal\r\n\r\n';
/** Past REPLAYABLE_BODY_BYTES (64 KiB): streamed to the upstream rather than read first. */
const LARGE = SMUGGLED + 'x'.repeat(70 * 1024);

interface BodyForm {
  headers: Record<string, string>;
  bytes: Buffer | string;
  /** The body the upstream must see. */
  content: string;
  /** Whether this is a body at all (a Content-Length of 0 is not). */
  isBody: boolean;
}

const BODIES: Record<string, BodyForm> = {
  'no body': { headers: {}, bytes: '', content: '', isBody: false },
  'Content-Length: 0': { headers: { 'content-length': '0' }, bytes: '', content: '', isBody: false },
  'a Content-Length body': { headers: { 'content-length': String(SMUGGLED.length) }, bytes: SMUGGLED, content: SMUGGLED, isBody: true },
  'a streamed Content-Length body (70 KiB)': { headers: { 'content-length': String(LARGE.length) }, bytes: LARGE, content: LARGE, isBody: true },
  'a chunked body': { headers: { 'transfer-encoding': 'chunked' }, bytes: chunked(SMUGGLED.slice(0, 9), SMUGGLED.slice(9)), content: SMUGGLED, isBody: true },
  'an empty chunked body': { headers: { 'transfer-encoding': 'chunked' }, bytes: chunked(), content: '', isBody: true },
};

const BODYLESS = ['GET', 'HEAD', 'DELETE'];
const WITH_BODY = ['POST', 'PUT', 'PATCH'];

describe('the /api proxy on the wire: one request upstream per proxied call', () => {
  let stack: Stack;
  let upstream: Awaited<ReturnType<typeof startWireUpstream>>;
  let a: Record<string, string>;
  let b: Record<string, string>;
  let tokenB: string;

  const alice = { sub: 'wire-alice', login: 'alice@latch.test', password: randomBytes(12).toString('base64url'), name: 'Alice', email: 'alice@latch.test', email_verified: true };
  const bob = { sub: 'wire-bob', login: 'bob@latch.test', password: randomBytes(12).toString('base64url'), name: 'Bob', email: 'bob@latch.test', email_verified: true };

  before(async () => {
    upstream = await startWireUpstream();
    stack = await startStack({
      provider: { users: [alice, bob] },
      env: { LATCH_API_ROUTES: `wire=${upstream.url}/base`, LATCH_API_TIMEOUT_MS: '1500', LATCH_MAX_BODY_BYTES: String(1024 * 1024) },
    });
    const headersOf = async (user: typeof alice) => {
      const client = new HttpClient();
      await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, user);
      const cookie = await client.jar.getCookieString(stack.bffUrl);
      return { host: `127.0.0.1:${stack.bff.port}`, origin: stack.siteOrigin, 'latch-csrf': '1', cookie, connection: 'close' };
    };
    a = await headersOf(alice);
    b = await headersOf(bob);
    tokenB = (await stack.app.latch.sites.all[0]!.cookies.read(b['cookie']!))!.session.at;
    assert.ok(tokenB.length >= 20);
  });
  after(async () => {
    await stack?.close();
    await upstream?.close();
  });

  /**
   * Sends one proxied call as raw bytes, then a plain call (the sentinel) that takes the same pooled upstream
   * connection: whatever the first call left on that connection arrives before the sentinel. Returns what
   * the upstream parsed in between.
   */
  async function exchange(bytes: Buffer): Promise<{ answer: WireAnswer; seen: WireRequest[] }> {
    const from = upstream.requests.length;
    const answer = await wireRequest(stack.bff.port, bytes);
    const sentinel = await wireRequest(stack.bff.port, wireBytes('GET', '/api/wire/sentinel', a));
    assert.equal(sentinel.status, 200, `the sentinel call: ${sentinel.raw.slice(0, 200)}`);
    const seen = upstream.requests.slice(from);
    const last = seen.pop();
    assert.ok(last && last.complete && last.method === 'GET' && last.target === '/base/sentinel', `the upstream's last request is the sentinel: ${JSON.stringify(last?.raw.toString('latin1').slice(0, 120))}`);
    return { answer, seen };
  }

  const show = (seen: WireRequest[]) => JSON.stringify(seen.map((r) => r.raw.toString('latin1').slice(0, 100)));

  for (const method of [...BODYLESS, ...WITH_BODY]) {
    for (const [name, form] of Object.entries(BODIES)) {
      const refused = BODYLESS.includes(method) && form.isBody;
      it(`${method} with ${name}: ${refused ? '400 LATCH_BAD_REQUEST, nothing sent upstream' : 'exactly one framed request upstream'}`, async () => {
        const { answer, seen } = await exchange(wireBytes(method, '/api/wire/x', { ...a, ...form.headers }, form.bytes));
        if (refused) {
          assert.equal(answer.status, 400, answer.raw.slice(0, 300));
          if (method !== 'HEAD') assert.equal(answer.code, 'LATCH_BAD_REQUEST');
          assert.equal(seen.length, 0, `the upstream saw ${seen.length} requests: ${show(seen)}`);
          return;
        }
        assert.equal(answer.status, 200, answer.raw.slice(0, 300));
        assert.equal(seen.length, 1, `the upstream saw ${seen.length} requests: ${show(seen)}`);
        const [got] = seen as [WireRequest];
        assert.ok(got.complete);
        assert.equal(got.method, method);
        assert.equal(got.target, '/base/x');
        assert.equal(got.body.toString('latin1'), form.content);
        const lengths = got.headers.filter(([n]) => n === 'content-length').length;
        const codings = got.headers.filter(([n]) => n === 'transfer-encoding').length;
        assert.ok(lengths + codings <= 1, `one framing header at most: ${got.raw.toString('latin1').slice(0, 400)}`);
        if (BODYLESS.includes(method)) {
          assert.equal(codings, 0);
          assert.ok(lengths === 0 || header(got, 'content-length') === '0');
        } else {
          // Every forwarded body is framed explicitly: a length, or chunked.
          assert.equal(lengths + codings, 1, `a body method is always framed: ${got.raw.toString('latin1').slice(0, 400)}`);
          if (got.framing === 'length') assert.equal(header(got, 'content-length'), String(Buffer.byteLength(form.content)));
        }
        assert.match(header(got, 'authorization') ?? '', /^Bearer \S+$/);
        assert.equal(header(got, 'expect'), undefined);
      });
    }
  }

  it('Content-Length together with Transfer-Encoding never reaches the upstream', async () => {
    for (const method of ['GET', 'POST']) {
      const { answer, seen } = await exchange(wireBytes(method, '/api/wire/x', { ...a, 'content-length': String(SMUGGLED.length + 5), 'transfer-encoding': 'chunked' }, chunked(SMUGGLED)));
      assert.equal(answer.status, 400, `${method}: ${answer.raw.slice(0, 200)}`);
      assert.equal(seen.length, 0, `${method}: ${show(seen)}`);
    }
  });

  it('two Content-Length headers never reach the upstream', async () => {
    for (const lengths of [['5', '5'], ['5', String(SMUGGLED.length)]]) {
      const head = `POST /api/wire/x HTTP/1.1\r\n${Object.entries(a).map(([k, v]) => `${k}: ${v}\r\n`).join('')}${lengths.map((l) => `content-length: ${l}\r\n`).join('')}\r\n`;
      const { answer, seen } = await exchange(Buffer.from(head + SMUGGLED, 'latin1'));
      assert.equal(answer.status, 400, answer.raw.slice(0, 200));
      assert.equal(seen.length, 0, show(seen));
    }
  });

  it('a transfer coding other than chunked is refused with 400 and never reaches the upstream', async () => {
    for (const coding of ['gzip, chunked', 'gzip', 'identity', 'chunked, chunked']) {
      for (const method of ['GET', 'POST']) {
        const body = coding.endsWith('chunked') ? chunked(SMUGGLED) : SMUGGLED;
        const { answer, seen } = await exchange(wireBytes(method, '/api/wire/x', { ...a, 'transfer-encoding': coding }, body));
        assert.equal(answer.status, 400, `${method} ${coding}: ${answer.raw.slice(0, 200)}`);
        assert.equal(seen.length, 0, `${method} ${coding}: ${show(seen)}`);
      }
    }
  });

  it('Expect: 100-continue is not forwarded; a GET body behind it is still refused', async () => {
    const get = await exchange(wireBytes('GET', '/api/wire/x', { ...a, expect: '100-continue', 'content-length': String(SMUGGLED.length) }, SMUGGLED));
    assert.equal(get.answer.status, 400);
    assert.equal(get.answer.code, 'LATCH_BAD_REQUEST');
    assert.equal(get.seen.length, 0, show(get.seen));
    const post = await exchange(wireBytes('POST', '/api/wire/x', { ...a, expect: '100-continue', 'content-length': String(SMUGGLED.length) }, SMUGGLED));
    assert.equal(post.answer.status, 200);
    assert.equal(post.seen.length, 1, show(post.seen));
    assert.equal(post.seen[0]!.body.toString('latin1'), SMUGGLED);
    assert.equal(header(post.seen[0]!, 'expect'), undefined);
  });

  it("two users, one pooled upstream connection: A's smuggled POST never swallows B's request or token", async () => {
    upstream.setResponder();
    const from = upstream.requests.length;
    // A opens the pooled keep-alive connection with an ordinary call.
    assert.equal((await wireRequest(stack.bff.port, wireBytes('GET', '/api/wire/warm', a))).status, 200);
    // A's attack: a GET whose chunked body is the head of a POST with a long Content-Length. Forwarded
    // without framing, the upstream would wait for that many bytes and take the next request on the
    // connection, B's, as the POST's body: B's access token stored as A's data.
    const steal = `POST /base/notes HTTP/1.1\r\nHost: upstream.internal\r\nContent-Type: text/plain\r\nContent-Length: 1800\r\n\r\nnote=`;
    const attack = await wireRequest(stack.bff.port, wireBytes('GET', '/api/wire/innocent', { ...a, 'transfer-encoding': 'chunked' }, chunked(steal)));
    // B's ordinary call, next on the pooled connection.
    const victim = await wireRequest(stack.bff.port, wireBytes('GET', '/api/wire/profile', b));
    const seen = upstream.requests.slice(from);

    for (const got of seen) {
      assert.equal(got.body.includes(tokenB), false, `B's token in the body of ${got.method} ${got.target}: ${JSON.stringify(got.body.toString('latin1').slice(0, 200))}`);
      if (got.raw.includes(tokenB)) assert.equal(header(got, 'authorization'), `Bearer ${tokenB}`, 'B\'s token only ever as the Authorization of B\'s own request');
    }
    assert.deepEqual(seen.map((r) => [r.method, r.target, r.complete]), [['GET', '/base/warm', true], ['GET', '/base/profile', true]], show(seen));
    assert.equal(attack.status, 400, attack.raw.slice(0, 200));
    assert.equal(attack.code, 'LATCH_BAD_REQUEST');
    const mine = seen[1]!;
    assert.equal(header(mine, 'authorization'), `Bearer ${tokenB}`);
    assert.equal(mine.body.length, 0);
    assert.equal(victim.status, 200, victim.raw.slice(0, 300));
    assert.equal((JSON.parse(victim.body.toString('utf8')) as { target: string }).target, '/base/profile', 'B got the answer to its own request');
    // It was one pooled connection: B's request travelled where A's bytes would have been left.
    assert.equal(mine.conn, seen[0]!.conn, 'A and B were served over one upstream connection');
  });

  it("an upstream answer with an extra response glued on is never handed to the next user's call", async () => {
    const from = upstream.requests.length;
    upstream.setResponder((req) => {
      if (req.target !== '/base/poison') return undefined;
      const fake = '{"target":"/base/profile","forged":true}';
      return `HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${fake.length}\r\n\r\n${fake}`;
    });
    try {
      assert.equal((await wireRequest(stack.bff.port, wireBytes('GET', '/api/wire/poison', a))).status, 200);
      const victim = await wireRequest(stack.bff.port, wireBytes('GET', '/api/wire/profile', b));
      assert.equal(victim.status, 200);
      assert.deepEqual(JSON.parse(victim.body.toString('utf8')), { n: upstream.requests.length - 1, method: 'GET', target: '/base/profile' });
      assert.deepEqual(upstream.requests.slice(from).map((r) => r.target), ['/base/poison', '/base/profile']);
    } finally {
      upstream.setResponder();
    }
  });

  describe('answers the upstream frames badly', () => {
    const answer = async (bytes: WireReply, connection = 'close') => {
      upstream.setResponder((req) => (req.target === '/base/bad' ? bytes : undefined));
      try {
        const from = upstream.requests.length;
        const res = await wireRequest(stack.bff.port, wireBytes('GET', '/api/wire/bad', { ...a, connection }), { timeoutMs: 5000 });
        // The BFF still serves the next call, over a clean upstream connection.
        const next = await wireRequest(stack.bff.port, wireBytes('GET', '/api/wire/next', a));
        assert.equal(next.status, 200);
        assert.equal((JSON.parse(next.body.toString('utf8')) as { target: string }).target, '/base/next');
        assert.deepEqual(upstream.requests.slice(from).map((r) => r.target), ['/base/bad', '/base/next']);
        return res;
      } finally {
        upstream.setResponder();
      }
    };

    it('Content-Length with Transfer-Encoding: 502 LATCH_UPSTREAM_ERROR', async () => {
      const res = await answer('HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
      assert.equal(res.status, 502);
      assert.equal(res.code, 'LATCH_UPSTREAM_ERROR');
    });

    it('101 Switching Protocols to a request that asked for no upgrade: 502, not a call left hanging', async () => {
      const res = await answer('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\nGET /inside HTTP/1.1\r\n\r\n');
      assert.equal(res.status, 502);
      assert.equal(res.code, 'LATCH_UPSTREAM_ERROR');
    });

    it('a streamed body cut short of its Content-Length: the browser sees its keep-alive connection end, never a complete answer', async () => {
      const announced = WHOLE_ANSWER_BYTES + 1;
      const res = await answer({ bytes: `HTTP/1.1 200 OK\r\ncontent-length: ${announced}\r\n\r\nonly ten b`, close: true }, 'keep-alive');
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-length'], String(announced));
      assert.ok(res.body.length < announced, 'the connection closed before the announced length');
    });

    it('a small body (read whole) cut short of its Content-Length: 502 LATCH_UPSTREAM_ERROR, none of its headers', async () => {
      const res = await answer({ bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\nx-upstream: 1\r\n\r\nonly ten b', close: true });
      assert.equal(res.status, 502);
      assert.equal(res.code, 'LATCH_UPSTREAM_ERROR');
      assert.equal(res.headers['x-upstream'], undefined);
    });
  });
});
