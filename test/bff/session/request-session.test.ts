/**
 * `RequestSession` (bff/session/request-session.ts), what GET /me and the API proxy do with a
 * request's session, as a plain object: read, refreshed when due or forced, cleared when the refresh
 * ended it, written back once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatchError } from '../../../bff/errors.ts';
import type { Provider, RefreshResult } from '../../../bff/providers/provider.ts';
import { SessionRefresher } from '../../../bff/session/refresh.ts';
import { RequestSession } from '../../../bff/session/request-session.ts';
import type { Session } from '../../../bff/session/session.ts';
import { cookiesFor, header, session } from './support.ts';

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
