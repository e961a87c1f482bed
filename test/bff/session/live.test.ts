/**
 * LiveSessions (bff/session/live.ts) and its bus (bus.ts) as plain objects, in one process: who is
 * told what, the stream slots, and a Redis that is not there never failing a caller.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionEndReason } from '../../../bff/contract.ts';
import { SessionBus, userChannel } from '../../../bff/session/bus.ts';
import { publicId } from '../../../bff/session/index-store.ts';
import { LiveSessions, STREAMS_PER_SESSION } from '../../../bff/session/live.ts';
import { Sessions } from '../../../bff/session/sessions.ts';
import { RedisStore } from '../../../bff/session/stores/redis.ts';
import { MemoryStore } from '../../../bff/session/stores/memory.ts';
import { freePort } from '../../helpers/net.ts';
import { secret, session } from './support.ts';

function live(maxStreams = 100) {
  const store = new MemoryStore();
  const sessions = new Sessions({ secrets: [secret()], maxAge: 3600, store });
  return { live: new LiveSessions(store, { sessions, idleTimeoutS: 1800, maxStreams }), sessions };
}

describe('LiveSessions', () => {
  it('tells a session\'s watchers of its own end, of its user\'s and of its provider session\'s, once; never another session\'s', async () => {
    const { live: l } = live();
    const s1 = session({ psid: 'op-1' });
    const s2 = session({ psid: 'op-2' });
    const told: Array<[string, SessionEndReason]> = [];
    await l.watch(s1, { onEnded: (r) => told.push(['s1', r]) });
    await l.watch(s2, { onEnded: (r) => told.push(['s2', r]) });
    await l.ended(s2, 'logout');
    await l.ended(s2, 'logout');
    await l.backchannelLogout({ sid: 'op-1', sub: 'u1' }, Date.now());
    assert.deepEqual(told, [['s2', 'logout'], ['s1', 'backchannel']]);
  });

  it('an end of a user concerns the sessions created until it only (with the deny-list\'s 1 s of skew)', async () => {
    const { live: l } = live();
    const at = Date.now();
    const before = session({ iat: at - 5000 });
    const after = session({ iat: at + 5000 });
    const told: string[] = [];
    await l.watch(before, { onEnded: () => told.push('before') });
    await l.watch(after, { onEnded: () => told.push('after') });
    await l.endedAll('u1', 'everywhere', at);
    assert.deepEqual(told, ['before']);
  });

  it('revokes by public id only within the user\'s own index, deny-listing the session', async () => {
    const { live: l, sessions } = live();
    const mine = session();
    const theirs = session({ user: { sub: 'u2' } });
    await l.signedIn(mine, { userAgent: 'curl/8' });
    await l.signedIn(theirs, {});
    assert.equal(await l.revoke('u1', publicId(theirs.sid)), null, 'another user\'s id');
    const sealed = await sessions.sealer.seal(theirs, 3600);
    assert.ok(await sessions.open(sealed), 'their session lives on');
    assert.equal((await l.revoke('u1', publicId(mine.sid)))?.device, 'curl');
    assert.equal(await sessions.open(await sessions.sealer.seal(mine, 3600)), null, 'mine is deny-listed by its public id');
  });

  it(`gives ${STREAMS_PER_SESSION} stream slots a session and maxStreams an instance, and takes them back`, () => {
    const { live: l } = live(6);
    const none = { ping() {}, close() {} };
    const a = Array.from({ length: STREAMS_PER_SESSION }, () => l.openStream('a', none));
    assert.ok(a.every(Boolean));
    assert.equal(l.openStream('a', none), null, 'the session is full');
    const b = [l.openStream('b', none), l.openStream('b', none)];
    assert.equal(l.openStream('c', none), null, 'the instance is full');
    a[0]!.release();
    a[0]!.release();
    assert.ok(l.openStream('c', none), 'one slot back, once');
    for (const h of [...a, ...b]) h?.release();
    assert.equal(l.streams, 1);
  });
});

describe('SessionBus', () => {
  it('delivers in process and unsubscribes', async () => {
    const bus = new SessionBus();
    const got: string[] = [];
    const off = await bus.subscribe([userChannel('u')], (m) => got.push(m.type));
    await bus.publish(userChannel('u'), { type: 'ended', reason: 'logout' });
    off();
    await bus.publish(userChannel('u'), { type: 'ended', reason: 'logout' });
    assert.deepEqual(got, ['ended']);
    assert.equal(bus.listeners, 0);
  });

  it('with a Redis that is not there: subscribes within its wait, publishes without rejecting, still delivers in process', async () => {
    const store = new RedisStore({ url: `redis://127.0.0.1:${await freePort()}`, timeoutMs: 200 });
    const warned: string[] = [];
    const bus = new SessionBus({ access: Promise.resolve(store), logger: { warn: (_o, msg) => warned.push(msg) } });
    const got: string[] = [];
    const started = Date.now();
    await bus.subscribe(['pid:x'], (m) => got.push(m.type));
    assert.ok(Date.now() - started < 2000);
    await bus.publish('pid:x', { type: 'ended', reason: 'revoked' });
    assert.deepEqual(got, ['ended']);
    assert.equal(warned.length, 1);
    await bus.close();
    await store.close();
  });
});
