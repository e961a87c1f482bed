/**
 * The session layer in its two halves, as plain objects (no HTTP, no provider): `Sessions`, the
 * application's (lifetimes, deny-list, records, the rule that the same cookie opens to the same
 * frozen object), `SessionCookies`, one site's (chunks, clearing, transactions), and
 * `RequestSession`, what /me and the proxy do with a request's session.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatchError } from '../../../bff/errors.ts';
import type { Provider, RefreshResult } from '../../../bff/providers/provider.ts';
import { SessionRefresher } from '../../../bff/session/refresh.ts';
import { RequestSession } from '../../../bff/session/request-session.ts';
import { SessionCookies, siteCookies } from '../../../bff/session/session-cookies.ts';
import type { Session } from '../../../bff/session/session.ts';
import { IDLE_RENEW_FRACTION, Sessions, type SessionsOptions } from '../../../bff/session/sessions.ts';
import { MemoryStore } from '../../../bff/session/stores/memory.ts';
import { secret, session } from './support.ts';


/** Set-Cookie values as the Cookie header a browser sends back (cleared cookies left out). */
const header = (setCookies: string[]) => setCookies.map((c) => c.split(';')[0]).filter((p) => !p!.endsWith('=')).join('; ');

/** One site's cookies (plain http unless `secure`) over new sessions. */
function cookiesFor(options: Partial<SessionsOptions> = {}, secure = false): SessionCookies {
  return new SessionCookies(new Sessions({ secrets: [secret()], maxAge: 3600, ...options }), { secure });
}

describe('SessionCookies', () => {
  it('round-trips a session, chunked when large, and clears every chunk', async () => {
    const m = cookiesFor({}, true);
    const big = session({ user: { sub: 'u1', groups: Array.from({ length: 200 }, (_, i) => `group-${i}-${'y'.repeat(10)}`) } });
    const set = await m.write(big);
    assert.ok(set.length >= 2);
    assert.ok(set.every((c) => c.startsWith('__Host-latch') && /Secure/.test(c) && Buffer.byteLength(c) < 4096));
    const read = await m.read(header(set));
    assert.deepEqual(read?.session.user, big.user);
    const cleared = m.clear('__Host-latch.7=x').map((c) => c.split('=')[0]);
    assert.deepEqual(cleared, ['__Host-latch', '__Host-latch.1', '__Host-latch.2', '__Host-latch.7']);
  });

  it('clears chunks a smaller session no longer uses', async () => {
    const m = cookiesFor();
    const set = await m.write(session(), { cookieHeader: 'latch=3.a; latch.1=b; latch.2=c' });
    assert.deepEqual(set.map((c) => c.split('=')[0]), ['latch', 'latch.1', 'latch.2']);
    assert.match(set[1]!, /Max-Age=0/);
  });

  it('consumes a transaction on first read', async () => {
    const m = cookiesFor();
    const tx = { state: 's'.repeat(43), nonce: 'n', codeVerifier: 'v', returnTo: 'https://a.example/', mode: 'redirect' as const, createdAt: Date.now() };
    const cookie = (await m.writeTransaction(tx)).at(-1)!.split(';')[0]!;
    assert.ok(await m.readTransaction(cookie, tx.state));
    assert.equal(await m.readTransaction(cookie, tx.state), null);
  });

  it('gives each site its own cookie names over the one Sessions, and the hand-off its partitioned cookie', async () => {
    const sessions = new Sessions({ secrets: [secret()], maxAge: 3600 });
    const root = siteCookies(sessions, new URL('https://auth.shop.example/'));
    const mounted = siteCookies(sessions, new URL('https://shop.example/latch/'));
    const dev = siteCookies(sessions, new URL('http://localhost:8787'));
    const partitioned = siteCookies(sessions, new URL('https://auth.shop.example/'), { partitioned: true });
    assert.deepEqual([root.name, mounted.name, dev.name, partitioned.name], ['__Host-latch', '__Secure-latch', 'latch', '__Host-latch-p']);
    const s = session();
    const [set] = await mounted.write(s);
    assert.match(set!, /; Path=\/latch; HttpOnly; Secure; SameSite=Lax$/);
    assert.match((await partitioned.write(s))[0]!, /; Path=\/; HttpOnly; Secure; Partitioned; SameSite=None$/);
    // The same session, sealed for one site, opens through another's cookie of its name: one sealer.
    assert.equal((await root.read(`__Host-latch=${set!.split(';')[0]!.split('=')[1]}`))?.session.sid, s.sid);
  });
});

describe('Sessions', () => {
  it('marks a session stale for idle renewal only after a tenth of the idle window', async () => {
    const m = cookiesFor({ idleTimeout: 1000 });
    const s = session();
    const now = Date.now();
    const fresh = await m.read(header(await m.write(s, { now })), now + 1000 * 1000 * IDLE_RENEW_FRACTION - 1000);
    assert.equal(fresh?.stale, false);
    const due = await m.read(header(await m.write(s, { now })), now + 1000 * 1000 * IDLE_RENEW_FRACTION + 1000);
    assert.equal(due?.stale, true);
    assert.equal(await m.read(header(await m.write(s, { now })), now + 1001 * 1000), null, 'idle end passed');
  });

  it('refuses a session on the deny-list by id, by subject before a time, and by provider session', async () => {
    const m = cookiesFor();
    const { sessions } = m;
    const s1 = session({ psid: 'op-1' });
    const c1 = header(await m.write(s1));
    assert.ok(await m.read(c1));
    await sessions.end(s1);
    assert.equal(await m.read(c1), null);

    const before = session({ iat: Date.now() - 10_000 });
    const laterIat = Date.now() + 5000; // created after the logout (and the clock-skew allowance)
    const later = session({ iat: laterIat });
    await sessions.endAllFor('u1', Date.now());
    assert.equal(await m.read(header(await m.write(before))), null);
    assert.ok(await m.read(header(await m.write(later))));

    const p = session({ psid: 'op-2', user: { sub: 'u2' }, iat: Date.now() - 5000 });
    await sessions.endProviderSession('op-2');
    assert.equal(await m.read(header(await m.write(p))), null);
  });

  it('reports a store failure as 503, not as an anonymous request', async () => {
    const store = new MemoryStore();
    const m = cookiesFor({ store });
    const c = header(await m.write(session()));
    // As a remote store that cannot be reached: no synchronous answer, and mget() rejects.
    Object.assign(store, {
      mgetNow: undefined,
      mget: async () => {
        throw new LatchError('LATCH_STORE_UNAVAILABLE', { detail: 'down' });
      },
    });
    await assert.rejects(m.read(c), (err: LatchError) => err.status === 503);
  });

  for (const serverSide of [false, true]) {
    it(`opens the same cookie to the same frozen session object, and a new one once it changes (${serverSide ? 'server-side' : 'cookie'} sessions)`, async () => {
      const m = cookiesFor({ serverSide });
      const cookie = header(await m.write(session()));
      const first = (await m.read(cookie))!.session;
      const second = (await m.read(cookie))!.session;
      assert.equal(second, first, 'two reads of one cookie: the identical object');
      assert.ok(Object.isFrozen(first) && Object.isFrozen(first.user), 'deeply frozen: no reader can change what the others see');
      assert.throws(() => {
        (first as { at: string }).at = 'changed';
      }, TypeError);
      const touched = m.sessions.touch(first);
      assert.notEqual(touched, first, 'a renewed session is a new object');
      const again = header(await m.write(touched));
      const third = (await m.read(again))!.session;
      assert.notEqual(third, first, 'its cookie opens to another object');
      assert.equal((await m.read(again))!.session, third);
    });
  }

  it('keeps a record at most as long as the session, and deletes it when the session ends', async () => {
    const store = new MemoryStore();
    const m = cookiesFor({ store, serverSide: true });
    const s = session();
    const cookie = header(await m.write(s));
    assert.ok(await store.get(`sess:${s.sid}`));
    assert.ok(cookie.length < 600, 'the cookie holds a sealed reference only');
    await m.sessions.end(s);
    assert.equal(await store.get(`sess:${s.sid}`), null);
    assert.equal(await m.read(cookie), null);
  });
});

describe('RequestSession (GET /me and the API proxy)', () => {
  /** A provider whose refresh gives new tokens, or (with `fail`) refuses the refresh token. */
  function provider(fail = false) {
    let calls = 0;
    const p = {
      kind: 'fake',
      async refresh(rt: string): Promise<RefreshResult> {
        calls++;
        if (fail) throw new LatchError('LATCH_REFRESH_FAILED', { detail: 'invalid_grant' });
        return { tokens: { accessToken: `at-after-${rt}-${calls}`, refreshToken: `${rt}+`, expiresAt: Date.now() + 3600_000 } };
      },
    } as unknown as Provider;
    return { provider: p, calls: () => calls };
  }

  async function requestFor(s: Session, fail = false) {
    const m = cookiesFor();
    const cookie = header(await m.write(s));
    const read = (await m.read(cookie))!;
    const { provider: p, calls } = provider(fail);
    const refresher = new SessionRefresher(p, { store: m.sessions.store, sealer: m.sessions.sealer });
    const set: string[][] = [];
    return { m, cookie, read, calls, set, live: new RequestSession(read, m, refresher, cookie, (values) => set.push(values)) };
  }

  it('answers a fresh session as it was read, writing nothing', async () => {
    const { read, live, set, calls } = await requestFor(session());
    assert.equal(await live.fresh(), read.session, 'the very object the read gave');
    await live.save();
    assert.equal(live.session, read.session);
    assert.deepEqual(set, []);
    assert.equal(calls(), 0);
  });

  it('refreshes a due token once, into a new object, and writes it back', async () => {
    const { m, read, live, set, calls } = await requestFor(session({ atExp: Date.now() - 1 }));
    const fresh = await live.fresh();
    assert.notEqual(fresh, read.session, 'a refreshed session is a new object');
    assert.equal(fresh.at, 'at-after-rt-1-1');
    assert.equal(live.refreshed, true);
    await live.save();
    assert.equal(set.length, 1);
    const written = (await m.read(header(set[0]!)))!.session;
    assert.equal(written.at, 'at-after-rt-1-1');
    assert.equal(calls(), 1);
  });

  it('forces a renewal when asked (an upstream 401), even for a good token', async () => {
    const { live, calls } = await requestFor(session());
    assert.equal(live.refreshed, false);
    assert.equal((await live.fresh(true)).at, 'at-after-rt-1-1');
    assert.equal(live.refreshed, true);
    assert.equal(calls(), 1);
  });

  it('clears the cookies of a session the refresh ended, and passes LATCH_SESSION_EXPIRED on', async () => {
    const { live, set } = await requestFor(session({ atExp: Date.now() - 1 }), true);
    await assert.rejects(live.fresh(), (err: LatchError) => err.code === 'LATCH_SESSION_EXPIRED');
    assert.equal(set.length, 1);
    assert.ok(set[0]!.every((c) => /Max-Age=0/.test(c)), set[0]!.join(' | '));
  });

  it('renews a session due for idle renewal on save, into a new object', async () => {
    const m = cookiesFor({ idleTimeout: 1000 });
    const s = session({ iat: Date.now() - 200_000 });
    const cookie = header(await m.write(s, { now: Date.now() - 200_000 }));
    const read = (await m.read(cookie))!;
    assert.equal(read.stale, true);
    const set: string[][] = [];
    const live = new RequestSession(read, m, new SessionRefresher(provider().provider), cookie, (values) => set.push(values));
    await live.fresh();
    await live.save();
    assert.notEqual(live.session, read.session);
    assert.ok(live.session.seen! > read.session.seen!);
    assert.equal(set.length, 1);
  });
});
