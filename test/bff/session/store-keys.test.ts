/**
 * The store's keys and their hash tags (bff/session/store-keys.ts). The slots a real cluster gives
 * them: stores/redis-cluster.test.ts (CLUSTER KEYSLOT).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newSessionId } from '../../../bff/session/session.ts';
import { sessionTag, storeKeys, untagged, userTag } from '../../../bff/session/store-keys.ts';
import { digest } from '../../../bff/session/store.ts';

/** What Redis Cluster hashes: the text between the first `{` and the next `}` when not empty, else the whole key. */
function hashed(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

describe('store keys: hash tags', () => {
  const sid = newSessionId();
  const sub = 'auth0|user-42';

  it('puts a session\'s record, deny-list entry, refresh lock and result under one tag, the sid', () => {
    const refresh = storeKeys.refresh(sid, 'rt-1');
    const keys = [storeKeys.session(sid), storeKeys.deniedSession(sid), `${refresh}:lock`, `${refresh}:result`];
    assert.deepEqual(new Set(keys.map(hashed)), new Set([sid]));
    assert.equal(sessionTag(sid), `{${sid}}`);
  });

  it('puts a user\'s deny-list entry and session index under one tag, the digest of the subject (never the subject itself)', () => {
    const keys = [storeKeys.deniedUser(sub), storeKeys.userSessions(sub)];
    assert.deepEqual(new Set(keys.map(hashed)), new Set([digest(sub)]));
    assert.equal(userTag(sub), `{${digest(sub)}}`);
    assert.equal(keys.some((k) => k.includes(sub)), false);
  });

  it('drops the braces for one Redis: the names earlier versions wrote, so an upgrade keeps every entry', () => {
    assert.equal(untagged(storeKeys.session(sid)), `sess:${sid}`);
    assert.equal(untagged(storeKeys.deniedSession(sid)), `deny:sid:${sid}`);
    assert.equal(untagged(storeKeys.deniedUser(sub)), `deny:sub:${digest(sub)}`);
    assert.equal(untagged(storeKeys.deniedProviderSession('op-sid')), `deny:psid:${digest('op-sid')}`);
    assert.equal(untagged(`${storeKeys.refresh(sid, 'rt-1')}:lock`), `refresh:${sid}:${digest('rt-1')}:lock`);
    assert.equal(untagged(storeKeys.once('state:abc')), 'once:state:abc');
    assert.equal(untagged(storeKeys.handoff('code')), `handoff:${digest('code')}`);
  });

  it('never lets a session id or a digest close a tag early: both are base64url', () => {
    for (let i = 0; i < 200; i++) assert.match(newSessionId(), /^[A-Za-z0-9_-]{22}$/);
    assert.match(digest('}{'), /^[A-Za-z0-9_-]{32}$/);
  });
});
