/**
 * GET /events (bff/routes/events.ts) against a real oidc-provider: the stream's shape (retry first,
 * events, close after session-ended), each cause of an end told with its reason, session-updated on a
 * refresh, the bounds (per session, per instance) with no leak, Lambda's 404; and across two BFF
 * instances sharing a real redis-server: a back-channel logout received by A reaches a stream on B,
 * within 2 s, and a Redis killed under open streams neither crashes nor 500s.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../bff/config.ts';
import { publicId } from '../../../bff/session/index-store.ts';
import { startServer } from '../../../bff/server.ts';
import { completeProviderLogout, HttpClient } from '../../helpers/http.ts';
import { memoryBff } from '../../helpers/bff.ts';
import { redisSuiteOptions, startRedis, type RedisHandle } from '../../helpers/net.ts';
import { errorCode, get, post, signedIn, SITE, sleep, startSecStack, type SecStack } from '../../security/support.ts';
import { patchedSessionCookie } from './proxy-support.ts';

interface Stream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Everything received so far. */
  text(): string;
  /** Resolves with the received text once it contains `needle` (rejects after `ms`). */
  until(needle: string | RegExp, ms?: number): Promise<string>;
  /** Resolves when the server closed the stream. */
  closed: Promise<void>;
  close(): void;
}

/** A raw GET /events: the answer's head, then its bytes as they come. */
function openStream(baseUrl: string, cookie: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${baseUrl}/events`, { headers: { cookie, origin: SITE, accept: 'text/event-stream' }, agent: false }, (res) => {
      let text = '';
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        for (const w of waiters) w();
      });
      const closed = new Promise<void>((done) => res.once('close', () => done()));
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => text,
        until(needle, ms = 3000) {
          return new Promise((ok, fail) => {
            const test = () => (typeof needle === 'string' ? text.includes(needle) : needle.test(text));
            if (test()) return ok(text);
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no ${String(needle)} within ${ms} ms; got ${JSON.stringify(text)}`));
            }, ms);
            const check = () => {
              if (!test()) return;
              clearTimeout(timer);
              waiters.delete(check);
              ok(text);
            };
            waiters.add(check);
          });
        },
        closed,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

const ended = (reason: string) => `event: session-ended\ndata: {"reason":"${reason}"}\n\n`;
const csrf = { origin: SITE, 'latch-csrf': '1' };

describe('GET /events (one instance)', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack({ provider: { accessTokenTtl: 4 } });
  });
  after(async () => {
    await stack?.close();
  });

  it('answers text/event-stream, retry first; a logout elsewhere (another tab, the same session) ends it with "logout" and closes it', async () => {
    const { cookie } = await signedIn(stack);
    const stream = await openStream(stack.bffUrl, cookie);
    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
    assert.equal(stream.headers['cache-control'], 'no-store');
    assert.equal(stream.headers['x-accel-buffering'], 'no');
    assert.equal(stream.headers['access-control-allow-origin'], SITE);
    assert.equal(await stream.until('retry: 5000\n\n'), 'retry: 5000\n\n');
    assert.equal((await post(`${stack.bffUrl}/logout`, { cookie, ...csrf })).status, 200);
    await stream.until(ended('logout'));
    await stream.closed;
    assert.equal(stack.bff.app.latch.live!.streams, 0);
  });

  it('DELETE /sessions/<id> from another session of the user gives "revoked"; sign out everywhere gives "everywhere"', async () => {
    const one = await signedIn(stack, 1);
    const two = await signedIn(stack, 1);
    const three = await signedIn(stack, 1);
    const s1 = await openStream(stack.bffUrl, one.cookie);
    const s3 = await openStream(stack.bffUrl, three.cookie);
    const list = (await get(`${stack.bffUrl}/sessions`, { cookie: one.cookie, origin: SITE })).json<{ sessions: Array<{ id: string; current: boolean }> }>();
    const id = list.sessions.find((s) => s.current)!.id;
    assert.equal((await new HttpClient().request(`${stack.bffUrl}/sessions/${id}`, { method: 'DELETE', headers: { cookie: two.cookie, ...csrf } })).status, 204);
    await s1.until(ended('revoked'));
    await s1.closed;
    assert.ok(!s3.text().includes('session-ended'), 'the user\'s other sessions are not told');
    assert.equal((await post(`${stack.bffUrl}/logout?everywhere=1`, { cookie: two.cookie, ...csrf })).status, 200);
    await s3.until(ended('everywhere'));
    await s3.closed;
  });

  it('tells "session-updated" with the refreshed claims when the session is refreshed', async () => {
    const { cookie } = await signedIn(stack, 0);
    const stream = await openStream(stack.bffUrl, cookie);
    await stream.until('retry:');
    await sleep(2100); // the access token (4 s) is within its refresh margin (half its life)
    const me = await get(`${stack.bffUrl}/me`, { cookie, origin: SITE });
    assert.equal(me.status, 200);
    assert.ok(me.setCookies.length > 0, 'refreshed and resealed');
    const text = await stream.until('event: session-updated');
    const data = JSON.parse(/event: session-updated\ndata: (.*)\n/.exec(text)![1]!) as { user: { sub: string }; expiresAt: number };
    assert.equal(data.user.sub, 'user-dana');
    assert.ok(data.expiresAt > Date.now());
    assert.doesNotMatch(text, /eyJ/, 'no token in the stream');
    stream.close();
  });

  it('refuses a foreign Origin before it takes one of the session\'s slots: 403 LATCH_ORIGIN_NOT_ALLOWED', async () => {
    const { cookie } = await signedIn(stack);
    for (let i = 0; i < 6; i++) {
      const res = await get(`${stack.bffUrl}/events`, { cookie, origin: 'https://evil.example' });
      assert.equal(res.status, 403);
      assert.equal(errorCode(res), 'LATCH_ORIGIN_NOT_ALLOWED');
    }
    const own = await openStream(stack.bffUrl, cookie);
    assert.equal(own.status, 200, 'the page\'s own stream still gets a slot');
    own.close();
  });

  it('tells "expired" at the session\'s absolute end, and at its idle end unless the index saw it since', async () => {
    const { cookie } = await signedIn(stack);
    const app = stack.bff.app;
    const { cookie: ending } = await patchedSessionCookie(app, cookie, { exp: Date.now() + 1500 });
    const absolute = await openStream(stack.bffUrl, ending);
    await absolute.until(ended('expired'), 3000).catch((e: Error) => { throw new Error(`absolute: ${e.message}`); });
    await absolute.closed;

    // Idle: the cookie was last written 30 min less 1.5 s ago (the default idle timeout).
    const idleMs = stack.bff.config.sessionIdleTimeout * 1000;
    const seen = Date.now() - idleMs + 1500;
    // Sealed by hand: a cookie written by the BFF is renewed (seen: now) as it is written.
    const untouched = async (from: string) => {
      const cookies = app.latch.sites.all[0]!.cookies;
      const session = { ...(await cookies.read(from))!.session, seen };
      return { cookie: `${cookies.name}=${await app.latch.sessions.sealer.seal(session, 3600)}`, session };
    };
    const { cookie: idle, session } = await untouched(cookie);
    const entry = (await app.latch.live!.index.list(session.user.sub)).find((e) => e.id === publicId(session.sid))!;
    await app.latch.live!.index.add(session.user.sub, { ...entry, lastSeenAt: seen });
    const quiet = await openStream(stack.bffUrl, idle);
    await quiet.until(ended('expired'), 3000);

    // The same, but another request renewed it meanwhile (the index's last seen moved): it stays open.
    const { cookie: idle2, session: s2 } = await untouched((await signedIn(stack)).cookie);
    const renewed = await openStream(stack.bffUrl, idle2);
    await app.latch.live!.index.seen(s2.user.sub, publicId(s2.sid), Date.now());
    await sleep(2500);
    assert.ok(!renewed.text().includes('session-ended'), renewed.text());
    renewed.close();
  });

  it('answers 401 LATCH_UNAUTHENTICATED (JSON) without a session, or with an ended one', async () => {
    const none = await get(`${stack.bffUrl}/events`, { origin: SITE });
    assert.equal(none.status, 401);
    assert.equal(errorCode(none), 'LATCH_UNAUTHENTICATED');
    const { cookie } = await signedIn(stack);
    await post(`${stack.bffUrl}/logout`, { cookie, ...csrf });
    assert.equal(errorCode(await get(`${stack.bffUrl}/events`, { cookie, origin: SITE })), 'LATCH_UNAUTHENTICATED');
  });

  it('holds at most 4 streams of one session: 2,000 more are refused 429 and leave nothing behind (handles, listeners, heap)', async (t) => {
    const { cookie } = await signedIn(stack);
    const live = stack.bff.app.latch.live!;
    const listeners = live.bus.listeners;
    const streams = live.streams;
    const open = await Promise.all(Array.from({ length: 4 }, () => openStream(stack.bffUrl, cookie)));
    assert.deepEqual(open.map((s) => s.status), [200, 200, 200, 200]);
    const withOpen = live.bus.listeners;
    assert.ok(withOpen > listeners);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const handlesBefore = process.getActiveResourcesInfo().length;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(Array.from({ length: 100 }, () => new Promise<void>((resolve, reject) => {
        http.get(`${stack.bffUrl}/events`, { headers: { cookie, origin: SITE }, agent }, (res) => {
          statuses.set(res.statusCode!, (statuses.get(res.statusCode!) ?? 0) + 1);
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      })));
    }
    agent.destroy();
    assert.deepEqual([...statuses], [[429, 2000]]);
    assert.equal(live.streams, streams + 4);
    assert.equal(live.bus.listeners, withOpen, 'the refused ones left no listener');
    await sleep(100);
    global.gc?.();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    t.diagnostic(`2,000 refused streams: heap ${Math.round(grown / 1024)} KB, handles ${process.getActiveResourcesInfo().length} (${handlesBefore} before)`);
    assert.ok(grown < 20 * 1024 * 1024, `heap grew ${Math.round(grown / 1024)} KB`);
    assert.ok(process.getActiveResourcesInfo().length <= handlesBefore + 2, `${process.getActiveResourcesInfo().length} handles, ${handlesBefore} before`);
    for (const s of open) s.close();
    for (let i = 0; i < 50 && live.streams > streams; i++) await sleep(20);
    assert.equal(live.streams, streams, 'closed by the client: released');
    assert.equal(live.bus.listeners, listeners, 'and unsubscribed');
  });

  it('holds at most LATCH_EVENTS_MAX_STREAMS streams on the instance: 429 LATCH_RATE_LIMITED beyond', async () => {
    const small = await stack.addBff({ LATCH_EVENTS_MAX_STREAMS: '2' });
    const cookies = await Promise.all([0, 1, 0].map(async (i) => (await signedIn(stack, i)).cookie));
    const a = await openStream(small.url, cookies[0]!);
    const b = await openStream(small.url, cookies[1]!);
    const refused = await get(`${small.url}/events`, { cookie: cookies[2]!, origin: SITE });
    assert.equal(refused.status, 429);
    assert.equal(errorCode(refused), 'LATCH_RATE_LIMITED');
    assert.ok(refused.headers.get('retry-after'));
    assert.equal([a.status, b.status].join(), '200,200');
    a.close();
    b.close();
  });

  it('is not offered on Lambda (streams: false): 404 LATCH_NOT_FOUND', async () => {
    const bff = memoryBff({}, { streams: false });
    const res = await bff.client().request(`${bff.config.baseUrl.origin}/events`, { headers: { origin: SITE } });
    assert.equal(res.status, 404);
    assert.equal(errorCode(res), 'LATCH_NOT_FOUND');
  });

  it('ends its streams at a graceful shutdown of bff/server.ts, which then drains at once', async () => {
    const { cookie } = await signedIn(stack);
    const config = loadConfig({ ...stack.env, PORT: '0' });
    const server = await startServer(config, { logger: (await import('pino')).pino({ level: 'silent' }) });
    const address = server.server.address() as { port: number };
    const stream = await openStream(`http://127.0.0.1:${address.port}`, cookie);
    assert.equal(stream.status, 200);
    await stream.until('retry:');
    const started = Date.now();
    assert.equal(await server.shutdown(5000), 'drained');
    assert.ok(Date.now() - started < 2000, `drained in ${Date.now() - started} ms`);
    await stream.closed;
  });
});

describe('GET /events across two instances sharing a real redis-server', redisSuiteOptions(), () => {
  let redis: RedisHandle;
  let stack: SecStack;
  let b: Awaited<ReturnType<SecStack['addBff']>>;
  before(async () => {
    redis = await startRedis();
    stack = await startSecStack({ backchannel: true, env: { LATCH_REDIS_URL: redis.url, LATCH_REDIS_TIMEOUT_MS: '500' } });
    b = await stack.addBff();
  });
  after(async () => {
    await stack?.bff.app.latch.live?.close();
    await b?.app.latch.live?.close();
    await stack?.close();
    await redis?.stop();
  });

  it('a back-channel logout received by A reaches a stream on B within 2 s ("backchannel")', async () => {
    const { client, cookie } = await signedIn(stack);
    const stream = await openStream(b.url, cookie);
    assert.equal(stream.status, 200);
    await stream.until('retry:');
    const started = Date.now();
    await completeProviderLogout(client, `${stack.provider.issuer}/session/end`);
    await stream.until(ended('backchannel'), 2000);
    assert.ok(Date.now() - started < 2000 + 500, `${Date.now() - started} ms from the provider's sign-out page`);
    assert.ok(stack.bff.audits.some((e) => e.type === 'backchannel_logout'), 'A received it');
    assert.ok(!b.audits.some((e) => e.type === 'backchannel_logout'), 'B did not');
    await stream.closed;
  });

  it('a logout and a DELETE /sessions/<id> on A reach streams on B', async () => {
    const one = await signedIn(stack, 1);
    const two = await signedIn(stack, 1);
    const s1 = await openStream(b.url, one.cookie);
    const s2 = await openStream(b.url, two.cookie);
    await Promise.all([s1.until('retry:'), s2.until('retry:')]);
    const id = (await get(`${stack.bffUrl}/sessions`, { cookie: two.cookie, origin: SITE })).json<{ sessions: Array<{ id: string; current: boolean }> }>().sessions.find((s) => s.current)!.id;
    assert.equal((await new HttpClient().request(`${stack.bffUrl}/sessions/${id}`, { method: 'DELETE', headers: { cookie: one.cookie, ...csrf } })).status, 204);
    await s2.until(ended('revoked'), 2000);
    assert.equal((await post(`${stack.bffUrl}/logout`, { cookie: one.cookie, ...csrf })).status, 200);
    await s1.until(ended('logout'), 2000);
  });

  it('survives Redis killed under open streams: no crash, no 500; news flows again once Redis is back', async () => {
    const { cookie } = await signedIn(stack);
    const stream = await openStream(b.url, cookie);
    await stream.until('retry:');
    redis.kill();
    await sleep(300);
    const during = await get(`${b.url}/events`, { cookie, origin: SITE });
    assert.equal(during.status, 503, during.text);
    assert.equal(errorCode(during), 'LATCH_STORE_UNAVAILABLE');
    const logout = await post(`${stack.bffUrl}/logout`, { cookie, ...csrf });
    assert.notEqual(logout.status, 500);
    assert.ok(!stream.text().includes('session-ended') || stream.text().includes(ended('logout')));
    assert.equal((await get(`${b.url}/healthz`)).status, 200, 'B is up');
    await redis.restart();
    const again = await signedIn(stack);
    let s2: Stream | undefined;
    for (let i = 0; i < 40 && s2?.status !== 200; i++) {
      s2 = await openStream(b.url, again.cookie);
      if (s2.status !== 200) await sleep(100);
    }
    assert.equal(s2!.status, 200);
    await s2!.until('retry:');
    await sleep(300); // B's subscription is made again on its reconnection
    assert.equal((await post(`${stack.bffUrl}/logout`, { cookie: again.cookie, ...csrf })).status, 200);
    await s2!.until(ended('logout'), 2000);
    stream.close();
  });
});
