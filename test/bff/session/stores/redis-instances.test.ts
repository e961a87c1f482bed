/**
 * Two BFF instances sharing one real redis-server: instance A runs in this process (createBff), B is
 * a separate Node process started from bff/server.ts with the same environment, as behind a load
 * balancer. Redis sits behind a TCP relay the test can cut (a partition: Redis keeps its data) or
 * is killed and restarted empty (a crash).
 *
 *   describe('Redis store (cookie sessions)')    logout, sign-out-everywhere and back-channel logout
 *                                                 seen by the other instance; 50 concurrent expired-
 *                                                 token requests across both make 1 refresh; Redis
 *                                                 down → 503, and nothing lost when it returns.
 *   describe('Redis store (server-side sessions)') LATCH_SESSION_STORE=redis: the cookie holds a
 *                                                 sealed reference only; the same guarantees.
 *   describe('a Redis outage in the middle of a refresh') three instances, server-side sessions, a
 *                                                 persistent Redis killed while the provider answers a
 *                                                 (held) refresh, then restarted: the rotated tokens
 *                                                 survive on every instance, one refresh; and how an
 *                                                 outage is logged.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { completeProviderLogout, followLogoutHandle, HttpClient } from '../../../helpers/http.ts';
import { freePort, listen, redisSuiteOptions, startRedis, startRelay, type Listening, type RedisHandle } from '../../../helpers/net.ts';
import { errorCode, get, post, sessionCookieHeader, signedIn, SITE, sleep, startSecStack, type SecStack } from '../../../security/support.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

interface Child {
  url: string;
  output: string[];
  stop(): Promise<void>;
}

/** Instance B: bff/server.ts in its own Node process. */
async function startChild(env: Record<string, string>): Promise<Child> {
  const port = await freePort();
  const output: string[] = [];
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(root, 'bff/server.ts')], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), LATCH_HOST: '127.0.0.1', LATCH_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`instance B exited ${child.exitCode}:\n${output.join('')}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`instance B did not start:\n${output.join('')}`);
    }
    await sleep(100);
  }
  return {
    url,
    output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const me = (url: string, cookie: string) => get(`${url}/me`, { cookie, origin: SITE });

describe('Redis store (cookie sessions): two instances', redisSuiteOptions(), () => {
  let redis: RedisHandle;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let stack: SecStack;
  let a: string;
  let b: Child;
  before(async () => {
    redis = await startRedis();
    relay = await startRelay(redis.port);
    stack = await startSecStack({
      backchannel: true,
      provider: { accessTokenTtl: 3 },
      env: { LATCH_REDIS_URL: relay.url, LATCH_REDIS_TIMEOUT_MS: '500' },
    });
    a = stack.bffUrl;
    b = await startChild(stack.env);
  });
  after(async () => {
    await b?.stop();
    await stack?.close();
    await relay?.close();
    await redis?.stop();
  });

  it('serves one session on both instances', async () => {
    const { cookie } = await signedIn(stack);
    assert.equal((await me(a, cookie)).status, 200);
    assert.equal((await me(b.url, cookie)).status, 200);
  });

  it('ends a session logged out on A for B too (the cookie copy is refused)', async () => {
    const { cookie } = await signedIn(stack);
    const out = await post(`${a}/logout`, { cookie, origin: SITE, 'latch-csrf': '1' });
    assert.equal(out.status, 200);
    const res = await me(b.url, cookie);
    assert.equal(res.status, 401);
    assert.equal(errorCode(res), 'LATCH_UNAUTHENTICATED');
  });

  it('signs out everywhere from B: every session of the user ends on A and B', async () => {
    const one = await signedIn(stack, 1);
    const two = await signedIn(stack, 1);
    const out = await post(`${b.url}/logout?everywhere=1`, { cookie: one.cookie, origin: SITE, 'latch-csrf': '1' });
    assert.equal(out.status, 200);
    for (const url of [a, b.url]) {
      assert.equal((await me(url, one.cookie)).status, 401);
      assert.equal((await me(url, two.cookie)).status, 401);
    }
  });

  it('applies a back-channel logout received by A on B', async () => {
    const { client, cookie } = await signedIn(stack);
    assert.equal((await me(b.url, cookie)).status, 200);
    await completeProviderLogout(client, `${stack.provider.issuer}/session/end`);
    let status = 0;
    for (let i = 0; i < 40 && status !== 401; i++) {
      status = (await me(b.url, cookie)).status;
      if (status !== 401) await sleep(50);
    }
    assert.equal(status, 401);
    assert.ok(stack.bff.audits.some((e) => e.type === 'backchannel_logout'));
  });

  it('makes one refresh for 50 concurrent expired-token requests split across A and B', async () => {
    const { cookie } = await signedIn(stack, 2);
    await sleep(1600); // the access token (3 s) is now within its refresh margin (half its life)
    stack.provider.resetCounts();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => me(i % 2 ? b.url : a, cookie)));
    assert.deepEqual(answers.map((r) => r.status), Array(50).fill(200), answers.map((r) => r.text.slice(0, 80)).find((t) => !t.includes('user')));
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1);
    // The old cookie, whose (rotated) refresh token is spent, still works: the stored result is used.
    // Spending it again would be invalid_grant (and oidc-provider would revoke the whole grant).
    assert.equal((await me(b.url, cookie)).status, 200);
    assert.equal((await me(a, cookie)).status, 200);
    // Every answer carries the same refreshed tokens.
    const tokens = new Set<string>();
    for (const res of answers) {
      const set = sessionCookieHeader(res.setCookies);
      assert.ok(set, 'each answer reseals the refreshed session');
      tokens.add((await stack.bff.app.latch.sites.all[0]!.cookies.read(set))!.session.at);
    }
    assert.equal(tokens.size, 1);
  });

  it('answers 503 LATCH_STORE_UNAVAILABLE while Redis is unreachable, stays up, and loses nothing when it returns', async () => {
    const { cookie } = await signedIn(stack);
    const { cookie: loggedOut } = await signedIn(stack);
    await post(`${a}/logout`, { cookie: loggedOut, origin: SITE, 'latch-csrf': '1' });
    const signedInBeforeOutage = signedIn(stack);
    await signedInBeforeOutage;
    relay.cut();
    try {
      for (const url of [a, b.url]) {
        const started = Date.now();
        const res = await me(url, cookie);
        assert.equal(res.status, 503, res.text);
        assert.equal(errorCode(res), 'LATCH_STORE_UNAVAILABLE');
        assert.equal(res.headers.get('retry-after'), '1');
        assert.equal(res.headers.get('access-control-allow-origin'), SITE);
        assert.equal(res.setCookies.length, 0, 'the session cookie is left alone');
        assert.ok(Date.now() - started < 3000, `answered in ${Date.now() - started} ms`);
        assert.equal((await get(`${url}/healthz`)).status, 200, 'the process is up');
      }
      assert.equal((await get(`${a}/readyz`)).status, 503, 'not ready without its store');
      assert.equal((await new HttpClient().request(`${a}/login?returnTo=${encodeURIComponent(SITE)}`)).status, 302, '/login does not need the store');
      const everywhere = await post(`${a}/logout?everywhere=1`, { cookie, origin: SITE, 'latch-csrf': '1' });
      assert.equal(everywhere.status, 503, 'sign-out everywhere needs the store: refused, session kept');
      assert.equal(everywhere.setCookies.length, 0);
      const { cookie: leaving } = await signedInBeforeOutage;
      const plain = await post(`${b.url}/logout`, { cookie: leaving, origin: SITE, 'latch-csrf': '1' });
      assert.equal(plain.status, 200, 'a plain logout still clears this browser');
      assert.ok(plain.setCookies.some((c) => /^latch=;/.test(c)));
      // The provider's sign-out still follows, its handle opened without the store (single use unchecked).
      const end = await followLogoutHandle(new HttpClient(), plain.json<{ logoutUrl: string }>().logoutUrl);
      assert.ok(end.searchParams.get('id_token_hint'));
    } finally {
      relay.heal();
    }
    let status = 0;
    for (let i = 0; i < 60 && status !== 200; i++) {
      status = (await me(a, cookie)).status;
      if (status !== 200) await sleep(100);
    }
    assert.equal(status, 200, 'the same cookie works again');
    assert.equal((await me(b.url, cookie)).status, 200);
    assert.equal((await me(b.url, loggedOut)).status, 401, 'the deny-list survived the outage');
    assert.equal((await get(`${a}/readyz`)).status, 200);
  });
});

describe('Redis store (server-side sessions): LATCH_SESSION_STORE=redis', redisSuiteOptions(), () => {
  let redis: RedisHandle;
  let stack: SecStack;
  let b: Child;
  let inspect: Redis;
  before(async () => {
    redis = await startRedis();
    stack = await startSecStack({
      provider: { accessTokenTtl: 3 },
      env: { LATCH_REDIS_URL: redis.url, LATCH_SESSION_STORE: 'redis', LATCH_REDIS_PREFIX: 'ss:', LATCH_REDIS_TIMEOUT_MS: '500' },
    });
    b = await startChild(stack.env);
    inspect = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    inspect.on('error', () => undefined);
    await inspect.connect();
  });
  after(async () => {
    inspect?.disconnect();
    await b?.stop();
    await stack?.close();
    await redis?.stop();
  });

  it('keeps only a sealed reference in the cookie and the sealed session in Redis', async () => {
    const { cookie, callback } = await signedIn(stack, 2);
    assert.equal(callback.setCookies.filter((c) => /^latch/.test(c) && !/^latch-tx/.test(c) && !/Max-Age=0/.test(c)).length, 1);
    assert.ok(cookie.length < 600, `${cookie.length} bytes`);
    const session = (await stack.bff.app.latch.sites.all[0]!.cookies.read(cookie))!.session;
    const record = await inspect.get(`ss:sess:${session.sid}`);
    assert.ok(record?.startsWith('Fe26.2*'), 'sealed at rest');
    assert.equal(record!.includes(session.at), false);
    assert.equal((await me(b.url, cookie)).status, 200);
  });

  it('ends the session for both instances on logout, and deletes it from Redis', async () => {
    const { cookie } = await signedIn(stack);
    const sid = (await stack.bff.app.latch.sites.all[0]!.cookies.read(cookie))!.session.sid;
    await post(`${b.url}/logout`, { cookie, origin: SITE, 'latch-csrf': '1' });
    assert.equal((await me(stack.bffUrl, cookie)).status, 401);
    assert.equal(await inspect.exists(`ss:sess:${sid}`), 0);
  });

  it('makes one refresh for 50 concurrent expired-token requests across both', async () => {
    const { cookie } = await signedIn(stack);
    await sleep(1600);
    stack.provider.resetCounts();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => me(i % 2 ? b.url : stack.bffUrl, cookie)));
    assert.deepEqual(answers.map((r) => r.status), Array(50).fill(200));
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1);
  });

  it('answers 503 while Redis is down, and 401 (not 500) when it comes back empty: server-side sessions need a persistent Redis', async () => {
    const { cookie } = await signedIn(stack);
    redis.kill();
    await sleep(100);
    for (const url of [stack.bffUrl, b.url]) {
      const res = await me(url, cookie);
      assert.equal(res.status, 503);
      assert.equal(errorCode(res), 'LATCH_STORE_UNAVAILABLE');
    }
    await redis.restart();
    let status = 503;
    for (let i = 0; i < 60 && status === 503; i++) {
      status = (await me(stack.bffUrl, cookie)).status;
      if (status === 503) await sleep(100);
    }
    assert.equal(status, 401);
    assert.equal((await me(b.url, cookie)).status, 401);
  });
});

/**
 * The provider's token endpoint behind a proxy that can hold the next refresh-token grant until the
 * test releases it (the BFF is then inside its refresh, the provider not yet asked).
 */
async function startHoldingTokenEndpoint(): Promise<{
  url: string;
  upstream: string;
  holdNextRefresh(): { arrived: Promise<void>; release(): void };
  close(): Promise<void>;
}> {
  let hold: { arrived(): void; released: Promise<void> } | undefined;
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const state = {
    url: '',
    upstream: '',
    holdNextRefresh() {
      let arrived!: () => void;
      let release!: () => void;
      const arrival = new Promise<void>((resolve) => (arrived = resolve));
      hold = { arrived, released: new Promise<void>((resolve) => (release = resolve)) };
      return { arrived: arrival, release };
    },
    close: () => server.close(),
  };
  const server: Listening = await listen((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const current = hold;
      if (current && new URLSearchParams(body.toString('utf8')).get('grant_type') === 'refresh_token') {
        hold = undefined;
        current.arrived();
        await current.released;
      }
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'accept']) if (req.headers[name]) headers[name] = String(req.headers[name]);
      const upstream = await fetch(state.upstream, { method: 'POST', headers, body: new Uint8Array(body) });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    })();
  });
  state.url = `${server.url}/token`;
  return state;
}

/** Asks `url` until it answers something other than 503 (Redis clients reconnect within about a second). */
async function untilServed(url: string, cookie: string, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await me(url, cookie);
    if (res.status !== 503 || Date.now() > deadline) return res;
    await sleep(50);
  }
}

describe('a Redis outage in the middle of a refresh: three instances, server-side sessions', redisSuiteOptions(), () => {
  let redis: RedisHandle;
  let token: Awaited<ReturnType<typeof startHoldingTokenEndpoint>>;
  let stack: SecStack;
  let b: Child;
  let c: Child;
  before(async () => {
    // A crash that keeps what Redis acknowledged (the append-only file, fsynced per write): the session
    // record and the refresh lock survive, the writes that reach a dead Redis do not. (A SIGSTOP would
    // model a hang instead: its open connections deliver late what the BFF gave up on, hiding the loss.)
    redis = await startRedis({ persist: true });
    token = await startHoldingTokenEndpoint();
    stack = await startSecStack({
      env: {
        LATCH_REDIS_URL: redis.url, LATCH_SESSION_STORE: 'redis', LATCH_REDIS_PREFIX: 'outage:', LATCH_REDIS_TIMEOUT_MS: '300',
        LATCH_TOKEN_ENDPOINT: token.url,
      },
    });
    token.upstream = `${stack.provider.issuer}/token`;
    [b, c] = await Promise.all([startChild(stack.env), startChild(stack.env)]);
  });
  after(async () => {
    await Promise.all([b?.stop(), c?.stop()]);
    await stack?.close();
    await token?.close();
    await redis?.stop();
  });

  /** The session's access token made stale in its record, as time would make it (tokens unchanged). */
  async function expireAccessToken(cookie: string) {
    const cookies = stack.bff.app.latch.sites.all[0]!.cookies;
    const { session } = (await cookies.read(cookie))!;
    await cookies.write({ ...session, atExp: Date.now() - 1000 }); // server-side: writes the record
  }

  /**
   * A refresh on A during which Redis goes away (`stop`, just before the provider answers with rotated
   * tokens) and comes back (`start`); then the session on every instance, and its next refresh.
   */
  async function refreshThroughOutage(stop: () => void, start: () => Promise<void>) {
    const { cookie } = await signedIn(stack);
    const instances = [stack.bffUrl, b.url, c.url];
    for (const url of instances) assert.equal((await me(url, cookie)).status, 200);
    await expireAccessToken(cookie);
    stack.provider.resetCounts();

    // A refreshes; while the provider's answer (rotating the refresh token) is on its way, Redis dies.
    const held = token.holdNextRefresh();
    const during = me(stack.bffUrl, cookie);
    await held.arrived;
    stop();
    let started = false;
    try {
      await sleep(50);
      held.release();
      const refused = await during;
      assert.equal(refused.status, 503, refused.text);
      assert.equal(errorCode(refused), 'LATCH_STORE_UNAVAILABLE');
      assert.equal(stack.bff.app.latch.refresher.unstored, 1, 'the new tokens are held in memory, not dropped');
      for (const url of [b.url, c.url]) assert.equal((await me(url, cookie)).status, 503);
      started = true;
      await start();
    } finally {
      if (!started) await start();
    }
    // The other instances first: they read the record as it was (the old refresh token).
    const answers = [];
    for (const url of [b.url, c.url, stack.bffUrl]) answers.push(await untilServed(url, cookie));
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200], answers.map((r) => `${r.status} ${errorCode(r)}`).join(', '));
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1, 'one refresh: the spent refresh token was never used again');
    // A tries again every 250 ms (a write that timed out may also land late: both store the same).
    for (const until = Date.now() + 3000; stack.bff.app.latch.refresher.unstored > 0 && Date.now() < until; ) await sleep(50);
    assert.equal(stack.bff.app.latch.refresher.unstored, 0, 'stored once Redis was back');

    // The record now holds the rotated refresh token: the next refresh, on another instance, works.
    await expireAccessToken(cookie);
    assert.equal((await me(c.url, cookie)).status, 200);
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 2);
    for (const url of instances) assert.equal((await me(url, cookie)).status, 200);
  }

  it('keeps the rotated tokens of a refresh when Redis crashes mid-way: every instance serves the session after, and the provider saw one refresh', () =>
    // Back with everything it acknowledged: the old session record, A's lock.
    refreshThroughOutage(() => redis.kill(), () => redis.restart()));

  it('keeps them too when Redis hangs mid-way (SIGSTOP), and the writes it was sent meanwhile land late', () =>
    refreshThroughOutage(() => redis.pause(), async () => redis.resume()));

  it('logs an outage once when it starts, a count at most every 5 s, once when it ends: never a line per request', async () => {
    const { cookie } = await signedIn(stack);
    const from = stack.bff.logs.length;
    redis.pause(); // a hang this time: connections stay open, every command times out
    let refused = 0;
    const until = Date.now() + 5600;
    try {
      while (Date.now() < until) {
        const res = await me(stack.bffUrl, cookie);
        if (res.status === 503) refused++;
      }
    } finally {
      redis.resume();
    }
    assert.equal((await untilServed(stack.bffUrl, cookie)).status, 200);
    const lines = stack.bff.logs.slice(from).map((l) => JSON.parse(l) as { level: number; event?: string; code?: string; failed?: number; msg: string });
    const loud = lines.filter((l) => l.level >= 40);
    assert.ok(refused >= 8, `${refused} requests refused`);
    assert.deepEqual(loud.map((l) => l.event), ['store-outage', 'store-outage'], loud.map((l) => l.msg).join('\n'));
    assert.ok(loud.every((l) => l.level === 50));
    assert.equal(loud[1]!.failed! + 1 >= refused - 2, true, `the summary counts the failures: ${loud[1]!.failed} of ${refused}`);
    const end = lines.filter((l) => l.event === 'store-recovered');
    assert.equal(end.length, 1);
    assert.equal(end[0]!.level, 30);
    assert.ok(end[0]!.failed! >= refused, `${end[0]!.failed} failed commands, ${refused} refused requests`);
    assert.equal(lines.filter((l) => l.code === 'LATCH_STORE_UNAVAILABLE' && l.level > 20).length, 0, 'each refused request at debug only');
  });
});
