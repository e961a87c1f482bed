/**
 * Session cookies: chunking of large sessions, key rotation, absolute and idle lifetimes, and
 * faults (tampered, truncated, foreign or junk cookies; oversized headers). Lifetimes are tested
 * without waiting: a session read from a real sign-in is written back by the app's own session
 * manager as if at an earlier time (the deployment's secret seals it), which is what a cookie of
 * that age looks like on the wire.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as Iron from '@hapi/iron';
import { loadConfig } from '../../bff/config.ts';
import { Sealer } from '../../bff/session/sealer.ts';
import { startServer, type ServerHandle } from '../../bff/server.ts';
import { HttpClient, signIn } from '../helpers/http.ts';
import {
  assertNoSessionSet,
  assertRefused,
  errorCode,
  get,
  post,
  quickCallback,
  sessionCookieHeader,
  sessionCookiesSet,
  signedIn,
  SITE,
  startSecStack,
  type SecStack,
} from './support.ts';

const me = (url: string, cookie: string, headers: Record<string, string> = {}) => get(`${url}/me`, { cookie, ...headers });

/** The iron password id a cookie (or its first chunk) was sealed with. */
function sealId(cookieHeader: string): string {
  const first = cookieHeader.split('; ').find((c) => c.startsWith('latch='))!.slice('latch='.length).replace(/^\d\./, '');
  return first.split('*')[1]!;
}

describe('session cookies', () => {
  let stack: SecStack;
  let cookie: string;
  before(async () => {
    stack = await startSecStack();
    ({ cookie } = await signedIn(stack));
  });
  after(() => stack.close());

  describe('size', () => {
    it('splits a large session (many groups) into numbered cookies under 4 KB each, and joins them on read', async () => {
      const { callback, cookie: big } = await signedIn(stack, 2);
      const set = sessionCookiesSet(callback.setCookies);
      assert.ok(set.length >= 2, `${set.length} session cookies`);
      assert.deepEqual(set.map((c) => c.split('=')[0]), ['latch', 'latch.1', 'latch.2'].slice(0, set.length));
      for (const c of set) {
        assert.ok(Buffer.byteLength(c) < 4096, `${Buffer.byteLength(c)} bytes`);
        assert.match(c, /HttpOnly/i);
        assert.match(c, /SameSite=Lax/i);
      }
      const res = await me(stack.bffUrl, big);
      assert.equal(res.status, 200);
      assert.equal(res.json<{ user: { groups: string[] } }>().user.groups.length, 70);
    });

    it('clears every chunk on logout', async () => {
      const { client } = await signedIn(stack, 2);
      const out = await client.request(`${stack.bffUrl}/logout`, { method: 'POST', headers: { origin: SITE, 'latch-csrf': '1' } });
      assert.equal(out.status, 200);
      const cleared = out.setCookies.filter((c) => /^latch(\.\d)?=;/.test(c) && /Max-Age=0/i.test(c)).map((c) => c.split('=')[0]);
      for (const name of ['latch', 'latch.1', 'latch.2']) assert.ok(cleared.includes(name), `${name} cleared (${cleared.join(', ')})`);
      // The jar (per host, so the provider's cookies are there too) keeps no session cookie.
      assert.doesNotMatch(await client.jar.getCookieString(stack.bffUrl), /(^|; )latch(\.\d)?=/);
    });

    it('answers a session too large even for three cookies with 502 LATCH_SESSION_TOO_LARGE, never a 500', async () => {
      const client = new HttpClient();
      const user = stack.users[3]!;
      const { callbackResult } = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/`)}`, user);
      assert.ok(callbackResult);
      assertRefused(callbackResult, 502, 'LATCH_SESSION_TOO_LARGE', 'huge session');
    });

    it('keeps a huge session server-side with LATCH_SESSION_STORE=memory: one small cookie, no token in it', async () => {
      const serverSide = await stack.addBff({ LATCH_SESSION_STORE: 'memory' });
      const source = await stack.bff.app.latch.sites.all[0]!.cookies.read(cookie);
      assert.ok(source);
      const groups = Array.from({ length: 400 }, (_, i) => `enterprise-directory-security-group-${i}`);
      const set = await serverSide.app.latch.sites.all[0]!.cookies.write({ ...source.session, user: { ...source.session.user, groups } });
      assert.equal(set.length, 1);
      assert.ok(Buffer.byteLength(set[0]!) < 600, `${Buffer.byteLength(set[0]!)} bytes`);
      const res = await me(serverSide.url, set[0]!.split(';')[0]!);
      assert.equal(res.status, 200);
      assert.equal(res.json<{ user: { groups: string[] } }>().user.groups.length, 400);
      // The cookie-mode BFF cannot open a reference, nor the reference BFF a full cookie.
      assertRefused(await me(stack.bffUrl, set[0]!.split(';')[0]!), 401, 'LATCH_UNAUTHENTICATED', 'reference in cookie mode');
      assertRefused(await me(serverSide.url, cookie), 401, 'LATCH_UNAUTHENTICATED', 'full cookie in server-side mode');
    });
  });

  describe('keys', () => {
    it('opens a cookie sealed with an older key and reseals it with the newest on the way out', async () => {
      const newest = randomBytes(32).toString('base64url');
      const rotated = await stack.addBff({ LATCH_COOKIE_SECRET: `${newest},${stack.cookieSecret}` });
      assert.equal(sealId(cookie), Sealer.passwordId(stack.cookieSecret));
      const res = await me(rotated.url, cookie);
      assert.equal(res.status, 200);
      const resealed = sessionCookieHeader(res.setCookies);
      assert.ok(resealed, 'resealed');
      assert.equal(sealId(resealed), Sealer.passwordId(newest));
      // Once the old key is removed, only the resealed cookie opens.
      const onlyNew = await stack.addBff({ LATCH_COOKIE_SECRET: newest });
      assert.equal((await me(onlyNew.url, resealed)).status, 200);
      assertRefused(await me(onlyNew.url, cookie), 401, 'LATCH_UNAUTHENTICATED', 'removed key');
    });

    it('keeps a cookie from before the keyed password id working: it opens, and is resealed under the keyed id', async () => {
      const { session } = (await stack.bff.app.latch.sites.all[0]!.cookies.read(cookie))!;
      assert.equal(sealId(cookie), Sealer.passwordId(stack.cookieSecret));
      assert.notEqual(sealId(cookie), Sealer.legacyPasswordId(stack.cookieSecret), 'the id is no SHA-256 fingerprint of the secret');
      // What this deployment wrote before: the same session, under the SHA-256 id.
      const legacy = `${await Iron.seal(session, { id: Sealer.legacyPasswordId(stack.cookieSecret), secret: stack.cookieSecret }, { ...Iron.defaults, ttl: 3600_000 })}~2`;
      const res = await me(stack.bffUrl, `latch=${legacy}`);
      assert.equal(res.status, 200, res.text);
      const resealed = sessionCookieHeader(res.setCookies);
      assert.ok(resealed, 'resealed');
      assert.equal(sealId(resealed), Sealer.passwordId(stack.cookieSecret));
      assert.equal((await me(stack.bffUrl, resealed)).status, 200);
    });

    it('does not reseal a cookie already sealed with the newest key on every request', async () => {
      const res = await me(stack.bffUrl, cookie);
      assert.equal(res.status, 200);
      assert.deepEqual(sessionCookiesSet(res.setCookies), []);
    });

    it('answers 401 to a cookie from another deployment (another secret)', async () => {
      const other = await stack.addBff({ LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url') });
      assertRefused(await me(other.url, cookie), 401, 'LATCH_UNAUTHENTICATED', 'other deployment');
    });
  });

  describe('lifetimes', () => {
    const MIN = 60_000;
    const rewrite = async (patch: (s: Record<string, unknown>) => Record<string, unknown>, at: number) => {
      const read = await stack.bff.app.latch.sites.all[0]!.cookies.read(cookie);
      assert.ok(read);
      const set = await stack.bff.app.latch.sites.all[0]!.cookies.write(patch({ ...read.session }) as never, { now: at });
      return sessionCookieHeader(set);
    };

    it('gives every sign-in a new session id', async () => {
      const { client } = await signedIn(stack);
      const a = await stack.bff.app.latch.sites.all[0]!.cookies.read(await client.jar.getCookieString(stack.bffUrl));
      const again = await quickCallback(client, stack.bffUrl);
      const b = await stack.bff.app.latch.sites.all[0]!.cookies.read(sessionCookieHeader(again.setCookies));
      assert.ok(a && b);
      assert.notEqual(a.session.sid, b.session.sid);
    });

    it('reports expiresAt as the idle end (30 min by default) when it comes before the absolute end', async () => {
      const res = await me(stack.bffUrl, cookie);
      const { expiresAt } = res.json<{ expiresAt: number }>();
      const read = await stack.bff.app.latch.sites.all[0]!.cookies.read(cookie);
      assert.ok(expiresAt <= Date.now() + 30 * MIN && expiresAt > Date.now() + 25 * MIN, `${expiresAt - Date.now()} ms`);
      assert.ok(expiresAt < read!.session.exp);
    });

    it('reports expiresAt as the absolute end when that comes first', async () => {
      const exp = Date.now() + 5 * MIN;
      const near = await rewrite((s) => ({ ...s, exp }), Date.now());
      const res = await me(stack.bffUrl, near);
      assert.equal(res.json<{ expiresAt: number }>().expiresAt, exp);
    });

    it('answers 401 after the absolute lifetime, even to an active session', async () => {
      const ended = await rewrite((s) => ({ ...s, exp: Date.now() - 1000 }), Date.now());
      assertRefused(await me(stack.bffUrl, ended), 401, 'LATCH_UNAUTHENTICATED', 'absolute');
    });

    it('answers 401 after the idle timeout', async () => {
      const idle = await rewrite((s) => s, Date.now() - 31 * MIN);
      assertRefused(await me(stack.bffUrl, idle), 401, 'LATCH_UNAUTHENTICATED', 'idle');
    });

    it('renews the idle window without resealing while less than a tenth of it has passed', async () => {
      const recent = await rewrite((s) => s, Date.now() - 2 * MIN);
      const res = await me(stack.bffUrl, recent);
      assert.equal(res.status, 200);
      assert.deepEqual(sessionCookiesSet(res.setCookies), [], 'no reseal');
      const { expiresAt } = res.json<{ expiresAt: number }>();
      assert.ok(Math.abs(expiresAt - (Date.now() + 28 * MIN)) < 5000);
    });

    it('reseals, moving the idle end, once a tenth of the idle window has passed', async () => {
      const older = await rewrite((s) => s, Date.now() - 4 * MIN);
      const res = await me(stack.bffUrl, older);
      assert.equal(res.status, 200);
      assert.ok(sessionCookiesSet(res.setCookies).length >= 1, 'resealed');
      const { expiresAt } = res.json<{ expiresAt: number }>();
      assert.ok(Math.abs(expiresAt - (Date.now() + 30 * MIN)) < 5000);
    });

    it('honours LATCH_SESSION_IDLE_TIMEOUT', async () => {
      const short = await stack.addBff({ LATCH_SESSION_IDLE_TIMEOUT: '120' });
      const res = await me(short.url, cookie);
      // The cookie was last renewed at sign-in, moments ago: its idle end is two minutes after that.
      assert.equal(res.status, 200);
      assert.ok(res.json<{ expiresAt: number }>().expiresAt <= Date.now() + 2 * MIN);
    });
  });

  describe('faults: never a 500, the process stays up', () => {
    const value = () => cookie.split('; ').find((c) => c.startsWith('latch='))!.slice('latch='.length);
    const cases: Array<[string, () => string]> = [
      ['a bit flip', () => {
        const v = value();
        const i = Math.floor(v.length / 2);
        return `latch=${v.slice(0, i)}${v[i] === 'A' ? 'B' : 'A'}${v.slice(i + 1)}`;
      }],
      ['a truncated cookie', () => `latch=${value().slice(0, value().length - 7)}`],
      ['garbage', () => 'latch=garbage'],
      ['an iron-looking forgery', () => 'latch=Fe26.2**x*y*z*1*s*h~2'],
      ['broken percent-encoding', () => 'latch=%E0%A4%A'],
      ['a chunk count with missing chunks', () => `latch=3.${value()}`],
      ['a chunk count above the maximum', () => `latch=9.${value()}; latch.1=x; latch.2=y`],
      ['chunks in the wrong order', () => {
        const v = value();
        return `latch=2.${v.slice(100)}; latch.1=${v.slice(0, 100)}`;
      }],
      ['an empty value', () => 'latch='],
      ['fifty junk cookies', () => Array.from({ length: 50 }, (_, i) => `junk${i}=${randomBytes(40).toString('base64')}`).join('; ')],
      ['fifty junk cookies named like ours', () => Array.from({ length: 50 }, (_, i) => `${i % 2 ? 'latch.' + i : 'latch-tx-' + i}=${randomBytes(30).toString('hex')}`).join('; ')],
    ];
    for (const [name, make] of cases) {
      it(`answers 401 LATCH_UNAUTHENTICATED to ${name}`, async () => {
        assertRefused(await me(stack.bffUrl, make()), 401, 'LATCH_UNAUTHENTICATED', name);
        // Logout with it: cleared, nothing to end at the server, still no 500.
        const out = await post(`${stack.bffUrl}/logout`, { cookie: make(), origin: SITE, 'latch-csrf': '1' });
        assert.equal(out.status, 200, `${name} /logout: ${out.status}`);
        assert.equal(out.json<{ logoutUrl: unknown }>().logoutUrl, null);
        assertNoSessionSet(out, `${name} /logout`);
      });
    }

    it('answers 401 to a transaction cookie presented as the session cookie (same key, other purpose)', async () => {
      const start = await get(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/`)}`);
      const tx = start.setCookies.find((c) => c.startsWith('latch-tx-'))!.split(';')[0]!;
      assertRefused(await me(stack.bffUrl, `latch=${tx.slice(tx.indexOf('=') + 1)}`), 401, 'LATCH_UNAUTHENTICATED', 'tx as session');
    });

    it('still serves the real session among fifty junk cookies', async () => {
      const junk = Array.from({ length: 50 }, (_, i) => `junk${i}=${randomBytes(40).toString('base64url')}`).join('; ');
      assert.equal((await me(stack.bffUrl, `${junk}; ${cookie}`)).status, 200);
    });

    it('answers a 16 KB Cookie header with 431 (Node\'s own, before the app) and keeps serving', async () => {
      const res = await fetch(`${stack.bffUrl}/me`, { headers: { cookie: `big=${'x'.repeat(16 * 1024)}` } });
      assert.equal(res.status, 431);
      assert.equal((await me(stack.bffUrl, cookie)).status, 200, 'the process is still up');
    });

    it('never hangs or crashes on a raw request with a malformed Cookie header', async () => {
      const port = Number(new URL(stack.bffUrl).port);
      const answer = await new Promise<string>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.write(`GET /me HTTP/1.1\r\nHost: x\r\nCookie: latch=\u00ff\u00fe; ;;; =; latch.1\r\nConnection: close\r\n\r\n`, 'latin1');
        });
        let data = '';
        socket.on('data', (d) => (data += d.toString('latin1')));
        socket.on('end', () => resolve(data));
        socket.on('error', () => resolve(data));
      });
      assert.match(answer, /^HTTP\/1\.1 (401|400)/);
      assert.equal((await me(stack.bffUrl, cookie)).status, 200);
    });
  });
});

describe('transaction cookies: no page can pile them up (issue 13)', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack();
  });
  after(() => stack.close());

  const txNames = async (client: HttpClient) =>
    (await client.jar.getCookies(stack.bffUrl)).map((c) => c.key).filter((name) => name.startsWith('latch-tx-'));
  const longReturnTo = (extra = 2000) => `${SITE}/deep/page?q=${'a'.repeat(extra)}`;

  it('keeps at most three in a browser: each /login past the third drops the oldest, by its name', async () => {
    const client = new HttpClient();
    const set: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await client.request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(longReturnTo())}`);
      assert.equal(res.status, 302);
      set.push(res.setCookies.find((c) => /^latch-tx-[^=]+=[^;]/.test(c))!.split('=')[0]!);
      // The one before the last is still there: a second tab's sign-in is not dropped by this one.
      if (i > 0) assert.ok((await txNames(client)).includes(set[i - 1]!));
    }
    assert.deepEqual((await txNames(client)).sort(), set.slice(-3).sort(), 'the three newest remain');
    assert.deepEqual([...set].sort(), set, 'names sort by creation time');
  });

  it('keeps a returnTo of 2,000 characters out of the cookie: about 2 KB, and back to the same page without its query', async () => {
    const user = stack.users[0]!;
    const login = await new HttpClient().request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(longReturnTo())}`);
    const tx = login.setCookies.find((c) => c.startsWith('latch-tx-'))!.split(';')[0]!;
    assert.ok(tx.length < 2200, `the transaction cookie is ${tx.length} bytes`);
    const { finalUrl } = await signIn(new HttpClient(), `${stack.bffUrl}/login?returnTo=${encodeURIComponent(longReturnTo())}`, { login: user.login, password: user.password });
    assert.equal(finalUrl.href, `${SITE}/deep/page`);
    // A returnTo within the bound comes back whole.
    const short = `${SITE}/deep/page?q=${'b'.repeat(500)}#top`;
    const { finalUrl: back } = await signIn(new HttpClient(), `${stack.bffUrl}/login?returnTo=${encodeURIComponent(short)}`, { login: user.login, password: user.password });
    assert.equal(back.href, short);
  });

  it('completes the sign-ins of the two newest of many; the dropped one is refused (start again), never a 500', async () => {
    const client = new HttpClient();
    const user = stack.users[0]!;
    // Signed in at the provider already, so each attempt below comes straight back.
    await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/first`)}`, { login: user.login, password: user.password });
    const starts: string[] = [];
    for (let i = 0; i < 5; i++) starts.push((await client.request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/tab${i}`)}`)).location!);
    for (const i of [4, 3]) {
      const { chain } = await client.follow(starts[i]!, { until: (u) => u.origin === SITE });
      assert.equal(new URL(chain.at(-1)!).pathname, `/tab${i}`);
    }
    const { result } = await client.follow(starts[0]!, { until: (u) => u.origin === SITE });
    assert.equal(result.status, 400);
    assert.equal(errorCode(result), 'LATCH_STATE_MISMATCH');
  });
});

describe('the server entry (bff/server.ts) answers oversized headers itself', () => {
  let handle: ServerHandle;
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack();
    handle = await startServer(loadConfig({ ...stack.env, PORT: '0' }), { logger: (await import('pino')).pino({ level: 'silent' }) });
  });
  after(async () => {
    await handle.shutdown(100);
    await handle.app.latch.sessions.store.close();
    await stack.close();
  });

  const url = () => {
    const address = handle.server.address() as net.AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  };

  it('answers a 16 KB Cookie header with a coded 431 LATCH_HEADERS_TOO_LARGE, CORS included, and keeps serving', async () => {
    const res = await get(`${url()}/me`, { cookie: `big=${'x'.repeat(16 * 1024)}`, origin: SITE });
    assert.equal(res.status, 431);
    assert.equal(errorCode(res), 'LATCH_HEADERS_TOO_LARGE');
    assert.equal(res.headers.get('access-control-allow-origin'), SITE);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assertNoSessionSet(res);
    assert.equal((await get(`${url()}/healthz`)).status, 200);
  });

  it('clears the transaction cookies of a request it refuses for its size, so the next one gets through (never a lock-out)', async () => {
    // Sign-ins started in parallel (each request before the previous answer) are not pruned one by one:
    // nine of them, in one browser, make a Cookie header over 16 KB.
    const browser = new HttpClient();
    for (let i = 0; i < 9; i++) {
      const res = await new HttpClient().request(`${url()}/login?returnTo=${encodeURIComponent(`${SITE}/p?q=${'a'.repeat(950)}`)}`);
      for (const c of res.setCookies) await browser.jar.setCookie(c, url());
    }
    const carried = await browser.jar.getCookieString(url());
    assert.ok(carried.length > 16 * 1024, `${carried.length} bytes of cookies`);
    const refused = await browser.request(`${url()}/me`, { headers: { origin: SITE } });
    assert.equal(refused.status, 431);
    assert.equal(errorCode(refused), 'LATCH_HEADERS_TOO_LARGE');
    const cleared = refused.setCookies.filter((c) => /^latch-tx-[^=]+=;/.test(c) && /Max-Age=0/i.test(c));
    assert.equal(cleared.length, 9, refused.setCookies.join('\n'));
    assert.equal(await browser.jar.getCookieString(url()), '');
    const next = await browser.request(`${url()}/me`, { headers: { origin: SITE } });
    assert.equal(next.status, 401, 'the next request gets through');
    assert.equal(errorCode(next), 'LATCH_UNAUTHENTICATED');
  });

  it('answers an HTML 431 page to an oversized navigation to /login', async () => {
    const res = await get(`${url()}/login`, { cookie: `big=${'x'.repeat(20 * 1024)}` });
    assert.equal(res.status, 431);
    assert.equal(errorCode(res), 'LATCH_HEADERS_TOO_LARGE');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });
});
