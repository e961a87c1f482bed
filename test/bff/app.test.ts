import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpClient, completeProviderLogout, followLogoutHandle, signIn } from '../helpers/http.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sessionCookie(setCookies: string[], name = 'latch') {
  return setCookies.find((c) => c.startsWith(`${name}=`));
}

describe('the walking skeleton against oidc-provider', () => {
  let stack: Stack;
  before(async () => {
    // Access tokens live 3 s, so with the BFF's refresh margin (half their life) they are "about to expire" after 1.5 s.
    stack = await startStack({ provider: { accessTokenTtl: 3 } });
  });
  after(() => stack.close());

  it('signs in, serves /me, refreshes an expiring access token, and signs out', async () => {
    const client = new HttpClient();
    const returnTo = `${stack.siteOrigin}/account?tab=1`;
    const { finalUrl, callbackResult } = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(returnTo)}`, stack.user);
    assert.equal(finalUrl.href, returnTo);
    assert.ok(callbackResult, 'the callback was reached');
    const cookie = sessionCookie(callbackResult.setCookies);
    assert.ok(cookie, 'the callback sets the session cookie');
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.ok(Buffer.byteLength(cookie) < 4096, `cookie is ${Buffer.byteLength(cookie)} bytes`);
    assert.doesNotMatch(cookie, /eyJ/, 'no readable JWT inside the sealed cookie');

    const me = await client.request(`${stack.bffUrl}/me`, { headers: { origin: stack.siteOrigin } });
    assert.equal(me.status, 200, me.text + stack.logs.slice(-3).join(""));
    const body = me.json<{ user: Record<string, unknown>; expiresAt: number }>();
    assert.equal(body.user['email'], stack.provider.users[0]!.email);
    assert.equal(body.user['name'], stack.provider.users[0]!.name);
    assert.equal(typeof body.user['sub'], 'string');
    assert.ok(body.expiresAt > Date.now());
    assert.equal(JSON.stringify(body).includes('token'), false, 'no token reaches the page');
    assert.equal(me.headers.get('access-control-allow-origin'), stack.siteOrigin);
    assert.equal(me.headers.get('access-control-allow-credentials'), 'true');
    assert.match(me.headers.get('vary') ?? '', /Origin/);

    // The access token is now within the refresh margin: /me refreshes it once, with the refresh token.
    stack.provider.resetCounts();
    await sleep(1600);
    const refreshed = await client.request(`${stack.bffUrl}/me`);
    assert.equal(refreshed.status, 200);
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1);
    assert.ok(sessionCookie(refreshed.setCookies), 'the refreshed tokens are resealed into the cookie');
    const again = await client.request(`${stack.bffUrl}/me`);
    assert.equal(again.status, 200);

    const noCsrf = await client.request(`${stack.bffUrl}/logout`, { method: 'POST', headers: { origin: stack.siteOrigin } });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.json<{ error: { code: string } }>().error.code, 'LATCH_CSRF');
    assert.equal((await client.request(`${stack.bffUrl}/me`)).status, 200, 'a refused logout leaves the session');

    const out = await client.request(`${stack.bffUrl}/logout`, {
      method: 'POST',
      headers: { origin: stack.siteOrigin, 'latch-csrf': '1' },
    });
    assert.equal(out.status, 200);
    // The page reads this answer: it names the BFF's own /logout/end, never a token.
    const { logoutUrl } = out.json<{ logoutUrl: string }>();
    assert.equal(`${new URL(logoutUrl).origin}${new URL(logoutUrl).pathname}`, `${stack.bffUrl}/logout/end`);
    assert.doesNotMatch(out.text, /id_token_hint|eyJ/, 'no ID token in the answer');
    assert.match(sessionCookie(out.setCookies) ?? '', /Max-Age=0|Expires=Thu, 01 Jan 1970/i);
    const gone = await client.request(`${stack.bffUrl}/me`);
    assert.equal(gone.status, 401);
    assert.equal(gone.json<{ error: { code: string } }>().error.code, 'LATCH_UNAUTHENTICATED');
    // The browser's navigation there is redirected to the provider, the hint added by the BFF.
    const end = await followLogoutHandle(client, logoutUrl);
    assert.equal(end.origin, stack.provider.issuer);
    assert.ok(end.searchParams.get('id_token_hint'));
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${stack.siteOrigin}/`);
    const { finalUrl: afterLogout } = await completeProviderLogout(client, end.href);
    assert.equal(afterLogout.href, `${stack.siteOrigin}/`);
  });

  it('sends PKCE S256, state and nonce, and a transaction cookie per attempt', async () => {
    const client = new HttpClient();
    const a = await client.request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(stack.siteOrigin + '/a')}`);
    const b = await client.request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(stack.siteOrigin + '/b')}`);
    assert.equal(a.status, 302);
    const url = new URL(a.location!);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(url.searchParams.get('code_challenge'));
    assert.ok(url.searchParams.get('state'));
    assert.ok(url.searchParams.get('nonce'));
    assert.equal(url.searchParams.get('scope'), 'openid profile email offline_access');
    const txA = a.setCookies.find((c) => c.startsWith('latch-tx-'))?.split('=')[0];
    const txB = b.setCookies.find((c) => c.startsWith('latch-tx-'))?.split('=')[0];
    assert.ok(txA && txB && txA !== txB, 'two attempts keep two transaction cookies');
  });

  it('lets two tabs sign in at once', async () => {
    const client = new HttpClient();
    const first = await client.request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(stack.siteOrigin + '/one')}`);
    // The second tab completes its sign-in while the first one's transaction is still open.
    const second = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(stack.siteOrigin + '/two')}`, stack.user);
    assert.equal(second.finalUrl.pathname, '/two');
    // The first tab then finishes: the provider already has a session, so it redirects straight back.
    const { chain } = await client.follow(first.location!, { until: (u) => u.origin === stack.siteOrigin });
    assert.equal(new URL(chain.at(-1)!).pathname, '/one');
  });

  it('falls back to the first allowed origin for a returnTo elsewhere', async () => {
    const client = new HttpClient();
    const { finalUrl } = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent('https://evil.example/steal')}`, stack.user);
    assert.equal(finalUrl.href, `${stack.siteOrigin}/`);
  });

  it('answers access_denied with a redirect back carrying latch_error, and no session', async () => {
    const client = new HttpClient();
    const { finalUrl, callbackResult } = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(stack.siteOrigin + '/p')}`, stack.user, { cancel: true });
    assert.equal(finalUrl.origin, stack.siteOrigin);
    assert.equal(finalUrl.searchParams.get('latch_error'), 'access_denied');
    assert.equal(sessionCookie(callbackResult?.setCookies ?? []), undefined);
    assert.equal((await client.request(`${stack.bffUrl}/me`)).status, 401);
  });

  it('answers 400 LATCH_STATE_MISMATCH to a callback whose state has no transaction, and sets no cookie', async () => {
    const client = new HttpClient();
    await client.request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(stack.siteOrigin + '/')}`);
    const forged = await client.request(`${stack.bffUrl}/callback?code=abc&state=not-the-state`, { headers: { accept: 'text/html' } });
    assert.equal(forged.status, 400);
    assert.match(forged.headers.get('content-type') ?? '', /html/);
    assert.match(forged.text, /LATCH_STATE_MISMATCH/);
    assert.doesNotMatch(forged.text, /at .*\.ts:\d+/, 'no stack trace');
    assert.equal(forged.setCookies.length, 0);
    assert.match(forged.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });

  it('answers 401, not 500, to a tampered session cookie', async () => {
    const client = new HttpClient();
    const { callbackResult } = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(stack.siteOrigin + '/')}`, stack.user);
    const cookie = sessionCookie(callbackResult!.setCookies)!.split(';')[0]!;
    const value = cookie.slice('latch='.length);
    const flipped = value.slice(0, 60) + (value[60] === 'A' ? 'B' : 'A') + value.slice(61);
    for (const bad of [flipped, value.slice(0, value.length / 2), 'garbage', 'Fe26.2**x*y*z']) {
      const res = await fetch(`${stack.bffUrl}/me`, { headers: { cookie: `latch=${bad}` } });
      assert.equal(res.status, 401, `cookie ${bad.slice(0, 20)}…`);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'LATCH_UNAUTHENTICATED');
    }
    const ok = await fetch(`${stack.bffUrl}/me`, { headers: { cookie } });
    assert.equal(ok.status, 200);
  });

  it('keeps tokens, cookies and secrets out of the logs', () => {
    const all = stack.logs.join('\n');
    assert.ok(all.includes('signed in'), 'the logs saw the logins');
    assert.equal(all.includes(stack.clientSecret), false);
    assert.doesNotMatch(all, /eyJ[\w-]+\.[\w-]+\./, 'no JWT in the logs');
    assert.doesNotMatch(all, /Fe26\.2\*/, 'no sealed cookie in the logs');
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${stack.bffUrl}/healthz`);
    assert.equal(res.status, 200);
  });

  it('gives other origins no CORS headers', async () => {
    const res = await fetch(`${stack.bffUrl}/me`, { headers: { origin: 'https://evil.example' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });
});
