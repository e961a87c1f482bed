/**
 * The single-flight refresher (bff/session/refresh.ts) as a plain object: one refresh across
 * "instances" that share a store, a store that goes away in the middle of a refresh, and a refresh
 * whose ID token could not be checked. No HTTP, no provider. Across real instances and a real
 * redis-server: test/bff/session/stores/redis-instances.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEvent } from '../../../bff/audit.ts';
import { LatchError } from '../../../bff/errors.ts';
import { RefreshKeptTokens, type Provider, type RefreshResult } from '../../../bff/providers/provider.ts';
import { SessionRefresher } from '../../../bff/session/refresh.ts';
import { Sealer } from '../../../bff/session/sealer.ts';
import { storeKeys } from '../../../bff/session/store-keys.ts';
import { MemoryStore } from '../../../bff/session/stores/memory.ts';
import { storeUnavailable } from '../../../bff/session/store.ts';
import { secret, session } from './support.ts';

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
    await store.setIfAbsent(`${storeKeys.refresh(s.sid, 'rt-1')}:lock`, 'dead', 150);
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
        throw new LatchError('LATCH_REFRESH_FAILED', { detail: 'invalid_grant' });
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
        if (spent.has(rt)) throw new LatchError('LATCH_REFRESH_FAILED', { detail: 'invalid_grant' });
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

describe('SessionRefresher: a refresh whose ID token could not be checked (keys unavailable)', () => {
  it('answers the 5xx, never LATCH_SESSION_EXPIRED, and the next request gets the refreshed tokens without a second call', async () => {
    let calls = 0;
    const provider = {
      kind: 'fake',
      async refresh(): Promise<RefreshResult> {
        calls++;
        throw new RefreshKeptTokens(new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'keys down' }), {
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
