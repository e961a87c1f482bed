/**
 * The rate limiter (bff/middleware/rate-limit.ts) as a plain object. Which routes it applies to, through
 * every spelling of their paths: test/security/rate-limit.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FixedWindowLimiter } from '../../../bff/middleware/rate-limit.ts';

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
