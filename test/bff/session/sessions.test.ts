/**
 * `Sessions` (bff/session/sessions.ts), the application's sessions, as a plain object (no HTTP, no
 * provider): lifetimes, the deny-list, records, and the rule that the same cookie opens to the same
 * frozen object. One site's cookies: session-cookies.test.ts; a request's session: request-session.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatchError } from '../../../bff/errors.ts';
import { IDLE_RENEW_FRACTION } from '../../../bff/session/sessions.ts';
import { storeKeys } from '../../../bff/session/store-keys.ts';
import { MemoryStore } from '../../../bff/session/stores/memory.ts';
import { cookiesFor, header, session } from './support.ts';

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

  it('answers a warm cookie at once (openNow), with the same lifetimes and deny-list as open()', async () => {
    const m = cookiesFor({ idleTimeout: 1000 });
    const { sessions } = m;
    const s = session({ psid: 'op-9' });
    const now = Date.now();
    const c = header(await m.write(s, { now }));
    assert.equal(m.readNow(c), undefined, 'a cookie this process never opened: only read() can say');
    assert.equal(m.readNow(''), null, 'no cookie: no session, at once');
    const opened = await m.read(c, now);
    assert.ok(opened);
    const warm = m.readNow(c);
    assert.equal(warm?.session, opened.session, 'the same frozen object as read() gave');
    assert.equal(warm?.stale, false);
    const sealed = c.slice(c.indexOf('=') + 1);
    assert.equal(sessions.openNow(sealed, now + 1000 * 1000 * IDLE_RENEW_FRACTION + 1000)?.stale, true, 'due for idle renewal');
    assert.equal(sessions.openNow(sealed, now + 1001 * 1000), null, 'idle end passed');
    assert.equal(sessions.openNow(sealed, s.exp + 1), null, 'absolute end passed');
    await sessions.endProviderSession('op-9', now + 1);
    assert.equal(m.readNow(c), null, 'ended by its provider session: refused from memory too');
    assert.equal(await m.read(c), null);
    assert.ok(sessions.openNow(sealed, now, { denyList: false }), 'logout while the store is down skips the deny-list');
  });

  it('leaves a store that needs a round trip to open() (openNow gives undefined, never a guess)', async () => {
    const store = new MemoryStore();
    const m = cookiesFor({ store });
    const c = header(await m.write(session()));
    assert.ok(await m.read(c));
    Object.assign(store, { mgetNow: undefined });
    assert.equal(m.readNow(c), undefined);
    const server = cookiesFor({ serverSide: true });
    const r = header(await server.write(session()));
    assert.ok(await server.read(r));
    assert.equal(server.readNow(r), undefined, 'server-side sessions: the record is read from the store');
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
    assert.ok(await store.get(storeKeys.session(s.sid)));
    assert.ok(cookie.length < 600, 'the cookie holds a sealed reference only');
    await m.sessions.end(s);
    assert.equal(await store.get(storeKeys.session(s.sid)), null);
    assert.equal(await m.read(cookie), null);
  });
});
