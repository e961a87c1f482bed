/**
 * The session layer as plain functions: chunking, the deny-list, the refresher's single flight
 * across "instances" that share a store, the rate limiter and audit hooks. No HTTP, no provider.
 * (The sessions' settings: test/bff/config/sessions.test.ts; Sessions and SessionCookies:
 * test/bff/session/.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createAudit, type AuditEvent } from '../../../bff/audit.ts';
import { LatchError } from '../../../bff/errors.ts';
import { FixedWindowLimiter } from '../../../bff/middleware/rate-limit.ts';
import { RefreshKeptTokens, type Provider, type RefreshResult } from '../../../bff/providers/provider.ts';
import { checkLogoutToken, BACKCHANNEL_LOGOUT_EVENT } from '../../../bff/routes/backchannel.ts';
import { CHUNK_BYTES, joinChunks, MAX_CHUNKS, splitChunks } from '../../../bff/session/cookies.ts';
import { DenyList } from '../../../bff/session/denylist.ts';
import { SessionRefresher } from '../../../bff/session/refresh.ts';
import { Sealer } from '../../../bff/session/sealer.ts';
import { accessTokenStale } from '../../../bff/session/session.ts';
import { MemoryStore } from '../../../bff/session/stores/memory.ts';
import { storeUnavailable } from '../../../bff/session/store.ts';
import { secret, session } from './support.ts';

describe('session cookie chunks', () => {
  it('keeps a short value whole and numbers the parts of a long one', () => {
    assert.deepEqual(splitChunks('Fe26.2*abc'), ['Fe26.2*abc']);
    const long = 'x'.repeat(CHUNK_BYTES * 2 + 10);
    const parts = splitChunks(long)!;
    assert.equal(parts.length, 3);
    assert.ok(parts[0]!.startsWith('3.'));
    assert.equal(joinChunks({ latch: parts[0]!, 'latch.1': parts[1]!, 'latch.2': parts[2]! }, 'latch'), long);
  });

  it('refuses more than MAX_CHUNKS parts, and incomplete or foreign sets on read', () => {
    assert.equal(splitChunks('x'.repeat(CHUNK_BYTES * MAX_CHUNKS + 1)), null);
    assert.equal(joinChunks({ latch: '3.abc', 'latch.1': 'd' }, 'latch'), null);
    assert.equal(joinChunks({ latch: '9.abc' }, 'latch'), null);
    assert.equal(joinChunks({ 'latch.1': 'abc' }, 'latch'), null);
    // A leftover chunk from an earlier, larger session is not glued on.
    assert.equal(joinChunks({ latch: '2.ab', 'latch.1': 'cd', 'latch.2': 'zz' }, 'latch'), 'abcd');
  });
});

describe('Sealer', () => {
  it('reseals only what an older key sealed', async () => {
    const [oldKey, newKey] = [secret(), secret()];
    const sealedOld = await new Sealer([oldKey]).seal({ a: 1 }, 60);
    const rotated = new Sealer([newKey, oldKey]);
    assert.equal(rotated.isStale(sealedOld), true);
    assert.deepEqual(await rotated.unseal(sealedOld), { a: 1 });
    assert.equal(rotated.isStale(await rotated.seal({ a: 1 }, 60)), false);
    assert.equal(await new Sealer([newKey]).unseal(sealedOld), null);
  });
});

describe('DenyList', () => {
  it('keeps the latest time for a subject', async () => {
    const store = new MemoryStore();
    const d = new DenyList(store, { retentionMs: 60_000, skewMs: 0 });
    await d.denySubject('u', 2000);
    await d.denySubject('u', 1000);
    assert.equal(await d.isDenied({ sid: 's', sub: 'u', iat: 1500 }), true);
    assert.equal(await d.isDenied({ sid: 's', sub: 'u', iat: 2500 }), false);
  });
});

describe('SessionRefresher: one refresh across instances that share a store', () => {
  function fakeProvider(delayMs = 50) {
    const calls: string[] = [];
    const provider = {
      kind: 'fake',
      async refresh(rt: string): Promise<RefreshResult> {
        calls.push(rt);
        await new Promise((r) => setTimeout(r, delayMs));
        return { tokens: { accessToken: `at-after-${rt}`, refreshToken: `${rt}+`, expiresAt: Date.now() + 3600_000 } };
      },
    } as unknown as Provider;
    return { provider, calls };
  }

  it('makes one call for concurrent requests on two refreshers (instances) with one store', async () => {
    const store = new MemoryStore();
    const sealer = new Sealer([secret()]);
    const { provider, calls } = fakeProvider();
    const a = new SessionRefresher(provider, { store, sealer, pollMs: 5 });
    const b = new SessionRefresher(provider, { store, sealer, pollMs: 5 });
    const s = session({ atExp: Date.now() - 1 });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).ensureFresh(s)));
    assert.equal(calls.length, 1);
    assert.ok(results.every((r) => r.refreshed && r.session.at === 'at-after-rt-1'));
    // Later, the old session (spent refresh token) gets the stored result instead of a second call.
    const late = await new SessionRefresher(provider, { store, sealer }).ensureFresh(s);
    assert.equal(late.session.at, 'at-after-rt-1');
    assert.equal(calls.length, 1);
  });

  it('takes over when the lock holder vanished (its lock expired without a result)', async () => {
    const store = new MemoryStore();
    const { provider, calls } = fakeProvider(0);
    const s = session({ atExp: Date.now() - 1 });
    // A holder that died: its lock is there, no result.
    await store.setIfAbsent(`refresh:${s.sid}:${(await import('../../../bff/session/store.ts')).digest('rt-1')}:lock`, 'dead', 150);
    const r = await new SessionRefresher(provider, { store, pollMs: 10, lockTtlMs: 150 }).ensureFresh(s);
    assert.equal(r.session.at, 'at-after-rt-1');
    assert.equal(calls.length, 1);
  });

  it('shares a refresh that ended the session, and audits it once', async () => {
    const store = new MemoryStore();
    const events: AuditEvent[] = [];
    let calls = 0;
    const provider = {
      kind: 'fake',
      async refresh(): Promise<RefreshResult> {
        calls++;
        await new Promise((r) => setTimeout(r, 30));
        throw new LatchError('LATCH_REFRESH_FAILED', 400, 'invalid_grant');
      },
    } as unknown as Provider;
    const a = new SessionRefresher(provider, { store, pollMs: 5, audit: (e) => events.push(e) });
    const b = new SessionRefresher(provider, { store, pollMs: 5, audit: (e) => events.push(e) });
    const s = session({ atExp: Date.now() - 1 });
    const settled = await Promise.allSettled([a.ensureFresh(s), b.ensureFresh(s), a.ensureFresh(s), b.ensureFresh(s)]);
    assert.ok(settled.every((r) => r.status === 'rejected' && (r.reason as LatchError).code === 'LATCH_SESSION_EXPIRED'));
    assert.equal(calls, 1);
    assert.deepEqual(events.map((e) => e.type), ['refresh_failed']);
  });
});

describe('SessionRefresher: a store that goes away in the middle of a refresh', () => {
  /** The shared store, made unreachable at will: every call then fails as RedisStore's do (503). */
  class FlakyStore extends MemoryStore {
    down = false;
    override async get(key: string) {
      this.#check();
      return super.get(key);
    }
    override async set(key: string, value: string, ttlMs: number) {
      this.#check();
      return super.set(key, value, ttlMs);
    }
    override async setIfAbsent(key: string, value: string, ttlMs: number) {
      this.#check();
      return super.setIfAbsent(key, value, ttlMs);
    }
    override async delIfEquals(key: string, value: string) {
      this.#check();
      return super.delIfEquals(key, value);
    }
    #check() {
      if (this.down) throw storeUnavailable(new Error('Connection is closed.'));
    }
  }

  /** A provider that rotates refresh tokens and refuses a spent one (invalid_grant), as oidc-provider does. */
  function rotatingProvider(store: FlakyStore, { failStoreDuringCall = false } = {}) {
    const spent = new Set<string>();
    const calls: string[] = [];
    const provider = {
      kind: 'fake',
      async refresh(rt: string): Promise<RefreshResult> {
        calls.push(rt);
        if (spent.has(rt)) throw new LatchError('LATCH_REFRESH_FAILED', 400, 'invalid_grant');
        spent.add(rt);
        // The store dies while the answer, with the rotated token, is on its way.
        if (failStoreDuringCall) store.down = true;
        return { tokens: { accessToken: `at-after-${rt}`, refreshToken: `${rt}+`, expiresAt: Date.now() + 3600_000 } };
      },
    } as unknown as Provider;
    return { provider, calls };
  }

  const setup = (lockTtlMs: number) => {
    const store = new FlakyStore();
    const sealer = new Sealer([secret()]);
    const { provider, calls } = rotatingProvider(store, { failStoreDuringCall: true });
    const warnings: string[] = [];
    const options = { store, sealer, pollMs: 5, retryMs: 20, lockTtlMs, logger: { warn: (_: object, msg: string) => void warnings.push(msg) } };
    return { store, calls, warnings, a: new SessionRefresher(provider, options), b: new SessionRefresher(provider, options) };
  };

  it('keeps the result, stores it once the store is back, and another instance then gets it: one refresh', async () => {
    const { store, calls, a, b } = setup(2000);
    const s = session({ atExp: Date.now() - 1 });
    const first = await a.ensureFresh(s);
    assert.equal(first.session.rt, 'rt-1+');
    assert.equal(a.unstored, 1);
    assert.equal((await a.ensureFresh(s)).session.rt, 'rt-1+', 'this instance answers from memory, without the store');
    await assert.rejects(b.ensureFresh(s), (err: LatchError) => err.code === 'LATCH_STORE_UNAVAILABLE');
    store.down = false;
    // B before A's next retry: the lock is still A's, B waits for the result.
    assert.equal((await b.ensureFresh(s)).session.rt, 'rt-1+');
    assert.equal(a.unstored, 0);
    assert.deepEqual(calls, ['rt-1']);
  });

  it('after an outage longer than the lock: this instance, asked first, stores its result under a new lock', async () => {
    const { store, calls, warnings, a, b } = setup(100);
    const s = session({ atExp: Date.now() - 1 });
    await a.ensureFresh(s);
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(warnings.length, 1, 'told once that the lock ran out');
    store.down = false;
    assert.equal((await a.ensureFresh(s)).session.rt, 'rt-1+');
    assert.equal(a.unstored, 0);
    assert.equal((await b.ensureFresh(s)).session.rt, 'rt-1+');
    assert.deepEqual(calls, ['rt-1']);
  });

  it('after an outage longer than the lock: another instance asked first ends the session, and this one agrees', async () => {
    const { store, calls, a, b } = setup(100);
    const s = session({ atExp: Date.now() - 1 });
    await a.ensureFresh(s);
    await new Promise((r) => setTimeout(r, 250));
    store.down = false;
    await assert.rejects(b.ensureFresh(s), (err: LatchError) => err.code === 'LATCH_SESSION_EXPIRED');
    await assert.rejects(a.ensureFresh(s), (err: LatchError) => err.code === 'LATCH_SESSION_EXPIRED');
    assert.equal(a.unstored, 0);
    assert.deepEqual(calls, ['rt-1', 'rt-1']);
  });
});

describe('the refresh margin (accessTokenStale)', () => {
  it('is 30 s for tokens that live a minute or more', () => {
    const now = Date.now();
    assert.equal(accessTokenStale(session({ atExp: now + 31_000, atl: 3600 }), 30_000, now), false);
    assert.equal(accessTokenStale(session({ atExp: now + 29_000, atl: 3600 }), 30_000, now), true);
  });

  it('is at most half the lifetime: a 20 s token is fresh for its first 10 s, then due', () => {
    const now = Date.now();
    assert.equal(accessTokenStale(session({ atExp: now + 19_000, atl: 20 }), 30_000, now), false);
    assert.equal(accessTokenStale(session({ atExp: now + 11_000, atl: 20 }), 30_000, now), false);
    assert.equal(accessTokenStale(session({ atExp: now + 9_000, atl: 20 }), 30_000, now), true);
  });

  it('keeps the 30 s margin for sessions sealed before the lifetime was kept', () => {
    const now = Date.now();
    assert.equal(accessTokenStale(session({ atExp: now + 19_000 }), 30_000, now), true);
  });
});

describe('SessionRefresher: a refresh whose ID token could not be checked (keys unavailable)', () => {
  it('answers the 5xx, never LATCH_SESSION_EXPIRED, and the next request gets the refreshed tokens without a second call', async () => {
    let calls = 0;
    const provider = {
      kind: 'fake',
      async refresh(): Promise<RefreshResult> {
        calls++;
        throw new RefreshKeptTokens(new LatchError('LATCH_UPSTREAM_ERROR', 502, 'keys down'), {
          accessToken: 'at-new', refreshToken: 'rt-rotated', expiresAt: Date.now() + 3600_000, lifetime: 3600,
        });
      },
    } as unknown as Provider;
    const refresher = new SessionRefresher(provider, { store: new MemoryStore() });
    const s = session({ atExp: Date.now() - 1, idt: 'old-id-token' });
    await assert.rejects(refresher.ensureFresh(s), (err: unknown) => err instanceof LatchError && err.code === 'LATCH_UPSTREAM_ERROR' && err.status === 502);
    const next = await refresher.ensureFresh(s);
    assert.equal(calls, 1, 'the spent refresh token is not sent again');
    assert.equal(next.session.at, 'at-new');
    assert.equal(next.session.rt, 'rt-rotated');
    assert.equal(next.session.idt, 'old-id-token', 'the unverified ID token is not kept');
    assert.deepEqual(next.session.user, s.user, 'nor its claims');
  });
});

describe('FixedWindowLimiter', () => {
  it('allows max per key per window, with Retry-After until the window ends, and per-username keys', () => {
    let now = 10_000;
    const limiter = new FixedWindowLimiter({ max: 2, windowMs: 60_000, now: () => now });
    assert.equal(limiter.hit('alice').allowed, true);
    assert.equal(limiter.hit('alice').allowed, true);
    const third = limiter.hit('alice');
    assert.equal(third.allowed, false);
    assert.equal(third.retryAfterS, 50);
    assert.equal(limiter.hit('bob').allowed, true, 'keys are independent');
    now = 60_000;
    assert.equal(limiter.hit('alice').allowed, true, 'a new window');
  });

  it('lets keys beyond its table size through rather than growing without bound', () => {
    const limiter = new FixedWindowLimiter({ max: 1, windowMs: 60_000, maxKeys: 2 });
    limiter.hit('a');
    limiter.hit('b');
    const overflow = limiter.hit('c');
    assert.equal(overflow.allowed, true);
    assert.equal(overflow.overflow, true);
  });
});

describe('audit', () => {
  it('logs each event and survives a throwing hook', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const audit = createAudit(logger, () => {
      throw new Error('sink down');
    });
    audit({ type: 'login', sid: 's', sub: 'u', time: 1 });
    assert.ok(lines.some((l) => l.includes('"audit: login"')));
    assert.ok(lines.some((l) => l.includes('audit hook failed')));
  });
});

describe('checkLogoutToken', () => {
  const base = () => ({ iss: 'https://op', aud: 'c', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60, jti: 'j', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, sid: 's' });
  it('accepts sub or sid and typ logout+jwt or none', () => {
    assert.equal(checkLogoutToken({ typ: 'logout+jwt' }, base()).sid, 's');
    assert.equal(checkLogoutToken({}, { ...base(), sid: undefined, sub: 'u' }).sub, 'u');
  });
  it('refuses a non-object events member and an empty sub', () => {
    assert.throws(() => checkLogoutToken({}, { ...base(), events: { [BACKCHANNEL_LOGOUT_EVENT]: [] } }));
    assert.throws(() => checkLogoutToken({}, { ...base(), sid: undefined, sub: '' }));
  });
});
