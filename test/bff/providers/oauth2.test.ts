import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpClient, signIn } from '../../helpers/http.ts';
import {
  HTML_PAGE, SERVER_ERROR, SERVER_ERROR_HTML, SILENCE, SITE, answer, assertNoSession, errorCode, sessionSet, sleep,
  startOidcSetup, startPlainUserinfo, startScriptedServer, type OidcSetup, type ScriptedServer,
} from './support.ts';

/** oidc-provider with its endpoints where the plain OAuth 2.0 server keeps them. */
const O_ROUTES = { authorization: '/o/authorize/', token: '/o/token/', userinfo: '/o/userinfo/', revocation: '/o/revoke_token/' };
const login = (bffUrl: string) => `${bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/app`)}`;
const logout = (client: HttpClient, bffUrl: string) =>
  client.request(`${bffUrl}/logout`, { method: 'POST', headers: { origin: SITE, 'latch-csrf': '1' } });

/** The tokens sealed in the client's session cookie (the test may open it: it holds the keys). */
async function sessionOf(setup: OidcSetup, client: HttpClient) {
  const read = await setup.bff.app.latch.sessions.read(await client.jar.getCookieString(setup.bffUrl));
  assert.ok(read, 'a session');
  return read.session;
}

/** Whether the server still takes this refresh token. */
async function refreshWorks(setup: OidcSetup, refreshToken: string): Promise<boolean> {
  const res = await fetch(`${setup.op.issuer}/o/token/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${setup.clientId}:${setup.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  return res.ok;
}

describe('LATCH_PROVIDER=oauth2 against oidc-provider serving /o/ endpoints', () => {
  describe('with OpenID Connect (openid in the scopes)', () => {
    let setup: OidcSetup;
    before(async () => {
      setup = await startOidcSetup({
        provider: { accessTokenTtl: 3, routes: O_ROUTES },
        env: (issuer) => ({ LATCH_PROVIDER: 'oauth2', LATCH_OAUTH2_BASE_URL: issuer, LATCH_JWKS_URI: `${issuer}/jwks` }),
      });
    });
    after(() => setup.close());

    it('sends the browser to /o/authorize/ with a nonce', async () => {
      const res = await new HttpClient().request(login(setup.bffUrl));
      const to = new URL(res.location!);
      assert.equal(`${to.origin}${to.pathname}`, `${setup.op.issuer}/o/authorize/`);
      assert.ok(to.searchParams.get('nonce'));
    });

    it('signs in, serves /me, refreshes a rotating refresh token and revokes both tokens at logout', async () => {
      const client = new HttpClient();
      const { finalUrl, callbackResult } = await signIn(client, login(setup.bffUrl), setup.user);
      assert.equal(finalUrl.href, `${SITE}/app`, setup.bff.logs.slice(-2).join(''));
      assert.ok(sessionSet(callbackResult));
      const first = await sessionOf(setup, client);
      assert.ok(first.idt, 'an ID token');
      assert.ok(first.rt, 'a refresh token');

      const me = await client.request(`${setup.bffUrl}/me`);
      assert.equal(me.status, 200);
      assert.equal(me.json<{ user: { sub: string; email: string } }>().user.sub, setup.user.sub);

      setup.op.resetCounts();
      await sleep(1600);
      assert.equal((await client.request(`${setup.bffUrl}/me`)).status, 200);
      assert.equal(setup.op.counts.tokenByGrant['refresh_token'], 1);
      const second = await sessionOf(setup, client);
      assert.notEqual(second.rt, first.rt, 'the refresh token rotated');

      const out = await logout(client, setup.bffUrl);
      assert.equal(out.status, 200);
      assert.equal(out.json<{ logoutUrl: string | null }>().logoutUrl, null, 'no end-session endpoint configured');
      assert.equal(setup.op.counts.revocation, 2);
      assert.equal(await refreshWorks(setup, second.rt!), false, 'the refresh token is revoked');
      assert.equal((await client.request(`${setup.bffUrl}/me`)).status, 401);
    });

    it('answers LATCH_STATE_MISMATCH to a forged state, with no session', async () => {
      const client = new HttpClient();
      await client.request(login(setup.bffUrl));
      const res = await client.request(`${setup.bffUrl}/callback?code=abc&state=forged-state-value&iss=${encodeURIComponent(setup.op.issuer)}`);
      assert.equal(errorCode(res), 'LATCH_STATE_MISMATCH');
      assertNoSession(res, 'forged state');
    });
  });

  describe('as plain OAuth 2.0 (no openid: no ID token, opaque tokens, user from userinfo)', () => {
    let setup: OidcSetup;
    let userinfo: ScriptedServer;
    before(async () => {
      setup = await startOidcSetup({
        provider: { accessTokenTtl: 3, rotateRefreshTokens: false, routes: { ...O_ROUTES, userinfo: '/o/oidc-userinfo/' } },
        prepare: async (op) => {
          userinfo = await startPlainUserinfo(op, (u) => ({ id: u.sub, username: u.login, email: u.email }));
        },
        env: (issuer) => ({
          LATCH_PROVIDER: 'oauth2',
          LATCH_OAUTH2_BASE_URL: issuer,
          LATCH_SCOPES: 'offline_access',
          // Every /o/ endpoint can be overridden on its own.
          LATCH_USERINFO_ENDPOINT: `${userinfo.url}/o/userinfo/`,
        }),
      });
    });
    after(async () => {
      await setup?.close();
      await userinfo?.close();
    });

    it('sends no nonce and no openid scope', async () => {
      const res = await new HttpClient().request(login(setup.bffUrl));
      const to = new URL(res.location!);
      assert.equal(to.searchParams.get('nonce'), null);
      assert.equal(to.searchParams.get('scope'), 'offline_access');
    });

    it('signs in with the user from userinfo\'s "id", refreshes a non-rotating refresh token and revokes both at logout', async () => {
      const client = new HttpClient();
      const { finalUrl, callbackResult } = await signIn(client, login(setup.bffUrl), setup.user);
      assert.equal(finalUrl.href, `${SITE}/app`, setup.bff.logs.slice(-2).join(''));
      assert.ok(sessionSet(callbackResult));
      const first = await sessionOf(setup, client);
      assert.equal(first.idt, undefined, 'no ID token');
      assert.doesNotMatch(first.at, /^eyJ/, 'an opaque access token');
      assert.ok(first.rt);

      const me = await client.request(`${setup.bffUrl}/me`);
      assert.equal(me.status, 200);
      const { user } = me.json<{ user: Record<string, unknown> }>();
      assert.equal(user['sub'], setup.user.sub);
      assert.equal(user['username'], setup.user.login);
      assert.equal(user['id'], undefined);

      setup.op.resetCounts();
      await sleep(1600);
      assert.equal((await client.request(`${setup.bffUrl}/me`)).status, 200);
      assert.equal(setup.op.counts.tokenByGrant['refresh_token'], 1);
      const second = await sessionOf(setup, client);
      assert.notEqual(second.at, first.at, 'a new access token');
      assert.equal(second.rt, first.rt, 'the same refresh token, kept');

      const out = await logout(client, setup.bffUrl);
      assert.equal(out.status, 200);
      assert.equal(setup.op.counts.revocation, 2);
      assert.equal(await refreshWorks(setup, first.rt!), false, 'the refresh token is revoked');
      assert.equal((await client.request(`${setup.bffUrl}/me`)).status, 401);
    });
  });

  describe('bad inputs', () => {
    /** A plain OAuth 2.0 setup whose userinfo (or other endpoints) the test scripts. */
    async function plainSetup(env: (issuer: string, side: ScriptedServer) => Record<string, string>, side: ScriptedServer) {
      return startOidcSetup({
        provider: { routes: { ...O_ROUTES, userinfo: '/o/oidc-userinfo/' } },
        env: (issuer) => ({ LATCH_PROVIDER: 'oauth2', LATCH_OAUTH2_BASE_URL: issuer, LATCH_SCOPES: 'offline_access', LATCH_HTTP_TIMEOUT_MS: '300', ...env(issuer, side) }),
      });
    }

    for (const [what, script, code] of [
      ['names nobody (no sub, no id)', answer(200, 'application/json', '{"username":"ann","email":"ann@example.com"}'), 'LATCH_USERINFO_INVALID'],
      ['names the user by an empty id', answer(200, 'application/json', '{"id":""}'), 'LATCH_USERINFO_INVALID'],
      ['answers an HTML page', HTML_PAGE, 'LATCH_UPSTREAM_ERROR'],
      ['answers 500', SERVER_ERROR_HTML, 'LATCH_UPSTREAM_ERROR'],
      ['answers nothing at all', SILENCE, 'LATCH_UPSTREAM_TIMEOUT'],
    ] as const) {
      it(`answers ${code} when userinfo ${what}, with no session`, async () => {
        const side = await startScriptedServer(script);
        const setup = await plainSetup((_issuer, s) => ({ LATCH_USERINFO_ENDPOINT: `${s.url}/o/userinfo/` }), side);
        try {
          const client = new HttpClient();
          const { callbackResult } = await signIn(client, login(setup.bffUrl), setup.user);
          assert.equal(errorCode(callbackResult!), code, callbackResult?.text.slice(0, 200));
          assertNoSession(callbackResult, what);
          assert.equal((await client.request(`${setup.bffUrl}/me`)).status, 401);
          assert.equal(side.requests[0]?.path, '/o/userinfo/');
        } finally {
          await setup.close();
          await side.close();
        }
      });
    }

    for (const [what, script, code] of [
      ['an HTML page', HTML_PAGE, 'LATCH_UPSTREAM_ERROR'],
      ['a 500', SERVER_ERROR, 'LATCH_UPSTREAM_ERROR'],
      ['nothing at all', SILENCE, 'LATCH_UPSTREAM_TIMEOUT'],
    ] as const) {
      it(`answers ${code} when the token endpoint answers ${what}, with no session`, async () => {
        const side = await startScriptedServer(script);
        const setup = await plainSetup((_issuer, s) => ({ LATCH_TOKEN_ENDPOINT: `${s.url}/o/token/`, LATCH_USERINFO_ENDPOINT: `${s.url}/o/userinfo/` }), side);
        try {
          const { callbackResult } = await signIn(new HttpClient(), login(setup.bffUrl), setup.user);
          assert.equal(errorCode(callbackResult!), code);
          assertNoSession(callbackResult, what);
          assert.equal(side.requests[0]?.path, '/o/token/');
        } finally {
          await setup.close();
          await side.close();
        }
      });
    }

    it('answers LATCH_TOKEN_EXCHANGE_FAILED to a wrong client secret sent with client_secret_post, with no session', async () => {
      const setup = await startOidcSetup({
        provider: { routes: O_ROUTES },
        client: { token_endpoint_auth_method: 'client_secret_post' },
        env: (issuer) => ({
          LATCH_PROVIDER: 'oauth2', LATCH_OAUTH2_BASE_URL: issuer, LATCH_JWKS_URI: `${issuer}/jwks`,
          LATCH_TOKEN_AUTH_METHOD: 'client_secret_post', LATCH_CLIENT_SECRET: 'wrong-secret',
        }),
      });
      try {
        const { callbackResult } = await signIn(new HttpClient(), login(setup.bffUrl), setup.user);
        assert.ok(callbackResult);
        assert.equal(errorCode(callbackResult), 'LATCH_TOKEN_EXCHANGE_FAILED');
        assert.equal(callbackResult.status, 502, 'invalid_client is a deployment fault, not the user\'s');
        assertNoSession(callbackResult, 'wrong secret');
      } finally {
        await setup.close();
      }
    });
  });

  describe('logout when revocation fails', () => {
    let setup: OidcSetup;
    let revocation: ScriptedServer;
    before(async () => {
      revocation = await startScriptedServer();
      setup = await startOidcSetup({
        provider: { routes: O_ROUTES },
        env: (issuer) => ({
          LATCH_PROVIDER: 'oauth2', LATCH_OAUTH2_BASE_URL: issuer, LATCH_JWKS_URI: `${issuer}/jwks`,
          LATCH_REVOCATION_ENDPOINT: `${revocation.url}/o/revoke_token/`, LATCH_HTTP_TIMEOUT_MS: '300',
        }),
      });
    });
    after(async () => {
      await setup?.close();
      await revocation?.close();
    });

    it('revokes the refresh token first, then the access token', async () => {
      revocation.script = answer(200, 'text/plain', '');
      revocation.requests.length = 0;
      const client = new HttpClient();
      await signIn(client, login(setup.bffUrl), setup.user);
      const session = await sessionOf(setup, client);
      const out = await logout(client, setup.bffUrl);
      assert.equal(out.status, 200);
      const tokens = revocation.requests.map((r) => new URLSearchParams(r.body).get('token'));
      assert.deepEqual(tokens, [session.rt, session.at]);
    });

    for (const [what, script] of [['answers 500', SERVER_ERROR_HTML], ['never answers', SILENCE]] as const) {
      it(`clears the session cookie when the revocation endpoint ${what}`, async () => {
        revocation.script = script;
        const client = new HttpClient();
        await signIn(client, login(setup.bffUrl), setup.user);
        assert.equal((await client.request(`${setup.bffUrl}/me`)).status, 200);
        const started = performance.now();
        const out = await logout(client, setup.bffUrl);
        assert.equal(out.status, 200, out.text);
        assert.ok(performance.now() - started < 3000, 'bounded by the timeout');
        assert.match(out.setCookies.find((c) => c.startsWith('latch='))!, /Max-Age=0/i);
        const me = await client.request(`${setup.bffUrl}/me`);
        assert.equal(me.status, 401);
        assert.equal(errorCode(me), 'LATCH_UNAUTHENTICATED');
      });
    }
  });
});
