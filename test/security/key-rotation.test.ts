/**
 * A provider that switches its signing key abruptly: the interceptor (evil-as.ts) re-signs every ID
 * token with its key K, and `rotate()` replaces K with a new key under a new kid, the old one leaving
 * the JWKS at once. The BFF must refetch the key set at once (1 s floor, not jose's 30 s cooldown):
 * sign-in, refresh and back-channel logout never fail for it. A key set that cannot be fetched is the
 * server's fault (502, logged as an error), and a refresh that meets one keeps the session.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../bff/routes/backchannel.ts';
import type { HttpClient } from '../helpers/http.ts';
import {
  assertRefused,
  get,
  post,
  quickCallback,
  sessionCookieHeader,
  signedIn,
  sleep,
  startSecStack,
  type SecStack,
} from './support.ts';

const now = () => Math.floor(Date.now() / 1000);
const HTML = { status: 200, type: 'text/html', body: '<!doctype html><title>Maintenance</title><p>Back soon.</p>' };
const SERVER_ERROR = { status: 503, type: 'text/html', body: '<h1>503 Service Unavailable</h1>' };

describe('a provider that switches signing keys abruptly', () => {
  let stack: SecStack;
  let client: HttpClient;
  before(async () => {
    // Access tokens live 3 s: due for refresh (half their life) 1.5 s after they are issued.
    stack = await startSecStack({ interceptor: true, backchannel: true, provider: { accessTokenTtl: 3 } });
    stack.interceptor!.onToken = { sign: 'valid' };
    ({ client } = await signedIn(stack));
  });
  after(() => stack.close());

  it('signs in with a key rotated in right after the BFF fetched the key set', async () => {
    const fetched = stack.interceptor!.counts.jwks;
    await stack.interceptor!.rotate();
    const res = await quickCallback(client, stack.bffUrl);
    assert.equal(res.status, 302, res.text.slice(0, 300));
    assert.ok(sessionCookieHeader(res.setCookies), 'a session is set');
    assert.equal(stack.interceptor!.counts.jwks, fetched + 1, 'one refetch');
  });

  it('signs in when the key is rotated just before the ID token is signed', async () => {
    stack.interceptor!.onToken = { sign: 'valid', rotateFirst: true };
    try {
      const res = await quickCallback(client, stack.bffUrl);
      assert.equal(res.status, 302, res.text.slice(0, 300));
      assert.ok(sessionCookieHeader(res.setCookies));
    } finally {
      stack.interceptor!.onToken = { sign: 'valid' };
    }
  });

  it('refreshes with an ID token signed by a key rotated in since the last fetch: the session lives on', async () => {
    const res = await quickCallback(client, stack.bffUrl);
    const cookie = sessionCookieHeader(res.setCookies);
    await sleep(1600);
    await stack.interceptor!.rotate();
    stack.provider.resetCounts();
    const me = await get(`${stack.bffUrl}/me`, { cookie });
    assert.equal(me.status, 200, me.text);
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1, 'refreshed once');
    assert.ok(sessionCookieHeader(me.setCookies), 'the refreshed session is sealed');
  });

  it('keeps the session when the key set cannot be fetched during a refresh (502, never LATCH_SESSION_EXPIRED)', async () => {
    const res = await quickCallback(client, stack.bffUrl);
    const cookie = sessionCookieHeader(res.setCookies);
    await sleep(1600);
    await stack.interceptor!.rotate();
    stack.interceptor!.onJwks = () => SERVER_ERROR;
    stack.provider.resetCounts();
    try {
      const me = await get(`${stack.bffUrl}/me`, { cookie });
      assertRefused(me, 502, 'LATCH_UPSTREAM_ERROR', 'keys down during refresh');
      assert.equal(me.setCookies.some((c) => /^latch=;/.test(c)), false, 'the session cookie is not cleared');
    } finally {
      stack.interceptor!.onJwks = undefined;
    }
    // The refresh token the server rotated is not lost: the next request carries on with the new tokens.
    const next = await get(`${stack.bffUrl}/me`, { cookie });
    assert.equal(next.status, 200, next.text);
    assert.equal(next.json<{ user: { sub: string } }>().user.sub, 'user-dana');
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1, 'the spent refresh token was not sent again');
    assert.ok(sessionCookieHeader(next.setCookies), 'the kept tokens are sealed now');
    const logs = stack.bff.logs.join('');
    assert.ok(logs.split('\n').some((l) => l.includes('"code":"LATCH_UPSTREAM_ERROR"') && l.includes('"level":50')), 'logged as an error');
  });

  it('verifies a back-channel logout token signed with a key rotated in since the last fetch', async () => {
    const { cookie } = await signedIn(stack, 1);
    await stack.interceptor!.rotate();
    const token = await stack.interceptor!.sign({
      iss: stack.provider.issuer, aud: stack.clientId, iat: now(), exp: now() + 120, jti: randomUUID(),
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, sub: 'user-erin',
    }, 'valid', { typ: 'logout+jwt' });
    const res = await post(`${stack.bffUrl}/backchannel-logout`, { 'content-type': 'application/x-www-form-urlencoded' }, `logout_token=${token}`);
    assert.equal(res.status, 200, res.text);
    assert.equal((await get(`${stack.bffUrl}/me`, { cookie })).status, 401);
  });

  for (const [what, answer] of [['a 5xx', SERVER_ERROR], ['an HTML page', HTML]] as const) {
    it(`answers 502 LATCH_UPSTREAM_ERROR, logged as an error, when the key set answers ${what} at sign-in`, async () => {
      await stack.interceptor!.rotate();
      stack.interceptor!.onJwks = () => answer;
      try {
        const res = await quickCallback(client, stack.bffUrl);
        assertRefused(res, 502, 'LATCH_UPSTREAM_ERROR', what);
        const line = stack.bff.logs.join('').split('\n').reverse().find((l) => l.includes('/callback'));
        assert.match(line ?? '', /"level":50/, 'an error, not a warning');
      } finally {
        stack.interceptor!.onJwks = undefined;
      }
    });
  }

  describe('GET /readyz', () => {
    it('does not refetch a loaded key set, so a rotation right after probes still signs in', async () => {
      const ready = await get(`${stack.bffUrl}/readyz`);
      assert.equal(ready.status, 200, ready.text);
      const fetched = stack.interceptor!.counts.jwks;
      for (let i = 0; i < 5; i++) assert.equal((await get(`${stack.bffUrl}/readyz`)).status, 200);
      assert.equal(stack.interceptor!.counts.jwks, fetched, 'probes cost no fetch');
      await stack.interceptor!.rotate();
      const res = await quickCallback(client, stack.bffUrl);
      assert.equal(res.status, 302, res.text.slice(0, 300));
    });

    it('reports a key set whose refetch failed, until a fetch succeeds again', async () => {
      await stack.interceptor!.rotate();
      stack.interceptor!.onJwks = () => SERVER_ERROR;
      try {
        assertRefused(await quickCallback(client, stack.bffUrl), 502, 'LATCH_UPSTREAM_ERROR', 'refetch failed');
        const ready = await get(`${stack.bffUrl}/readyz`);
        assert.equal(ready.status, 503);
        assert.deepEqual(ready.json<{ checks: unknown }>().checks, { provider: 'LATCH_UPSTREAM_ERROR' });
      } finally {
        stack.interceptor!.onJwks = undefined;
      }
      await sleep(1000); // the refetch floor
      assert.equal((await get(`${stack.bffUrl}/readyz`)).status, 200);
      const res = await quickCallback(client, stack.bffUrl);
      assert.equal(res.status, 302, res.text.slice(0, 300));
      assert.ok(sessionCookieHeader(res.setCookies), 'signs in again');
    });
  });
});
