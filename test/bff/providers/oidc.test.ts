import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { HttpClient, completeProviderLogout, followLogoutHandle, signIn } from '../../helpers/http.ts';
import {
  HTML_PAGE, SERVER_ERROR, SERVER_ERROR_HTML, SILENCE, SITE, answer, assertNoSession, errorCode, sessionSet, sleep,
  recordFetches, startBff, startOidcSetup, startScriptedServer, type OidcSetup, type ScriptedServer,
} from './support.ts';
import { freePort } from '../../helpers/net.ts';

const login = (bffUrl: string, query = '') => `${bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/account`)}${query}`;
const byHand = (issuer: string) => ({
  LATCH_ISSUER: issuer,
  LATCH_AUTHORIZATION_ENDPOINT: `${issuer}/auth`,
  LATCH_TOKEN_ENDPOINT: `${issuer}/token`,
  LATCH_USERINFO_ENDPOINT: `${issuer}/me`,
  LATCH_REVOCATION_ENDPOINT: `${issuer}/token/revocation`,
  LATCH_END_SESSION_ENDPOINT: `${issuer}/session/end`,
  LATCH_JWKS_URI: `${issuer}/jwks`,
});

/**
 * The whole life of a session: sign in, /me, a refresh once the access token is about to
 * expire (they live 3 s; the margin is half that), logout through the end-session endpoint.
 */
async function fullCycle(setup: OidcSetup) {
  const client = new HttpClient();
  const { finalUrl, callbackResult } = await signIn(client, login(setup.bffUrl), setup.user);
  assert.equal(finalUrl.href, `${SITE}/account`, setup.bff.logs.slice(-2).join(''));
  assert.ok(sessionSet(callbackResult), 'the callback sets the session cookie');

  const me = await client.request(`${setup.bffUrl}/me`);
  assert.equal(me.status, 200, me.text);
  const { user } = me.json<{ user: Record<string, unknown> }>();
  assert.equal(user['sub'], setup.user.sub);
  assert.equal(user['email'], setup.user.email);

  setup.op.resetCounts();
  await sleep(1600);
  const refreshed = await client.request(`${setup.bffUrl}/me`);
  assert.equal(refreshed.status, 200, refreshed.text);
  assert.equal(setup.op.counts.tokenByGrant['refresh_token'], 1, 'offline_access gave a refresh token, and it was used');

  const out = await client.request(`${setup.bffUrl}/logout`, { method: 'POST', headers: { origin: SITE, 'latch-csrf': '1' } });
  assert.equal(out.status, 200);
  const { logoutUrl } = out.json<{ logoutUrl: string }>();
  assert.doesNotMatch(out.text, /id_token_hint|eyJ[\w-]*\.[\w-]*\./, 'the page never sees the ID token');
  const end = await followLogoutHandle(client, logoutUrl);
  assert.equal(end.href.split('?')[0], `${setup.op.issuer}/session/end`);
  assert.ok(end.searchParams.get('id_token_hint'), 'id_token_hint');
  assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${SITE}/`);
  assert.equal(setup.op.counts.revocation, 2, 'the refresh token, then the access token, were revoked');
  assert.equal((await client.request(`${setup.bffUrl}/me`)).status, 401);
  const { finalUrl: back } = await completeProviderLogout(client, end.href);
  assert.equal(back.href, `${SITE}/`);
}

describe('LATCH_PROVIDER=oidc against oidc-provider', () => {
  describe('with discovery from LATCH_ISSUER', () => {
    let setup: OidcSetup;
    const tokenAuth: string[] = [];
    before(async () => {
      setup = await startOidcSetup({
        provider: { accessTokenTtl: 3 },
        env: (issuer) => ({ LATCH_ISSUER: issuer, LATCH_POST_LOGOUT_REDIRECT_URI: `${SITE}/` }),
      });
      setup.op.provider.on('grant.success', (ctx: { get(name: string): string }) => {
        tokenAuth.push(ctx.get('authorization').split(' ')[0] ?? '');
      });
    });
    after(() => setup.close());

    it('signs in, serves /me, refreshes and signs out through the end-session endpoint', async () => {
      await fullCycle(setup);
      assert.ok(tokenAuth.length >= 2);
      assert.ok(tokenAuth.every((scheme) => scheme === 'Basic'), 'client_secret_basic by default');
    });

    it('forwards the allowlisted routing parameters and drops everything else', async () => {
      const res = await new HttpClient().request(login(setup.bffUrl,
        '&prompt=create&organization_id=org_42&connection_id=conn_7&login_hint=ann%40example.com' +
        '&access_type=offline&scope=admin&redirect_uri=https%3A%2F%2Fevil.example%2F&foo=bar'));
      assert.equal(res.status, 302);
      const to = new URL(res.location!);
      assert.equal(to.searchParams.get('prompt'), 'create');
      assert.equal(to.searchParams.get('organization_id'), 'org_42');
      assert.equal(to.searchParams.get('connection_id'), 'conn_7');
      assert.equal(to.searchParams.get('login_hint'), 'ann@example.com');
      assert.equal(to.searchParams.get('scope'), 'openid profile email offline_access');
      assert.equal(to.searchParams.get('redirect_uri'), `${setup.bffUrl}/callback`);
      for (const dropped of ['access_type', 'foo']) assert.equal(to.searchParams.get(dropped), null, dropped);
    });

    for (const prompt of ['login', 'create', 'select_account', 'none']) {
      it(`forwards prompt=${prompt}`, async () => {
        const res = await new HttpClient().request(login(setup.bffUrl, `&prompt=${prompt}`));
        assert.equal(new URL(res.location!).searchParams.get('prompt'), prompt);
      });
    }

    it('drops a prompt value off the list', async () => {
      const res = await new HttpClient().request(login(setup.bffUrl, '&prompt=bogus'));
      assert.equal(new URL(res.location!).searchParams.get('prompt'), null);
    });

    it('brings login_required back to the page as latch_error for prompt=none without a session', async () => {
      const client = new HttpClient();
      const { chain } = await client.follow(login(setup.bffUrl, '&prompt=none'), { until: (u) => u.origin === SITE });
      const back = new URL(chain.at(-1)!);
      assert.equal(back.origin, SITE);
      assert.equal(back.searchParams.get('latch_error'), 'login_required');
      assert.equal((await client.request(`${setup.bffUrl}/me`)).status, 401);
    });

    for (const error of ['access_denied', 'invalid_request', 'server_error', 'login_required']) {
      it(`brings error=${error} back to the page as latch_error=${error}, with no session`, async () => {
        const client = new HttpClient();
        const started = await client.request(login(setup.bffUrl));
        const state = new URL(started.location!).searchParams.get('state')!;
        const query = new URLSearchParams({ error, error_description: 'x', state, iss: setup.op.issuer });
        const res = await client.request(`${setup.bffUrl}/callback?${query}`);
        assert.equal(res.status, 302);
        const back = new URL(res.location!);
        assert.equal(back.origin + back.pathname, `${SITE}/account`);
        assert.equal(back.searchParams.get('latch_error'), error);
        assertNoSession(res, error);
      });
    }

    it('answers LATCH_STATE_MISMATCH to a forged state, with no session', async () => {
      const client = new HttpClient();
      const started = await client.request(login(setup.bffUrl));
      const state = new URL(started.location!).searchParams.get('state')!;
      const forged = `${state.slice(0, 16)}${'A'.repeat(state.length - 16)}`;
      const res = await client.request(`${setup.bffUrl}/callback?code=abc&state=${forged}&iss=${encodeURIComponent(setup.op.issuer)}`);
      assert.equal(res.status, 400);
      assert.equal(errorCode(res), 'LATCH_STATE_MISMATCH');
      assertNoSession(res, 'forged state');
    });
  });

  describe('with an explicit LATCH_DISCOVERY_URL', () => {
    let setup: OidcSetup;
    let mirror: ScriptedServer;
    before(async () => {
      // The metadata, served from elsewhere than the issuer's well-known URL.
      mirror = await startScriptedServer();
      setup = await startOidcSetup({
        provider: { accessTokenTtl: 3 },
        env: (issuer) => ({ LATCH_ISSUER: issuer, LATCH_DISCOVERY_URL: `${mirror.url}/tenants/acme/openid-configuration` }),
      });
      const doc = await (await fetch(`${setup.op.issuer}/.well-known/openid-configuration`)).text();
      mirror.script = answer(200, 'application/json', doc);
    });
    after(async () => {
      await setup.close();
      await mirror.close();
    });

    it('signs in, serves /me, refreshes and signs out, reading only that URL', async () => {
      const fetched = recordFetches();
      try {
        await fullCycle(setup);
      } finally {
        fetched.restore();
      }
      assert.deepEqual(mirror.requests.map((r) => r.path), ['/tenants/acme/openid-configuration']);
      assert.equal(fetched.urls.filter((u) => u.includes('/.well-known/')).length, 0, 'the default well-known URL is not read');
    });
  });

  describe('with discovery off and the endpoints given by hand', () => {
    let setup: OidcSetup;
    const tokenRequests: Array<{ basic: boolean }> = [];
    before(async () => {
      setup = await startOidcSetup({
        provider: { accessTokenTtl: 3 },
        client: { token_endpoint_auth_method: 'client_secret_post' },
        env: (issuer) => ({ ...byHand(issuer), LATCH_TOKEN_AUTH_METHOD: 'client_secret_post' }),
      });
      setup.op.provider.on('grant.success', (ctx: { get(name: string): string }) => {
        tokenRequests.push({ basic: ctx.get('authorization') !== '' });
      });
    });
    after(() => setup.close());

    it('signs in with client_secret_post, serves /me, refreshes and signs out, never reading discovery', async () => {
      const fetched = recordFetches();
      try {
        await fullCycle(setup);
      } finally {
        fetched.restore();
      }
      assert.equal(fetched.urls.filter((u) => u.includes('/.well-known/')).length, 0, 'no discovery');
      assert.ok(fetched.urls.some((u) => u.endsWith('/token')), 'the token requests were seen (node:http)');
      assert.ok(fetched.urls.some((u) => u.endsWith('/jwks')), 'the JWKS came from LATCH_JWKS_URI');
      assert.ok(tokenRequests.length >= 2);
      assert.deepEqual(tokenRequests.filter((r) => r.basic), [], 'the secret went in the body, not in Basic');
    });
  });

  describe('bad inputs', () => {
    // A 401 challenge at the token endpoint (client_secret_basic refused): the client, not the user's grant.
    it('answers 502 LATCH_CLIENT_REFUSED to a wrong client secret, with no session', async () => {
      const setup = await startOidcSetup({ env: (issuer) => ({ LATCH_ISSUER: issuer, LATCH_CLIENT_SECRET: 'not-the-secret' }) });
      try {
        const client = new HttpClient();
        const { callbackResult } = await signIn(client, login(setup.bffUrl), setup.user);
        assert.equal(callbackResult?.status, 502);
        assert.equal(errorCode(callbackResult!), 'LATCH_CLIENT_REFUSED');
        assertNoSession(callbackResult, 'wrong secret');
        assert.equal((await client.request(`${setup.bffUrl}/me`)).status, 401);
      } finally {
        await setup.close();
      }
    });

    describe('from a scripted server (discovery off)', () => {
      let server: ScriptedServer;
      let bff: Awaited<ReturnType<typeof startBff>>;
      const key = generateKeyPair('RS256');
      const otherKey = generateKeyPair('RS256');
      before(async () => {
        server = await startScriptedServer();
        bff = await startBff(await freePort(), {
          LATCH_CLIENT_ID: 'web',
          LATCH_CLIENT_SECRET: 'secret',
          ...byHand(server.url),
          LATCH_HTTP_TIMEOUT_MS: '300',
        });
      });
      after(async () => {
        await bff.close();
        await server.close();
      });

      /** /login, then the callback with a code; the server answers the token request as scripted. */
      async function callback() {
        const client = new HttpClient();
        const started = await client.request(login(bff.url));
        const sent = new URL(started.location!);
        const state = sent.searchParams.get('state')!;
        const res = await client.request(`${bff.url}/callback?code=c0de&state=${state}`);
        return { res, client };
      }

      async function idToken(claims: Record<string, unknown>, signWith = key) {
        const { privateKey } = await signWith;
        return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
      }

      /** A token endpoint answering the ID token `make()` gives, and the JWKS of `key`. */
      function tokenServer(make: () => Promise<string>) {
        server.script = async (req, res, body) => {
          if (req.url === '/jwks') {
            const jwk = await exportJWK((await key).publicKey);
            return answer(200, 'application/json', JSON.stringify({ keys: [{ ...jwk, kid: 'k1', alg: 'RS256', use: 'sig' }] }))(req, res, body);
          }
          if (req.url === '/me') return answer(200, 'application/json', JSON.stringify({ sub: 'u1', name: 'U One' }))(req, res, body);
          answer(200, 'application/json', JSON.stringify({ access_token: 'opaque', token_type: 'Bearer', expires_in: 300, id_token: await make() }))(req, res, body);
        };
      }

      const now = () => Math.floor(Date.now() / 1000);
      const claims = (nonce: string, extra: Record<string, unknown> = {}) => ({
        iss: server.url, aud: 'web', sub: 'u1', iat: now(), exp: now() + 300, nonce, ...extra,
      });

      it('answers LATCH_ID_TOKEN_INVALID to an ID token signed with another key (forged), with no session', async () => {
        let nonce = '';
        tokenServer(() => idToken(claims(nonce), otherKey));
        const client = new HttpClient();
        const started = await client.request(login(bff.url));
        nonce = new URL(started.location!).searchParams.get('nonce')!;
        const state = new URL(started.location!).searchParams.get('state')!;
        const res = await client.request(`${bff.url}/callback?code=c0de&state=${state}`);
        assert.equal(res.status, 400, res.text);
        assert.equal(errorCode(res), 'LATCH_ID_TOKEN_INVALID');
        assertNoSession(res, 'forged ID token');
      });

      it('answers LATCH_ID_TOKEN_INVALID to an expired ID token, with no session', async () => {
        let nonce = '';
        tokenServer(() => idToken(claims(nonce, { iat: now() - 7200, exp: now() - 3600 })));
        const client = new HttpClient();
        const started = await client.request(login(bff.url));
        nonce = new URL(started.location!).searchParams.get('nonce')!;
        const state = new URL(started.location!).searchParams.get('state')!;
        const res = await client.request(`${bff.url}/callback?code=c0de&state=${state}`);
        assert.equal(errorCode(res), 'LATCH_ID_TOKEN_INVALID');
        assertNoSession(res, 'expired ID token');
      });

      it('signs in with a good ID token from the same server (the failures above can pass)', async () => {
        let nonce = '';
        tokenServer(() => idToken(claims(nonce)));
        const client = new HttpClient();
        const started = await client.request(login(bff.url));
        nonce = new URL(started.location!).searchParams.get('nonce')!;
        const state = new URL(started.location!).searchParams.get('state')!;
        const res = await client.request(`${bff.url}/callback?code=c0de&state=${state}`);
        assert.equal(res.status, 302, res.text);
        assert.ok(sessionSet(res));
      });

      for (const [what, script, code] of [
        ['an HTML page', HTML_PAGE, 'LATCH_UPSTREAM_ERROR'],
        ['a 500 with JSON', SERVER_ERROR, 'LATCH_UPSTREAM_ERROR'],
        ['a 500 with HTML', SERVER_ERROR_HTML, 'LATCH_UPSTREAM_ERROR'],
        ['nothing at all', SILENCE, 'LATCH_UPSTREAM_TIMEOUT'],
      ] as const) {
        it(`answers ${code} when the token endpoint answers ${what}, with no session`, async () => {
          server.script = script;
          const { res, client } = await callback();
          assert.ok(res.status >= 500, `status ${res.status}`);
          assert.equal(errorCode(res), code);
          assertNoSession(res, what);
          assert.equal((await client.request(`${bff.url}/me`)).status, 401);
        });
      }
    });

    describe('from a discovery document that is broken', () => {
      for (const [what, script, code] of [
        ['an HTML page', HTML_PAGE, 'LATCH_UPSTREAM_ERROR'],
        ['a 500', SERVER_ERROR_HTML, 'LATCH_UPSTREAM_ERROR'],
        ['nothing at all', SILENCE, 'LATCH_UPSTREAM_TIMEOUT'],
      ] as const) {
        it(`answers /login with ${code} when discovery answers ${what}`, async () => {
          const server = await startScriptedServer(script);
          const bff = await startBff(await freePort(), {
            LATCH_CLIENT_ID: 'web', LATCH_CLIENT_SECRET: 'secret', LATCH_ISSUER: server.url, LATCH_HTTP_TIMEOUT_MS: '300',
          });
          try {
            const res = await new HttpClient().request(login(bff.url));
            assert.ok(res.status >= 500, `status ${res.status}`);
            assert.equal(errorCode(res), code);
            assert.equal(res.setCookies.length, 0, 'no transaction cookie either');
            assert.equal(server.requests[0]?.path, '/.well-known/openid-configuration');
          } finally {
            await bff.close();
            await server.close();
          }
        });
      }
    });
  });

  describe('without offline_access', () => {
    it('gets no refresh token, so the session ends with the access token', async () => {
      const setup = await startOidcSetup({
        provider: { accessTokenTtl: 3 },
        env: (issuer) => ({ LATCH_ISSUER: issuer, LATCH_SCOPES: 'openid profile email' }),
      });
      try {
        const client = new HttpClient();
        await signIn(client, login(setup.bffUrl), setup.user);
        assert.equal((await client.request(`${setup.bffUrl}/me`)).status, 200);
        await sleep(1600);
        const later = await client.request(`${setup.bffUrl}/me`);
        assert.equal(later.status, 401);
        assert.equal(errorCode(later), 'LATCH_SESSION_EXPIRED');
      } finally {
        await setup.close();
      }
    });
  });

  describe('LATCH_AUTHORIZE_PARAMS', () => {
    it('forwards the deployer\'s names from the page and always sends its fixed values', async () => {
      const setup = await startOidcSetup({
        env: (issuer) => ({ LATCH_ISSUER: issuer, LATCH_AUTHORIZE_PARAMS: 'access_type, ui_locales, hd=example.com' }),
      });
      try {
        const res = await new HttpClient().request(login(setup.bffUrl, '&access_type=offline&ui_locales=de&hd=evil.example&other=1'));
        const to = new URL(res.location!);
        assert.equal(to.searchParams.get('access_type'), 'offline');
        assert.equal(to.searchParams.get('ui_locales'), 'de');
        assert.equal(to.searchParams.get('hd'), 'example.com', 'a fixed value is not the page\'s to change');
        assert.equal(to.searchParams.get('other'), null);
      } finally {
        await setup.close();
      }
    });
  });
});
