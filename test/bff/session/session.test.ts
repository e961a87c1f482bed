/** The session record's own rules (bff/session/session.ts): when an access token is due for refresh. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accessTokenStale } from '../../../bff/session/session.ts';
import { session } from './support.ts';

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
