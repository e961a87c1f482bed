/**
 * The provider side misbehaves: forged or defective ID tokens, a userinfo answer about someone
 * else, a refresh that names another user, and a tampered callback. Every case goes through the real
 * /login → oidc-provider → /callback walk; the interceptor (evil-as.ts) rewrites the token and
 * userinfo answers. Each must end in the right refusal: status and code, no session cookie, no 500.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it, mock } from 'node:test';
import { Sealer } from '../../bff/session/sealer.ts';
import { HttpClient } from '../helpers/http.ts';
import type { Claims, SignMode, TokenRewrite } from './evil-as.ts';
import {
  assertNoSessionSet,
  assertRefused,
  callbackWithTokens,
  errorCode,
  get,
  pendingCallback,
  quickCallback,
  sessionCookieHeader,
  signedIn,
  SITE,
  sleep,
  startSecStack,
  type SecStack,
} from './support.ts';

const now = () => Math.floor(Date.now() / 1000);

describe('ID token defects at sign-in (the interceptor forges one defect at a time)', () => {
  let stack: SecStack;
  let client: HttpClient;
  before(async () => {
    stack = await startSecStack({ interceptor: true });
    // One real sign-in gives the client a provider session; the cases below then need no form.
    ({ client } = await signedIn(stack));
  });
  after(() => stack.close());

  const attempt = (rewrite: TokenRewrite | undefined) => callbackWithTokens(stack, client, rewrite);

  it('accepts an ID token re-signed with a key in the JWKS (the control case: the harness itself works)', async () => {
    const res = await attempt({ grant: 'authorization_code', sign: 'valid' });
    assert.equal(res.status, 302, res.text.slice(0, 300));
    assert.ok(sessionCookieHeader(res.setCookies), 'a session is set');
  });

  const signatureCases: Array<[string, SignMode]> = [
    ['alg none', 'none'],
    ['a corrupted signature', 'bad-signature'],
    ['HS256 signed with the public key', 'hs256-public-key'],
    ['a key that is not in the JWKS', 'unknown-key'],
  ];
  for (const [name, sign] of signatureCases) {
    it(`answers 400 LATCH_ID_TOKEN_INVALID to ${name}, and sets no session`, async () => {
      const res = await attempt({ grant: 'authorization_code', sign });
      assertRefused(res, 400, 'LATCH_ID_TOKEN_INVALID', name);
    });
  }

  const claimCases: Array<[string, (c: Claims) => Claims]> = [
    ['the wrong aud', (c) => ({ ...c, aud: 'someone-else' })],
    ['an aud list without us', (c) => ({ ...c, aud: ['someone-else', 'another'] })],
    ['the wrong iss', (c) => ({ ...c, iss: 'https://evil.example' })],
    ['an expired token', (c) => ({ ...c, iat: now() - 7200, exp: now() - 3600 })],
    ['an iat in the future', (c) => ({ ...c, iat: now() + 3600, exp: now() + 7200 })],
    ['a nonce of another sign-in', (c) => ({ ...c, nonce: 'not-the-nonce' })],
    ['no nonce', (c) => ({ ...c, nonce: undefined })],
    ['no sub', (c) => ({ ...c, sub: undefined })],
    ['an empty sub', (c) => ({ ...c, sub: '' })],
    ['no exp', (c) => ({ ...c, exp: undefined })],
  ];
  for (const [name, claims] of claimCases) {
    it(`answers 400 LATCH_ID_TOKEN_INVALID to ${name}, and sets no session`, async () => {
      const res = await attempt({ grant: 'authorization_code', claims: (c) => JSON.parse(JSON.stringify(claims(c))) as Claims });
      assertRefused(res, 400, 'LATCH_ID_TOKEN_INVALID', name);
    });
  }

  it('answers 400 LATCH_USERINFO_INVALID when userinfo names another sub, and sets no session', async () => {
    stack.interceptor!.onUserinfo = (c) => ({ ...c, sub: 'user-erin' });
    try {
      const res = await quickCallback(client, stack.bffUrl);
      assertRefused(res, 400, 'LATCH_USERINFO_INVALID', 'userinfo sub');
    } finally {
      stack.interceptor!.onUserinfo = undefined;
    }
  });
});

describe('an ID token from a refresh that names another user', () => {
  let stack: SecStack;
  before(async () => {
    // Access tokens that are "about to expire" (the margin: half their 3 s life) 1.5 s after sign-in.
    stack = await startSecStack({ interceptor: true, provider: { accessTokenTtl: 3 } });
  });
  after(() => stack.close());

  it('ends the session (401 LATCH_SESSION_EXPIRED) instead of switching users, and seals nothing new', async () => {
    const { client } = await signedIn(stack);
    await sleep(1600);
    stack.interceptor!.onToken = { grant: 'refresh_token', claims: (c) => ({ ...c, sub: 'user-erin' }) };
    try {
      const res = await client.request(`${stack.bffUrl}/me`, { headers: { origin: SITE } });
      assertRefused(res, 401, 'LATCH_SESSION_EXPIRED', 'refresh sub');
      assert.ok(res.setCookies.some((c) => /^latch=;/.test(c)), 'the session cookie is cleared');
      assert.equal(JSON.stringify(res.text).includes('user-erin'), false);
    } finally {
      stack.interceptor!.onToken = undefined;
    }
    const after = await client.request(`${stack.bffUrl}/me`);
    assert.equal(after.status, 401);
    assert.ok(stack.bff.audits.some((e) => e.type === 'refresh_failed'), 'the refresh failure is audited');
  });
});

describe('callback tampering', () => {
  let stack: SecStack;
  let client: HttpClient;
  before(async () => {
    stack = await startSecStack();
    ({ client } = await signedIn(stack));
  });
  after(() => stack.close());

  const callback = (params: string, c = client) => c.request(`${stack.bffUrl}/callback?${params}`, { headers: { accept: 'text/html' } });

  it('answers 400 LATCH_CALLBACK_INVALID to a callback without state', async () => {
    const pending = await pendingCallback(client, stack.bffUrl);
    pending.searchParams.delete('state');
    assertRefused(await callback(pending.searchParams.toString()), 400, 'LATCH_CALLBACK_INVALID', 'no state');
  });

  it('answers 400 LATCH_STATE_MISMATCH to a state that is not this browser\'s', async () => {
    const pending = await pendingCallback(client, stack.bffUrl);
    pending.searchParams.set('state', `${pending.searchParams.get('state')}x`);
    assertRefused(await callback(pending.searchParams.toString()), 400, 'LATCH_STATE_MISMATCH', 'other state');
  });

  it('answers 400 LATCH_STATE_MISMATCH to a callback from another browser (no transaction cookie)', async () => {
    const pending = await pendingCallback(client, stack.bffUrl);
    assertRefused(await new HttpClient().request(pending.href), 400, 'LATCH_STATE_MISMATCH', 'other browser');
  });

  it('answers 400 LATCH_STATE_MISMATCH to a replayed callback', async () => {
    const pending = await pendingCallback(client, stack.bffUrl);
    const first = await client.request(pending.href);
    assert.equal(first.status, 302);
    assertRefused(await client.request(pending.href), 400, 'LATCH_STATE_MISMATCH', 'replay');
  });

  it('answers 400 LATCH_STATE_MISMATCH to a replayed callback that brings a copy of its transaction cookie', async () => {
    const start = await client.request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/`)}`);
    const txCookie = start.setCookies.find((c) => c.startsWith('latch-tx-'))!.split(';')[0]!;
    let result = await client.request(start.location!);
    let pending: URL | undefined;
    for (let i = 0; i < 10 && result.location; i++) {
      const next = new URL(result.location);
      if (next.pathname === '/callback') {
        pending = next;
        break;
      }
      result = await client.request(next.href);
    }
    assert.ok(pending);
    assert.equal((await client.request(pending.href)).status, 302);
    // The attacker kept the transaction cookie and the callback URL: the state was used once already.
    const replay = await fetch(pending.href, { headers: { cookie: txCookie }, redirect: 'manual' });
    assert.equal(replay.status, 400);
    assert.equal(replay.headers.getSetCookie().some((c) => /^latch=[^;]/.test(c)), false);
  });

  it('answers 400 LATCH_TOKEN_EXCHANGE_FAILED to a used code under a fresh state (code replay)', async () => {
    const used = await pendingCallback(client, stack.bffUrl);
    assert.equal((await client.request(used.href)).status, 302);
    const fresh = await pendingCallback(client, stack.bffUrl);
    fresh.searchParams.set('code', used.searchParams.get('code')!);
    assertRefused(await client.request(fresh.href), 400, 'LATCH_TOKEN_EXCHANGE_FAILED', 'code replay');
  });

  it('answers 400 LATCH_ISSUER_MISMATCH to an iss of another server (mix-up)', async () => {
    const pending = await pendingCallback(client, stack.bffUrl);
    pending.searchParams.set('iss', 'https://evil.example');
    assertRefused(await client.request(pending.href), 400, 'LATCH_ISSUER_MISMATCH', 'iss');
  });

  it('answers 400 LATCH_ISSUER_MISMATCH to a missing iss when the server promises one (RFC 9207)', async () => {
    const pending = await pendingCallback(client, stack.bffUrl);
    pending.searchParams.delete('iss');
    assertRefused(await client.request(pending.href), 400, 'LATCH_ISSUER_MISMATCH', 'no iss');
  });

  for (const name of ['state', 'code', 'iss']) {
    it(`answers 400 LATCH_CALLBACK_INVALID to a duplicated ${name} parameter`, async () => {
      const pending = await pendingCallback(client, stack.bffUrl);
      pending.searchParams.append(name, pending.searchParams.get(name)!);
      const res = await client.request(pending.href);
      assertRefused(res, 400, 'LATCH_CALLBACK_INVALID', `duplicate ${name}`);
    });
  }

  it('answers 400 to a callback with both code and error', async () => {
    const pending = await pendingCallback(client, stack.bffUrl);
    pending.searchParams.set('error', 'access_denied');
    const res = await client.request(pending.href);
    assert.notEqual(res.status, 500);
    assertNoSessionSet(res, 'code and error');
    assert.ok(res.status === 400 || (res.status === 302 && new URL(res.location!).searchParams.get('latch_error')), `${res.status}`);
  });

  it('never answers 500 to garbage callbacks', async () => {
    for (const q of ['', 'code=', 'state=', 'state=%', 'state=' + 'a'.repeat(3000), 'code=a&state=b&iss=%ZZ', 'state[]=x']) {
      const res = await callback(q);
      assert.ok(res.status === 400, `${q.slice(0, 30)}: ${res.status} ${errorCode(res)}`);
      assertNoSessionSet(res, q);
    }
  });
});

describe('sign-out: the ID token never reaches page JavaScript', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack();
  });
  after(() => stack.close());

  /** A signed-in browser signs out as the widget does; the answer the page reads, and the tokens it must not hold. */
  async function signOut(extra: Record<string, string> = {}) {
    const { client, cookie } = await signedIn(stack);
    const { session } = (await stack.bff.app.latch.sites.all[0]!.cookies.read(cookie))!;
    assert.ok(session.idt, 'the session holds an ID token (the hint the provider wants)');
    const out = await client.request(`${stack.bffUrl}/logout`, { method: 'POST', headers: { origin: SITE, 'latch-csrf': '1', ...extra } });
    assert.equal(out.status, 200, out.text);
    return { client, session, out, logoutUrl: out.json<{ logoutUrl: string }>().logoutUrl };
  }

  it('answers POST /logout with the BFF\'s own /logout/end: no ID, access or refresh token in what the page reads', async () => {
    const { session, out, logoutUrl } = await signOut();
    assert.equal(out.headers.get('access-control-allow-origin'), SITE, 'the page can read this answer');
    for (const [name, token] of [['ID token', session.idt!], ['access token', session.at], ['refresh token', session.rt ?? 'no refresh token']] as const) {
      assert.equal(out.text.includes(token), false, `no ${name} in the answer`);
    }
    assert.doesNotMatch(out.text, /id_token_hint|eyJ[\w-]*\.[\w-]*\./); // a JWT, not the letters eyJ the sealed handle may hold
    const url = new URL(logoutUrl);
    assert.equal(`${url.origin}${url.pathname}`, `${stack.bffUrl}/logout/end`);
    assert.deepEqual([...url.searchParams.keys()], ['handle']);
  });

  it('redirects the browser\'s navigation to the provider with the hint, once, and answers without CORS so no script can read it', async () => {
    const { session, logoutUrl } = await signOut();
    // As a page's fetch would ask (Origin of an allowed page): no CORS headers, so the redirect is unreadable.
    const end = await get(logoutUrl, { origin: SITE });
    assert.equal(end.status, 302);
    assert.equal(end.headers.get('access-control-allow-origin'), null);
    assert.equal(end.headers.get('access-control-allow-credentials'), null);
    const provider = new URL(end.location!);
    assert.equal(provider.origin, stack.provider.issuer);
    assert.equal(provider.searchParams.get('id_token_hint'), session.idt);
    assert.equal(provider.searchParams.get('client_id'), stack.clientId);
    assert.equal(provider.searchParams.get('post_logout_redirect_uri'), `${SITE}/`);
    // Single use: the address in the browser's history leads back to the site, not to the token.
    const again = await get(logoutUrl);
    assert.equal(again.status, 302);
    assert.equal(again.location, `${SITE}/`);
  });

  it('sends a tampered, foreign, expired or missing handle back to the site, without the provider and never a 500', async () => {
    const { logoutUrl } = await signOut();
    const handle = new URL(logoutUrl).searchParams.get('handle')!;
    const flipped = `${handle.slice(0, 60)}${handle[60] === 'A' ? 'B' : 'A'}${handle.slice(61)}`;
    // Sealed like a handle (for this very host), but with another deployment's secret.
    const host = new URL(stack.bffUrl).host;
    const foreign = await new Sealer([randomBytes(32).toString('base64url')]).seal({ t: 'logout', u: 'https://evil.test/', h: host }, 60);
    // Sealed with this deployment's secret, but a session cookie's seal, not a handle.
    const { cookie } = await signedIn(stack);
    const notAHandle = cookie.slice('latch='.length);
    for (const [name, value] of [['tampered', flipped], ['another deployment\'s', foreign], ['a session cookie', notAHandle], ['garbage', 'Fe26.2*x'], ['empty', ''], ['huge', 'A'.repeat(9000)]] as const) {
      const res = await get(`${stack.bffUrl}/logout/end?handle=${encodeURIComponent(value)}`);
      assert.equal(res.status, 302, `${name}: ${res.status} ${res.text.slice(0, 200)}`);
      assert.equal(res.location, `${SITE}/`, name);
    }
    assert.equal((await get(`${stack.bffUrl}/logout/end`)).location, `${SITE}/`, 'no handle');
    // Past its 60 s (and iron's 60 s allowance for clock skew): back to the site too.
    const later = Date.now() + 125_000;
    const clock = mock.method(Date, 'now', () => later);
    try {
      assert.equal((await get(logoutUrl)).location, `${SITE}/`, 'expired');
    } finally {
      clock.mock.restore();
    }
  });
});
