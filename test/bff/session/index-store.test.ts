/**
 * The index of sessions per user (bff/session/index-store.ts): memory and Redis (a real redis-server)
 * keep the same promises: bounded per user (oldest dropped), entries gone with the session's absolute
 * end, nothing but public ids and metadata stored; and the device label.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deviceLabel, MAX_SESSIONS_PER_USER, MemorySessionIndex, publicId, RedisSessionIndex, type IndexEntry, type SessionIndex } from '../../../bff/session/index-store.ts';
import { RedisStore } from '../../../bff/session/stores/redis.ts';
import { redisSuiteOptions, startRedis, type RedisHandle } from '../../helpers/net.ts';

/** Creation times are BASE + n: the order of n, whatever the clock does between calls. */
const BASE = Date.now() - 10_000;
const entry = (n: number, over: Partial<IndexEntry> = {}): IndexEntry => {
  const now = Date.now();
  return { id: publicId(`sid-${n}`), createdAt: BASE + n, lastSeenAt: now, exp: now + 60_000, provider: 'default', device: 'Firefox on Linux', ...over };
};

function behaves(name: string, make: () => SessionIndex, options: { skip?: string } = {}) {
  describe(name, options, () => {
    it('lists a user\'s entries oldest first, and only theirs', async () => {
      const index = make();
      await index.add('u1', entry(2));
      await index.add('u1', entry(1));
      await index.add('u2', entry(3));
      assert.deepEqual((await index.list('u1')).map((e) => e.id), [publicId('sid-1'), publicId('sid-2')]);
      assert.deepEqual((await index.list('u2')).map((e) => e.id), [publicId('sid-3')]);
      assert.deepEqual(await index.list('nobody'), []);
    });
    it(`keeps ${MAX_SESSIONS_PER_USER} entries per user, dropping the oldest`, async () => {
      const index = make();
      for (let n = 0; n < MAX_SESSIONS_PER_USER + 5; n++) await index.add('many', entry(n));
      const ids = (await index.list('many')).map((e) => e.id);
      assert.equal(ids.length, MAX_SESSIONS_PER_USER);
      assert.ok(!ids.includes(publicId('sid-0')) && ids.includes(publicId(`sid-${MAX_SESSIONS_PER_USER + 4}`)));
    });
    it('leaves out entries past their absolute end', async () => {
      const index = make();
      await index.add('exp', entry(1, { exp: Date.now() + 150 }));
      await index.add('exp', entry(2));
      assert.equal((await index.list('exp')).length, 2);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual((await index.list('exp')).map((e) => e.id), [publicId('sid-2')]);
    });
    it('moves last seen forward only, removes one entry (true only if the user had it), and all until a time or of one provider session', async () => {
      const index = make();
      const e1 = entry(1, { psid: 'p1' });
      await index.add('r', e1);
      await index.add('r', entry(2));
      await index.seen('r', e1.id, e1.lastSeenAt + 5000);
      await index.seen('r', e1.id, e1.lastSeenAt - 5000);
      assert.equal((await index.list('r'))[0]!.lastSeenAt, e1.lastSeenAt + 5000);
      assert.equal(await index.remove('other-user', e1.id), false);
      await index.removeAll('r', Date.now(), 'p1');
      assert.deepEqual((await index.list('r')).map((e) => e.id), [publicId('sid-2')]);
      assert.equal(await index.remove('r', publicId('sid-2')), true);
      await index.add('r', entry(3));
      await index.removeAll('r', Date.now());
      assert.deepEqual(await index.list('r'), []);
    });
  });
}

behaves('MemorySessionIndex', () => new MemorySessionIndex());

describe('RedisSessionIndex on a real redis-server', redisSuiteOptions(), () => {
  let redis: RedisHandle;
  let store: RedisStore;
  before(async () => {
    redis = await startRedis();
    store = new RedisStore({ url: redis.url });
  });
  after(async () => {
    await store?.close();
    await redis?.stop();
  });
  behaves('the same promises', () => new RedisSessionIndex(Promise.resolve(store)));
  it('stores one hash per user, expiring with its longest-lived entry, holding public ids and metadata only', async () => {
    const index = new RedisSessionIndex(Promise.resolve(store));
    await index.add('keys', entry(1, { exp: Date.now() + 30_000 }));
    const keys = await store.client.keys('latch:idx:*');
    assert.ok(keys.length >= 1 && keys.every((k) => /^latch:idx:\{[A-Za-z0-9_-]{32}\}$/.test(k)), keys.join());
    let key = '';
    for (const k of keys) if ((await store.client.hexists(k, publicId('sid-1'))) === 1 && (await store.client.hlen(k)) === 1) key = k;
    const ttl = await store.client.pttl(key);
    assert.ok(ttl > 0 && ttl <= 60_000, `ttl ${ttl}`);
    const stored = JSON.parse((await store.client.hget(key, publicId('sid-1')))!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(stored).sort(), ['createdAt', 'device', 'exp', 'id', 'lastSeenAt', 'provider']);
  });
});

describe('deviceLabel', () => {
  it('names the browser and the system of common User-Agents, and falls back', () => {
    const cases: Array<[string | undefined, string]> = [
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on Windows'],
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', 'Edge on Windows'],
      ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'Safari on macOS'],
      ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'Chrome on Android'],
      ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Linux'],
      ['curl/8.5.0', 'curl'],
      ['', 'Unknown device'],
      [undefined, 'Unknown device'],
      ['<script>', 'Unknown device'],
    ];
    for (const [ua, label] of cases) assert.equal(deviceLabel(ua), label, String(ua));
  });
});
