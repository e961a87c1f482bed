/**
 * The BFF on a real Redis Cluster (3 masters + 3 replicas started on loopback by
 * test/helpers/redis-cluster.ts) and on a real Sentinel set (1 master + 1 replica + 3 sentinels),
 * signing in against the dev provider (oidc-provider). Server-side sessions (LATCH_SESSION_STORE=redis),
 * so that "no session lost" means the records survived in the store.
 *
 *   describe('Redis Cluster store')  the whole flow (sign-in, /me, refresh, logout, back-channel logout)
 *                                    with a session's keys in one slot; then, during steady traffic on
 *                                    several sessions: the slot moved to another master (ASK, MOVED),
 *                                    a CLUSTER FAILOVER of its master, its master stalled (SIGSTOP),
 *                                    its master killed (the replica
 *                                    elected): 200 or 503 LATCH_STORE_UNAVAILABLE, never anything else,
 *                                    every session served afterwards; last, a master lost for good with
 *                                    its replica (503, /readyz not ready), then every node (503 still
 *                                    within the deadline).
 *   describe('Redis Sentinel store') the flow, and SENTINEL FAILOVER during traffic, the same expectations.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import http from 'node:http';
import { Cluster } from 'ioredis';
import { storeKeys } from '../../../../bff/session/store-keys.ts';
import { completeProviderLogout, HttpClient } from '../../../helpers/http.ts';
import { clusterSuiteOptions, startRedisCluster, startRedisSentinel, until, type RedisClusterHandle, type SentinelHandle } from '../../../helpers/redis-cluster.ts';
import { errorCode, get, post, signedIn, SITE, sleep, startSecStack, type SecStack } from '../../../security/support.ts';

const PREFIX = 'latch:';
const me = (url: string, cookie: string) => get(`${url}/me`, { cookie, origin: SITE });

async function sidOf(stack: SecStack, cookie: string): Promise<string> {
  return (await stack.bff.app.latch.sites.all[0]!.cookies.read(cookie))!.session.sid;
}

/**
 * Steady traffic: each session asks /me in turn, `concurrency` at a time, until stopped. Every answer
 * is recorded; anything but 200 and 503 LATCH_STORE_UNAVAILABLE is a failure of the store's contract.
 */
function traffic(url: string, cookies: string[]) {
  const statuses = new Map<string, number>();
  const wrong: string[] = [];
  let running = true;
  const loops = cookies.map(async (cookie) => {
    while (running) {
      const res = await me(url, cookie);
      const key = res.status === 503 ? `503 ${errorCode(res)}` : String(res.status);
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (res.status !== 200 && !(res.status === 503 && errorCode(res) === 'LATCH_STORE_UNAVAILABLE' && res.headers.get('retry-after') === '1')) {
        wrong.push(`${res.status} ${res.text.slice(0, 200)}`);
      }
      if (res.status === 503) await sleep(50);
    }
  });
  return {
    statuses,
    wrong,
    async stop() {
      running = false;
      await Promise.all(loops);
      return Object.fromEntries(statuses);
    },
  };
}

/** Every session answers 200 again (after the store came back, within `ms`). */
async function allServed(url: string, cookies: string[], ms = 15_000): Promise<void> {
  for (const cookie of cookies) {
    let status = 0;
    await until('the session to be served again', async () => (status = (await me(url, cookie)).status) === 200, ms, 50).catch(() => undefined);
    assert.equal(status, 200, 'the session survived');
  }
}

describe('Redis Cluster store: LATCH_REDIS_CLUSTER_NODES, 3 masters + 3 replicas', clusterSuiteOptions(), () => {
  let cluster: RedisClusterHandle;
  let stack: SecStack;
  let inspect: Cluster;
  let cookies: string[] = [];
  before(async () => {
    cluster = await startRedisCluster({ nodeTimeoutMs: 1000 });
    stack = await startSecStack({
      backchannel: true,
      provider: { accessTokenTtl: 4 },
      env: { LATCH_REDIS_CLUSTER_NODES: cluster.seeds, LATCH_SESSION_STORE: 'redis', LATCH_REDIS_TIMEOUT_MS: '500' },
    });
    inspect = new Cluster(cluster.seeds.split(',').map((s) => ({ host: '127.0.0.1', port: Number(s.split(':')[1]) })), { redisOptions: { maxRetriesPerRequest: 1 } });
    inspect.on('error', () => undefined);
    inspect.on('node error', () => undefined);
  });
  after(async () => {
    inspect?.disconnect();
    await stack?.close();
    await cluster?.stop();
  });

  it('signs in, serves /me, refreshes and logs out, a session\'s record, deny-list entry and refresh keys in one slot', async () => {
    const { cookie } = await signedIn(stack, 0);
    assert.equal((await me(stack.bffUrl, cookie)).status, 200);
    const sid = await sidOf(stack, cookie);
    const record = `${PREFIX}${storeKeys.session(sid)}`;
    assert.match(record, /^latch:sess:\{[\w-]{22}\}$/, 'the hash tag is the sid');
    assert.ok((await inspect.get(record))?.startsWith('Fe26.2*'), 'the sealed record is in the cluster, under its tagged key');
    // A refresh: the access token lives 4 s, and is refreshed within its last half.
    await sleep(2100);
    stack.provider.resetCounts();
    const answers = await Promise.all(Array.from({ length: 10 }, () => me(stack.bffUrl, cookie)));
    assert.deepEqual(answers.map((r) => r.status), Array(10).fill(200));
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1);
    const refreshKeys = (await Promise.all(inspect.nodes('master').map((n) => n.keys(`${PREFIX}refresh:{${sid}}:*`)))).flat();
    assert.ok(refreshKeys.length >= 1, 'the refresh result was stored');
    const out = await post(`${stack.bffUrl}/logout`, { cookie, origin: SITE, 'latch-csrf': '1' });
    assert.equal(out.status, 200);
    assert.equal((await me(stack.bffUrl, cookie)).status, 401);
    const denied = `${PREFIX}${storeKeys.deniedSession(sid)}`;
    assert.equal(await inspect.get(denied), '1');
    assert.equal(await inspect.exists(record), 0, 'the record is deleted');
    // The cluster's own hash: one slot for the session's keys.
    const slots = new Set(await Promise.all([record, denied, ...refreshKeys].map((k) => cluster.slotOf(k))));
    assert.equal(slots.size, 1, [...slots].join(','));
  });

  it('signs out everywhere and applies a back-channel logout; the per-key deny-list reads span several masters', async () => {
    const one = await signedIn(stack, 1);
    const two = await signedIn(stack, 1);
    // A session's and its user's deny-list keys are in different slots, usually on different masters:
    // the check reads them one GET each (a cluster refuses a cross-slot MGET).
    const sid = await sidOf(stack, one.cookie);
    const sub = (await stack.bff.app.latch.sites.all[0]!.cookies.read(one.cookie))!.session.user.sub;
    assert.notEqual(await cluster.slotOf(storeKeys.deniedSession(sid)), await cluster.slotOf(storeKeys.deniedUser(sub)));
    const everywhere = await post(`${stack.bffUrl}/logout?everywhere=1`, { cookie: one.cookie, origin: SITE, 'latch-csrf': '1' });
    assert.equal(everywhere.status, 200);
    assert.equal((await me(stack.bffUrl, two.cookie)).status, 401);

    const { client, cookie } = await signedIn(stack, 2);
    assert.equal((await me(stack.bffUrl, cookie)).status, 200);
    await completeProviderLogout(client, `${stack.provider.issuer}/session/end`);
    await until('the back-channel logout to end the session', async () => (await me(stack.bffUrl, cookie)).status === 401, 5000, 50);
    assert.ok(stack.bff.audits.some((e) => e.type === 'backchannel_logout'));
    assert.equal((await get(`${stack.bffUrl}/readyz`)).status, 200);
  });

  it('lists a user\'s sessions and pushes a session\'s end to its /events stream on another instance through the cluster (index and pub/sub)', async () => {
    const one = await signedIn(stack, 2);
    const two = await signedIn(stack, 2);
    const listed = await get(`${stack.bffUrl}/sessions`, { cookie: one.cookie, origin: SITE });
    assert.equal(listed.status, 200);
    const sessions = listed.json<{ sessions: Array<{ id: string; current: boolean }> }>().sessions;
    assert.equal(sessions.length, 2, listed.text);
    const other = sessions.find((s) => !s.current)!;
    // Session two's stream on a second instance sharing the cluster: only the cluster's pub/sub can
    // carry the end from the first instance to it.
    const second = await stack.addBff();
    const events = await new Promise<{ text: () => string; close: () => void }>((resolve, reject) => {
      const req = http.get(`${second.url}/events`, { headers: { cookie: two.cookie, origin: SITE } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`/events answered ${res.statusCode}`));
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', () => undefined);
        resolve({ text: () => text, close: () => req.destroy() });
      });
      req.on('error', () => undefined);
    });
    try {
      await until('the stream to open', async () => events.text().includes('retry:'), 5000, 20);
      const ended = await new HttpClient().request(`${stack.bffUrl}/sessions/${other.id}`, { method: 'DELETE', headers: { cookie: one.cookie, origin: SITE, 'latch-csrf': '1' } });
      assert.equal(ended.status, 204);
      await until('session-ended to reach the stream', async () => /event: session-ended\ndata: \{"reason":"revoked"\}/.test(events.text()), 2000, 20);
      assert.equal((await me(stack.bffUrl, two.cookie)).status, 401);
      assert.equal((await me(stack.bffUrl, one.cookie)).status, 200);
    } finally {
      events.close();
      await second.close();
    }
  });

  /** Several signed-in sessions, the first one's slot the one the test acts on. */
  async function sessionsAndSlot(): Promise<{ slot: number }> {
    if (cookies.length === 0) {
      // The sign-outs above deny the users' sessions created up to a second after them (the deny-list's
      // clock skew): sign in after that.
      await sleep(1100);
      cookies = await Promise.all([0, 1, 2, 0, 1, 2].map(async (u) => (await signedIn(stack, u)).cookie));
    }
    return { slot: await cluster.slotOf(storeKeys.session(await sidOf(stack, cookies[0]!))) };
  }

  it('moves a session\'s slot to another master during traffic: ASK then MOVED, every request answered 200', async () => {
    const { slot } = await sessionsAndSlot();
    const from = await cluster.masterOf(slot);
    // Another master: the one serving a slot a third of the way round (three masters, even shares).
    const masters = await Promise.all([0, 5461, 10923].map((s) => cluster.masterOf(s)));
    const to = masters.find((m) => m !== from)!;
    assert.notEqual(to, from);
    const load = traffic(stack.bffUrl, cookies);
    await sleep(300);
    await cluster.moveSlot(slot, to, 100);
    await sleep(500);
    const seen = await load.stop();
    assert.deepEqual(load.wrong, [], JSON.stringify(seen));
    assert.deepEqual(Object.keys(seen), ['200'], `a redirect is followed, never refused: ${JSON.stringify(seen)}\n${stack.bff.logs.filter((l) => l.includes('store-outage')).join('\n')}`);
    assert.equal(await cluster.masterOf(slot), to);
    await allServed(stack.bffUrl, cookies);
  });

  it('fails over the master of a session\'s slot (CLUSTER FAILOVER on its replica) during traffic: 200 or 503, no session lost', async () => {
    const { slot } = await sessionsAndSlot();
    const master = await cluster.masterOf(slot);
    const replica = await cluster.replicaOf(master);
    const load = traffic(stack.bffUrl, cookies);
    await sleep(300);
    assert.equal(await (await import('../../../helpers/redis-cluster.ts')).cli(replica.port, 'CLUSTER', 'FAILOVER'), 'OK');
    await until('the replica to take over the slot', async () => (await cluster.masterOf(slot)) === replica, 20_000);
    await cluster.settled(slot);
    await sleep(1000);
    const seen = await load.stop();
    assert.deepEqual(load.wrong, [], JSON.stringify(seen));
    assert.ok((seen['200'] ?? 0) > 0, JSON.stringify(seen));
    await allServed(stack.bffUrl, cookies);
  });

  it('stalls the master of a session\'s slot (SIGSTOP) mid-request: each answer within the deadline, 200 or 503, none lost', async () => {
    const { slot } = await sessionsAndSlot();
    const master = await cluster.masterOf(slot);
    const load = traffic(stack.bffUrl, cookies);
    await sleep(200);
    master.pause();
    try {
      // Requests already sent to it wait; LATCH_REDIS_TIMEOUT_MS (500) ends them, not the stall.
      const started = Date.now();
      const res = await me(stack.bffUrl, cookies[0]!);
      assert.equal(res.status, 503, res.text);
      assert.equal(errorCode(res), 'LATCH_STORE_UNAVAILABLE');
      assert.ok(Date.now() - started < 2500, `answered in ${Date.now() - started} ms`);
      await sleep(2500); // longer than cluster-node-timeout: its replica may be elected meanwhile
    } finally {
      master.resume();
    }
    await cluster.settled(slot);
    await sleep(500);
    const seen = await load.stop();
    assert.deepEqual(load.wrong, [], JSON.stringify(seen));
    await allServed(stack.bffUrl, cookies);
  });

  it('kills the master of a session\'s slot during traffic: 503 while its replica is elected, never a 500, no session lost', async () => {
    const { slot } = await sessionsAndSlot();
    const master = await cluster.masterOf(slot);
    const replica = await cluster.replicaOf(master);
    const load = traffic(stack.bffUrl, cookies);
    await sleep(300);
    await master.kill();
    await until('the replica to be elected', async () => (await cluster.masterOf(slot)) === replica, 30_000, 200);
    await cluster.settled(slot);
    await sleep(1000);
    const seen = await load.stop();
    assert.deepEqual(load.wrong.slice(0, 3), [], `${JSON.stringify(seen)}\n${JSON.stringify(stack.bff.audits.filter((e) => e.type === 'refresh_failed'))}\n${stack.bff.logs.filter((l) => /refresh|"level":[45]0/.test(l)).slice(-20).join('\n')}`);
    assert.ok((seen['503 LATCH_STORE_UNAVAILABLE'] ?? 0) > 0, `the election is seen as 503s: ${JSON.stringify(seen)}`);
    await allServed(stack.bffUrl, cookies);
    assert.equal((await get(`${stack.bffUrl}/readyz`)).status, 200, 'ready again once the slot has its new master');
    // A new sign-in works on the healed cluster.
    assert.equal((await me(stack.bffUrl, (await signedIn(stack, 0)).cookie)).status, 200);
  });

  it('loses a master and its replica for good: 503 LATCH_STORE_UNAVAILABLE (never a 500) and /readyz not ready', async () => {
    const { slot } = await sessionsAndSlot();
    const master = await cluster.masterOf(slot);
    // The killed master's old replica is now this master (above); what replicates it now, if anything, goes too.
    const replica = await cluster.replicaOf(master).catch(() => undefined);
    await replica?.kill();
    await master.kill();
    await until('the cluster to see the slot lost', async () => (await cluster.state()) === 'fail', 20_000, 200);
    for (const cookie of cookies) {
      const res = await me(stack.bffUrl, cookie);
      assert.equal(res.status, 503, res.text);
      assert.equal(errorCode(res), 'LATCH_STORE_UNAVAILABLE');
    }
    const ready = await get(`${stack.bffUrl}/readyz`);
    assert.equal(ready.status, 503, ready.text);
    assert.equal((await get(`${stack.bffUrl}/healthz`)).status, 200, 'the process is up');
  });

  it('loses every node: each request still answered 503 within the deadline (the client has no slot map to queue behind)', async () => {
    await sessionsAndSlot().catch(() => undefined); // the sessions above (signed in here when run alone)
    assert.ok(cookies.length > 0);
    await Promise.all(cluster.nodes.filter((n) => n.alive).map((n) => n.kill()));
    for (const cookie of cookies.slice(0, 3)) {
      const started = Date.now();
      const res = await me(stack.bffUrl, cookie);
      assert.equal(res.status, 503, res.text);
      assert.equal(errorCode(res), 'LATCH_STORE_UNAVAILABLE');
      assert.ok(Date.now() - started < 2500, `answered in ${Date.now() - started} ms`);
    }
    assert.equal((await get(`${stack.bffUrl}/readyz`)).status, 503);
  });
});

describe('Redis Sentinel store: redis+sentinel:// in LATCH_REDIS_URL, 1 master + 1 replica + 3 sentinels', clusterSuiteOptions(), () => {
  let sentinel: SentinelHandle;
  let stack: SecStack;
  before(async () => {
    sentinel = await startRedisSentinel({ downAfterMs: 1000 });
    stack = await startSecStack({
      backchannel: true,
      env: { LATCH_REDIS_URL: sentinel.url, LATCH_SESSION_STORE: 'redis', LATCH_REDIS_TIMEOUT_MS: '500' },
    });
  });
  after(async () => {
    await stack?.close();
    await sentinel?.stop();
  });

  it('signs in, serves /me, logs out and applies a back-channel logout on the master Sentinel names, under the untagged key names', async () => {
    const { cookie } = await signedIn(stack, 0);
    assert.equal((await me(stack.bffUrl, cookie)).status, 200);
    const sid = await sidOf(stack, cookie);
    const master = await sentinel.master();
    const { cli } = await import('../../../helpers/redis-cluster.ts');
    assert.match(await cli(master.port, 'GET', `${PREFIX}sess:${sid}`), /^Fe26\.2\*/, 'one master: the keys earlier versions wrote, no braces');
    await post(`${stack.bffUrl}/logout`, { cookie, origin: SITE, 'latch-csrf': '1' });
    assert.equal((await me(stack.bffUrl, cookie)).status, 401);
    const other = await signedIn(stack, 1);
    await completeProviderLogout(other.client, `${stack.provider.issuer}/session/end`);
    await until('the back-channel logout to end the session', async () => (await me(stack.bffUrl, other.cookie)).status === 401, 5000, 50);
  });

  it('fails over (SENTINEL FAILOVER) during traffic: 200 or 503, never a 500, no session lost, writes go to the new master', async () => {
    const cookies = await Promise.all([0, 1, 2, 0].map(async (u) => (await signedIn(stack, u)).cookie));
    const before = await sentinel.master();
    const load = traffic(stack.bffUrl, cookies);
    await sleep(300);
    const after = await sentinel.failover();
    assert.notEqual(after, before);
    await sleep(1000);
    const seen = await load.stop();
    assert.deepEqual(load.wrong, [], JSON.stringify(seen));
    await allServed(stack.bffUrl, cookies);
    // A write after the failover (a new sign-in's record, a logout's deny-list entry) lands on the new master.
    const { cookie } = await signedIn(stack, 2);
    assert.equal((await me(stack.bffUrl, cookie)).status, 200);
    const out = await post(`${stack.bffUrl}/logout`, { cookie: cookies[0]!, origin: SITE, 'latch-csrf': '1' });
    assert.equal(out.status, 200);
    assert.equal((await me(stack.bffUrl, cookies[0]!)).status, 401);
    assert.equal((await get(`${stack.bffUrl}/readyz`)).status, 200);
  });
});
