/**
 * GET /me (bff/routes/me.ts), answered in memory, with session cookies the BFF's own code seals (as
 * /callback would). The whole walk with a real provider, refresh included: test/bff/app.test.ts; every
 * fault of a cookie: test/security/cookies.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryBff, SITE } from '../../helpers/bff.ts';
import { session } from '../session/support.ts';

describe('GET /me', () => {
  const bff = memoryBff();

  it('answers a minted session\'s claims and its end, never a token, readable by an allowed origin only', async () => {
    const s = session({ user: { sub: 'u1', name: 'U', email: 'u1@example.com' } });
    const cookie = await bff.cookieFor(s);
    const res = await bff.fetch('/me', { headers: { cookie, origin: SITE } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { user: Record<string, unknown>; expiresAt: number };
    assert.deepEqual(body.user, s.user);
    assert.ok(body.expiresAt > Date.now() && body.expiresAt <= s.exp, String(body.expiresAt));
    assert.doesNotMatch(JSON.stringify(body), /at-1|rt-1|token/i, 'no token reaches the page');
    assert.equal(res.headers.get('access-control-allow-origin'), SITE);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    const elsewhere = await bff.fetch('/me', { headers: { cookie, origin: 'https://evil.example' } });
    assert.equal(elsewhere.status, 200);
    assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
  });

  it('answers 401, not 500, to a tampered session cookie', async () => {
    const cookie = await bff.cookieFor(session());
    const value = cookie.slice('latch='.length);
    const flipped = value.slice(0, 60) + (value[60] === 'A' ? 'B' : 'A') + value.slice(61);
    for (const bad of [flipped, value.slice(0, value.length / 2), 'garbage', 'Fe26.2**x*y*z']) {
      const res = await bff.fetch('/me', { headers: { cookie: `latch=${bad}` } });
      assert.equal(res.status, 401, `cookie ${bad.slice(0, 20)}…`);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'LATCH_UNAUTHENTICATED');
    }
    const ok = await bff.fetch('/me', { headers: { cookie } });
    assert.equal(ok.status, 200);
  });
});
