/**
 * LATCH_PROVIDER=oauth2 against a real django-oauth-toolkit (test/helpers/dot.ts): the server behind
 * ScaleGrowth's `/o/` endpoints, configured as a deployment would be (PKCE required, OIDC with an RSA
 * key, refresh tokens rotated at once, one grant type per application). The first suite runs the
 * README's recipe row, read from the README itself: the base URL and the client's credentials, and
 * nothing else.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it, type TestContext } from 'node:test';
import { createServiceTokens } from '../../../bff/oauth/service-token.ts';
import { signInAtDot, startDot, dotSuiteOptions, type DotApp, type DotServer } from '../../helpers/dot.ts';
import { HttpClient } from '../../helpers/http.ts';
import { freePort } from '../../helpers/net.ts';
import {
  HTML_PAGE, SERVER_ERROR, SERVER_ERROR_HTML, SILENCE, SITE, answer, assertNoSession, errorCode, loggedFix, sessionSet, sleep, startBff,
  startScriptedServer, type BffHandle, type ScriptedServer,
} from './support.ts';

/** For the silent scripted servers; DOT itself must answer within it too, on a loaded machine (300 ms was not enough). */
const TIMEOUT_MS = '1200';
const login = (bffUrl: string) => `${bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/app`)}`;
const logout = (client: HttpClient, bffUrl: string) =>
  client.request(`${bffUrl}/logout`, { method: 'POST', headers: { origin: SITE, 'latch-csrf': '1' } });
const api = (client: HttpClient, url: string) => client.request(url, { headers: { origin: SITE, 'latch-csrf': '1' } });
const passwordLogin = (bffUrl: string, username: string, password: string) =>
  new HttpClient().request(`${bffUrl}/login/password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: SITE, 'latch-csrf': '1' },
    body: JSON.stringify({ username, password }),
  });

/** The `LATCH_X=value` assignments of the README's recipe row for django-oauth-toolkit. */
function readmeRecipe(): Record<string, string> {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const row = readme.split('\n').find((line) => line.startsWith('|') && line.includes('django-oauth-toolkit'));
  assert.ok(row, 'the README has a recipe row for django-oauth-toolkit');
  return Object.fromEntries([...row.matchAll(/`(LATCH_[A-Z0-9_]+)=([^`]*)`/g)].map((m) => [m[1]!, m[2]!]));
}

/** The recipe for this server: the README's assignments, the base URL this DOT's, plus the client's credentials. */
function recipe(dot: DotServer, app: DotApp = dot.apps.web): Record<string, string | undefined> {
  const fromReadme = readmeRecipe();
  assert.deepEqual(Object.keys(fromReadme).sort(), ['LATCH_OAUTH2_BASE_URL', 'LATCH_PROVIDER']);
  return {
    ...fromReadme,
    LATCH_OAUTH2_BASE_URL: dot.url,
    LATCH_CLIENT_ID: app.clientId,
    LATCH_CLIENT_SECRET: app.clientSecret,
    // Only what every deployment sets (LATCH_BASE_URL, LATCH_COOKIE_SECRET, LATCH_ALLOWED_ORIGINS,
    // and here LATCH_ALLOW_INSECURE_HTTP for loopback) comes from startBff: not even its timeout.
    LATCH_HTTP_TIMEOUT_MS: undefined,
  };
}

/** A token request of our own at DOT's token endpoint, as `app`. */
async function tokenRequest(dot: DotServer, app: DotApp, params: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${dot.url}/o/token/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(app.clientId)}:${encodeURIComponent(app.clientSecret)}`).toString('base64')}`,
    },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const bearer = (url: string, token: string) => fetch(url, { headers: { authorization: `Bearer ${token}` } });

/** The tokens sealed in the client's session cookie (the test holds the keys). */
async function sessionOf(bff: BffHandle, client: HttpClient) {
  const read = await bff.app.latch.sites.all[0]!.cookies.read(await client.jar.getCookieString(bff.url));
  assert.ok(read, 'a session');
  return read.session;
}

/** Ports for the BFFs of a suite, known before DOT starts: their /callback URLs are the web application's redirect URIs. */
async function ports(n: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => freePort()));
}
const callbacks = (list: number[]) => list.map((p) => `http://127.0.0.1:${p}/callback`);

describe('LATCH_PROVIDER=oauth2 against django-oauth-toolkit with OpenID Connect (the README recipe)', dotSuiteOptions(), () => {
  let dot: DotServer;
  let port: number[];
  const bffs: BffHandle[] = [];
  const bffAt = async (i: number, env: Record<string, string | undefined>) => {
    const bff = await startBff(port[i]!, env);
    bffs.push(bff);
    return bff;
  };
  before(async () => {
    port = await ports(6);
    // Access tokens live 4 s: a refresh is due after at most that long, whatever the refresh margin.
    dot = await startDot({ redirectUris: callbacks(port), accessTokenTtl: 4 });
  });
  after(async () => {
    for (const bff of bffs) await bff.close();
    await dot?.close();
  });

  describe('sign-in, /me, refresh and logout from the base URL and the credentials alone', () => {
    let bff: BffHandle;
    const client = new HttpClient();
    before(async () => {
      bff = await bffAt(0, recipe(dot));
    });

    it('reads DOT\'s OpenID metadata under /o/.well-known/ and sends the browser to /o/authorize/ with openid, PKCE S256 and a nonce', async (t: TestContext) => {
      t.diagnostic(`django-oauth-toolkit started in ${dot.startMs} ms (server's own count: ${dot.serverMs} ms)`);
      const res = await new HttpClient().request(login(bff.url));
      const to = new URL(res.location!);
      assert.equal(`${to.origin}${to.pathname}`, `${dot.url}/o/authorize/`);
      assert.equal(to.searchParams.get('scope'), 'openid', 'the default scopes: what DOT\'s userinfo needs, and nothing DOT may not define');
      assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(to.searchParams.get('nonce'));
      const metadata = dot.requests().filter((r) => r.path.startsWith('/o/.well-known/openid-configuration'));
      assert.equal(metadata.at(-1)?.status, 200, JSON.stringify(metadata));
    });

    it('signs in through DOT\'s login form and consent, with the profile from the verified ID token and userinfo', async () => {
      const mark = dot.requests().length;
      const { finalUrl, callbackResult, pages } = await signInAtDot(client, login(bff.url), dot.user);
      assert.equal(finalUrl.href, `${SITE}/app`, bff.logs.slice(-2).join(''));
      assert.deepEqual(pages, ['login', 'consent']);
      assert.ok(sessionSet(callbackResult));
      const session = await sessionOf(bff, client);
      assert.ok(session.idt, 'an ID token, verified against DOT\'s key set');
      assert.ok(session.rt, 'a refresh token');
      const seen = dot.requests().slice(mark);
      assert.deepEqual(dot.tokenRequests(undefined, mark).map((r) => [r.grant_type, r.client_id, r.status]), [['authorization_code', dot.apps.web.clientId, 200]]);
      assert.ok(seen.some((r) => r.path === '/o/.well-known/jwks.json' && r.status === 200));
      assert.ok(seen.some((r) => r.path === '/o/userinfo/' && r.status === 200));

      const me = await client.request(`${bff.url}/me`);
      assert.equal(me.status, 200, me.text);
      const { user } = me.json<{ user: Record<string, unknown> }>();
      assert.equal(user['sub'], '1', 'DOT\'s subject: the user\'s id');
      assert.equal(user['name'], 'Ann Lee');
      assert.equal(user['email'], dot.user.email);
      assert.equal(user['preferred_username'], dot.user.username);
    });

    it('refreshes with immediate rotation: 10 concurrent requests make one refresh, twice in a row', async (t: TestContext) => {
      const figures: number[] = [];
      for (const round of [1, 2]) {
        const before = await sessionOf(bff, client);
        await sleep(Math.max(0, before.atExp - Date.now()) + 250);
        const mark = dot.requests().length;
        const cookie = await client.jar.getCookieString(bff.url);
        // Ten requests carrying the same (expired) session at once, as a page's parallel calls would.
        const answers = await Promise.all(Array.from({ length: 10 }, () => fetch(`${bff.url}/me`, { headers: { cookie } })));
        const statuses = await Promise.all(answers.map(async (a) => [a.status, (await a.text()).slice(0, 120)] as const));
        assert.deepEqual(statuses.filter(([status]) => status !== 200), [], `round ${round}`);
        const refreshes = dot.tokenRequests(undefined, mark);
        figures.push(refreshes.length);
        assert.deepEqual(refreshes.map((r) => [r.grant_type, r.client_id, r.status]), [['refresh_token', dot.apps.web.clientId, 200]], `round ${round}: one refresh`);
        const renewed = answers.flatMap((a) => a.headers.getSetCookie()).find((c) => /^latch=[^;]+/.test(c));
        assert.ok(renewed, 'the refreshed session is resealed');
        await client.jar.setCookie(renewed, bff.url);
        const afterwards = await sessionOf(bff, client);
        assert.notEqual(afterwards.rt, before.rt, 'DOT rotated the refresh token');
        assert.notEqual(afterwards.at, before.at);
        // Rotated at once (no grace period): the old refresh token is dead the moment the new one exists.
        const replay = await tokenRequest(dot, dot.apps.web, { grant_type: 'refresh_token', refresh_token: before.rt! });
        assert.equal(replay.status, 400);
        assert.equal(replay.body['error'], 'invalid_grant');
      }
      t.diagnostic(`token requests DOT saw per 10 concurrent requests on an expired session: ${figures.join(', ')}`);
      assert.equal((await client.request(`${bff.url}/me`)).status, 200);
    });

    it('logs out: the refresh token and then the access token are revoked at /o/revoke_token/', async () => {
      const session = await sessionOf(bff, client);
      const mark = dot.requests().length;
      const out = await logout(client, bff.url);
      assert.equal(out.status, 200);
      assert.equal(out.json<{ logoutUrl: string | null }>().logoutUrl, null, 'DOT 1.7 publishes no end-session endpoint');
      assert.deepEqual(dot.requests().slice(mark).map((r) => `${r.method} ${r.path} ${r.status}`), ['POST /o/revoke_token/ 200', 'POST /o/revoke_token/ 200']);
      const refresh = await tokenRequest(dot, dot.apps.web, { grant_type: 'refresh_token', refresh_token: session.rt! });
      assert.equal(refresh.body['error'], 'invalid_grant', 'the refresh token is revoked');
      assert.equal((await bearer(`${dot.url}/o/userinfo/`, session.at)).status, 401, 'the access token is revoked');
      assert.equal((await client.request(`${bff.url}/me`)).status, 401);
      // DOT 1.x has no end-session endpoint: its own session stays, and only the consent page shows again.
      const again = await signInAtDot(client, login(bff.url), dot.user);
      assert.deepEqual(again.pages, ['consent']);
      assert.equal((await client.request(`${bff.url}/me`)).status, 200);
    });

    it('answers LATCH_STATE_MISMATCH to a forged state, with no session', async () => {
      const other = new HttpClient();
      await other.request(login(bff.url));
      const res = await other.request(`${bff.url}/callback?code=abc&state=forged-state-value`);
      assert.equal(errorCode(res), 'LATCH_STATE_MISMATCH');
      assertNoSession(res, 'forged state');
    });
  });

  describe('service tokens from a client-credentials application (LATCH_SERVICE_CLIENT_ID)', () => {
    const routes = (dot: DotServer) => ({ LATCH_API_ROUTES: `dot=${dot.url}/api`, LATCH_API_ROUTE_DOT_TOKEN: 'service' });

    it('proxies a service route with a token DOT issued to the service client, and createServiceTokens uses that client too', async () => {
      const bff = await bffAt(1, {
        ...recipe(dot),
        ...routes(dot),
        LATCH_SERVICE_CLIENT_ID: dot.apps.service.clientId,
        LATCH_SERVICE_CLIENT_SECRET: dot.apps.service.clientSecret,
      });
      const client = new HttpClient();
      await signInAtDot(client, login(bff.url), dot.user);
      const mark = dot.requests().length;
      const res = await api(client, `${bff.url}/api/dot/whoami/`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json(), { client_id: dot.apps.service.clientId, scope: 'read', user: null });
      assert.deepEqual(dot.tokenRequests(undefined, mark).map((r) => [r.grant_type, r.client_id, r.status]), [['client_credentials', dot.apps.service.clientId, 200]]);

      const { accessToken } = await createServiceTokens(bff.app.latch.provider).getServiceToken({ scope: 'read write' });
      const direct = await bearer(`${dot.url}/api/whoami/`, accessToken);
      assert.deepEqual(await direct.json(), { client_id: dot.apps.service.clientId, scope: 'read write', user: null });
    });

    it('without it, DOT refuses the main client the grant: 502 LATCH_CLIENT_REFUSED, logged naming LATCH_SERVICE_CLIENT_ID, and the session stays', async () => {
      const bff = await bffAt(2, { ...recipe(dot), ...routes(dot) });
      const client = new HttpClient();
      await signInAtDot(client, login(bff.url), dot.user);
      const res = await api(client, `${bff.url}/api/dot/whoami/`);
      assert.equal(res.status, 502);
      assert.equal(errorCode(res), 'LATCH_CLIENT_REFUSED');
      assert.doesNotMatch(res.text, /LATCH_SERVICE_CLIENT_ID/, 'the fix is for the operator\'s log, not the answer');
      loggedFix(bff, /^LATCH_SERVICE_CLIENT_ID: .*unauthorized_client.*LATCH_SERVICE_CLIENT_SECRET/);
      assert.equal((await client.request(`${bff.url}/me`)).status, 200);
    });

    it('a wrong service secret: 502 LATCH_CLIENT_REFUSED whose detail names LATCH_SERVICE_CLIENT_SECRET (DOT answers 401 with a Bearer challenge)', async () => {
      const wrong = await startBff(await freePort(), { ...recipe(dot), LATCH_SERVICE_CLIENT_ID: dot.apps.service.clientId, LATCH_SERVICE_CLIENT_SECRET: 'wrong-secret' });
      bffs.push(wrong);
      await assert.rejects(createServiceTokens(wrong.app.latch.provider).getServiceToken(), (err: Error & { code?: string; detail?: string }) => {
        assert.equal(err.code, 'LATCH_CLIENT_REFUSED');
        assert.match(err.detail ?? '', /^LATCH_SERVICE_CLIENT_SECRET: .*\(invalid_client\)/);
        return true;
      });
    });
  });

  describe('the password grant with DOT\'s password application as the main client', () => {
    let bff: BffHandle;
    before(async () => {
      bff = await startBff(await freePort(), { ...recipe(dot, dot.apps.password), LATCH_ENABLE_PASSWORD_GRANT: 'true' });
      bffs.push(bff);
    });

    it('signs in at /o/token/ with the user from /o/userinfo/, and the session refreshes with the same client', async () => {
      const mark = dot.requests().length;
      const res = await passwordLogin(bff.url, dot.user.username, dot.user.password);
      assert.equal(res.status, 200, res.text);
      const { user } = res.json<{ user: Record<string, unknown> }>();
      assert.equal(user['sub'], '1');
      assert.equal(user['email'], dot.user.email);
      const client = new HttpClient();
      await client.jar.setCookie(sessionSet(res)!, bff.url);
      // DOT's password grant issues no ID token (oauthlib's is plain OAuth 2.0); the openid scope opens userinfo.
      assert.ok(dot.requests().slice(mark).some((r) => r.path === '/o/userinfo/' && r.status === 200));
      const session = await sessionOf(bff, client);
      await sleep(Math.max(0, session.atExp - Date.now()) + 250);
      assert.equal((await client.request(`${bff.url}/me`)).status, 200);
      assert.deepEqual(dot.tokenRequests(undefined, mark).map((r) => [r.grant_type, r.client_id, r.status]), [
        ['password', dot.apps.password.clientId, 200],
        ['refresh_token', dot.apps.password.clientId, 200],
      ]);
      assert.ok(!bff.logs.join('\n').includes(dot.user.password), 'the password is never logged');
    });

    it('answers 401 LATCH_INVALID_CREDENTIALS to a wrong password, with no session', async () => {
      const res = await passwordLogin(bff.url, dot.user.username, 'wrong-password');
      assert.equal(res.status, 401);
      assert.equal(errorCode(res), 'LATCH_INVALID_CREDENTIALS');
      assertNoSession(res, 'wrong password');
    });

    it('with the authorization-code application instead: 502 LATCH_CLIENT_REFUSED, logged naming LATCH_CLIENT_ID and the grant type to use', async () => {
      const web = await startBff(await freePort(), { ...recipe(dot), LATCH_ENABLE_PASSWORD_GRANT: 'true' });
      bffs.push(web);
      const res = await passwordLogin(web.url, dot.user.username, dot.user.password);
      assert.equal(res.status, 502);
      assert.equal(errorCode(res), 'LATCH_CLIENT_REFUSED');
      loggedFix(web, /^LATCH_CLIENT_ID: .*unauthorized_client.*"Resource owner password-based"/);
      assertNoSession(res, 'wrong client');
    });
  });

  describe('what only the configuration can fix names the variable in the log (an error line), and answers its code', () => {
    for (const [i, scopes, code, pattern] of [
      [3, 'read write', 'LATCH_UPSTREAM_ERROR', /^LATCH_SCOPES: The userinfo endpoint \(.*\/o\/userinfo\/\) refused the access token \(401\)\..*openid/],
      [4, 'openid profile email offline_access', 'LATCH_SCOPE_REFUSED', /^LATCH_SCOPES: the authorization server refused the scopes "openid profile email offline_access" \(invalid_scope\)\..*SCOPES/],
    ] as const) {
      it(`LATCH_SCOPES="${scopes}": ${code}, no session`, async () => {
        const bff = await bffAt(i, { ...recipe(dot), LATCH_SCOPES: scopes });
        const client = new HttpClient();
        const { callbackResult } = await signInAtDot(client, login(bff.url), dot.user);
        assert.ok(callbackResult);
        assert.equal(callbackResult.status, 502);
        assert.equal(errorCode(callbackResult), code);
        assert.doesNotMatch(callbackResult.text, /LATCH_SCOPES/, 'the error page has the code\'s message; the fix is in the log');
        assertNoSession(callbackResult, scopes);
        loggedFix(bff, pattern);
        assert.equal((await client.request(`${bff.url}/me`)).status, 401);
      });
    }

    it('the password application as the sign-in client: 502 LATCH_CLIENT_REFUSED, logged naming LATCH_CLIENT_ID and the grant type it needs', async () => {
      const bff = await bffAt(5, recipe(dot, dot.apps.password));
      const { callbackResult, pages } = await signInAtDot(new HttpClient(), login(bff.url), dot.user);
      assert.deepEqual(pages, ['login']);
      assert.equal(callbackResult?.status, 502);
      assert.equal(errorCode(callbackResult!), 'LATCH_CLIENT_REFUSED');
      loggedFix(bff, /^LATCH_CLIENT_ID: the authorization server does not let this client use the authorization code grant \(unauthorized_client\).*"Authorization code"/);
      assertNoSession(callbackResult, 'password application');
    });
  });

  // Last: it stops the server.
  it('keeps the session when DOT is gone at refresh time: 502, and the cookie is neither cleared nor changed', async () => {
    const bff = bffs[0]!;
    const client = new HttpClient();
    await signInAtDot(client, login(bff.url), dot.user);
    const session = await sessionOf(bff, client);
    await sleep(Math.max(0, session.atExp - Date.now()) + 250);
    await dot.close();
    const me = await client.request(`${bff.url}/me`);
    assert.equal(me.status, 502, me.text);
    assert.equal(errorCode(me), 'LATCH_UPSTREAM_UNAVAILABLE');
    assert.deepEqual(me.setCookies.filter((c) => c.startsWith('latch=')), []);
    assert.equal((await sessionOf(bff, client)).rt, session.rt, 'the refresh token is kept for when DOT is back');
  });
});

describe('LATCH_PROVIDER=oauth2 against django-oauth-toolkit without OpenID Connect (plain OAuth 2.0)', dotSuiteOptions(), () => {
  let dot: DotServer;
  let port: number[];
  const bffs: BffHandle[] = [];
  const sides: ScriptedServer[] = [];
  const bffAt = async (i: number, env: Record<string, string | undefined>) => {
    const bff = await startBff(port[i]!, {
      LATCH_PROVIDER: 'oauth2', LATCH_OAUTH2_BASE_URL: dot.url, LATCH_CLIENT_ID: dot.apps.web.clientId, LATCH_CLIENT_SECRET: dot.apps.web.clientSecret,
      LATCH_HTTP_TIMEOUT_MS: undefined, ...env,
    });
    bffs.push(bff);
    return bff;
  };
  const side = async () => {
    const server = await startScriptedServer();
    sides.push(server);
    return server;
  };
  before(async () => {
    port = await ports(6);
    dot = await startDot({ redirectUris: callbacks(port), accessTokenTtl: 4, oidc: false });
  });
  after(async () => {
    for (const bff of bffs) await bff.close();
    for (const server of sides) await server.close();
    await dot?.close();
  });

  describe('with the user from a profile API that names them by a numeric id (LATCH_USERINFO_ENDPOINT)', () => {
    let bff: BffHandle;
    const client = new HttpClient();
    before(async () => {
      bff = await bffAt(0, { LATCH_USERINFO_ENDPOINT: `${dot.url}/api/profile/` });
    });

    it('finds no OpenID metadata, keeps the /o/ layout, and asks for no scope and no nonce (DOT\'s default scopes)', async () => {
      const res = await new HttpClient().request(login(bff.url));
      const to = new URL(res.location!);
      assert.equal(`${to.origin}${to.pathname}`, `${dot.url}/o/authorize/`);
      assert.equal(to.searchParams.has('scope'), false);
      assert.equal(to.searchParams.get('nonce'), null);
      // DOT 1.x: Django's APPEND_SLASH answers the spec's form with a 301 to the trailing-slash form, which is 404 without OIDC.
      assert.deepEqual(dot.requests().filter((r) => r.path.includes('.well-known')).map((r) => `${r.path} ${r.status}`), [
        '/o/.well-known/openid-configuration 301',
        '/o/.well-known/openid-configuration/ 404',
      ]);
    });

    it('signs in (user "id" 1, no "sub"), refreshes with rotation, and revokes both tokens at logout', async () => {
      const { finalUrl, callbackResult } = await signInAtDot(client, login(bff.url), dot.user);
      assert.equal(finalUrl.href, `${SITE}/app`, bff.logs.slice(-2).join(''));
      assert.ok(sessionSet(callbackResult));
      const first = await sessionOf(bff, client);
      assert.equal(first.idt, undefined, 'no ID token');
      const me = await client.request(`${bff.url}/me`);
      assert.equal(me.status, 200);
      const { user } = me.json<{ user: Record<string, unknown> }>();
      assert.equal(user['sub'], '1');
      assert.equal(user['username'], dot.user.username);
      assert.equal(user['id'], undefined);

      await sleep(Math.max(0, first.atExp - Date.now()) + 250);
      const mark = dot.requests().length;
      assert.equal((await client.request(`${bff.url}/me`)).status, 200);
      assert.deepEqual(dot.tokenRequests(undefined, mark).map((r) => r.grant_type), ['refresh_token']);
      const second = await sessionOf(bff, client);
      assert.notEqual(second.rt, first.rt, 'rotated');

      const out = await logout(client, bff.url);
      assert.equal(out.status, 200);
      const refresh = await tokenRequest(dot, dot.apps.web, { grant_type: 'refresh_token', refresh_token: second.rt! });
      assert.equal(refresh.body['error'], 'invalid_grant', 'the refresh token is revoked');
      assert.equal((await bearer(`${dot.url}/api/profile/`, second.at)).status, 403, 'the access token is revoked');
    });
  });

  it('without LATCH_USERINFO_ENDPOINT: DOT has no /o/userinfo/ then, and the log names the variable', async () => {
    const bff = await bffAt(1, {});
    const { callbackResult } = await signInAtDot(new HttpClient(), login(bff.url), dot.user);
    assert.equal(errorCode(callbackResult!), 'LATCH_UPSTREAM_ERROR');
    loggedFix(bff, /^LATCH_USERINFO_ENDPOINT: The userinfo endpoint \(.*\/o\/userinfo\/\) answered 404/);
    assertNoSession(callbackResult, 'no userinfo');
  });

  describe('bad answers', () => {
    let userinfo: ScriptedServer;
    let token: ScriptedServer;
    let revocation: ScriptedServer;
    let withUserinfo: BffHandle;
    let withToken: BffHandle;
    let withRevocation: BffHandle;
    before(async () => {
      [userinfo, token, revocation] = [await side(), await side(), await side()];
      withUserinfo = await bffAt(2, { LATCH_USERINFO_ENDPOINT: `${userinfo.url}/o/userinfo/`, LATCH_HTTP_TIMEOUT_MS: TIMEOUT_MS });
      withToken = await bffAt(3, { LATCH_TOKEN_ENDPOINT: `${token.url}/o/token/`, LATCH_USERINFO_ENDPOINT: `${dot.url}/api/profile/`, LATCH_HTTP_TIMEOUT_MS: TIMEOUT_MS });
      withRevocation = await bffAt(4, { LATCH_USERINFO_ENDPOINT: `${dot.url}/api/profile/`, LATCH_REVOCATION_ENDPOINT: `${revocation.url}/o/revoke_token/`, LATCH_HTTP_TIMEOUT_MS: TIMEOUT_MS });
    });

    for (const [what, script, code] of [
      ['names nobody (no sub, no id)', answer(200, 'application/json', '{"username":"ann","email":"ann@example.com"}'), 'LATCH_USERINFO_INVALID'],
      ['names the user by an empty id', answer(200, 'application/json', '{"id":""}'), 'LATCH_USERINFO_INVALID'],
      ['answers an HTML page', HTML_PAGE, 'LATCH_UPSTREAM_ERROR'],
      ['answers 500', SERVER_ERROR_HTML, 'LATCH_UPSTREAM_ERROR'],
      ['answers nothing at all', SILENCE, 'LATCH_UPSTREAM_TIMEOUT'],
    ] as const) {
      it(`answers ${code} when userinfo ${what}, with no session`, async () => {
        userinfo.script = script;
        userinfo.requests.length = 0;
        const client = new HttpClient();
        const { callbackResult } = await signInAtDot(client, login(withUserinfo.url), dot.user);
        assert.equal(errorCode(callbackResult!), code, callbackResult?.text.slice(0, 200));
        assertNoSession(callbackResult, what);
        assert.equal((await client.request(`${withUserinfo.url}/me`)).status, 401);
        assert.equal(userinfo.requests[0]?.path, '/o/userinfo/');
      });
    }

    for (const [what, script, code] of [
      ['an HTML page', HTML_PAGE, 'LATCH_UPSTREAM_ERROR'],
      ['a 500', SERVER_ERROR, 'LATCH_UPSTREAM_ERROR'],
      ['nothing at all', SILENCE, 'LATCH_UPSTREAM_TIMEOUT'],
    ] as const) {
      it(`answers ${code} when the token endpoint answers ${what}, with no session`, async () => {
        token.script = script;
        token.requests.length = 0;
        const { callbackResult } = await signInAtDot(new HttpClient(), login(withToken.url), dot.user);
        assert.equal(errorCode(callbackResult!), code);
        assertNoSession(callbackResult, what);
        assert.equal(token.requests[0]?.path, '/o/token/');
      });
    }

    it('answers 502 LATCH_CLIENT_REFUSED to a wrong client secret sent with client_secret_post, with no session', async () => {
      const bff = await bffAt(5, { LATCH_USERINFO_ENDPOINT: `${dot.url}/api/profile/`, LATCH_TOKEN_AUTH_METHOD: 'client_secret_post', LATCH_CLIENT_SECRET: 'wrong-secret' });
      const mark = dot.requests().length;
      const { callbackResult } = await signInAtDot(new HttpClient(), login(bff.url), dot.user);
      assert.equal(errorCode(callbackResult!), 'LATCH_CLIENT_REFUSED');
      assert.equal(callbackResult!.status, 502, 'invalid_client is a deployment fault, not the user\'s');
      loggedFix(bff, /^LATCH_CLIENT_SECRET: the authorization server refused the client's credentials \(invalid_client\)/);
      assertNoSession(callbackResult, 'wrong secret');
      assert.deepEqual(dot.tokenRequests(undefined, mark).map((r) => [r.client_id, r.status]), [[dot.apps.web.clientId, 401]]);
    });

    it('revokes the refresh token first, then the access token', async () => {
      revocation.script = answer(200, 'text/plain', '');
      revocation.requests.length = 0;
      const client = new HttpClient();
      await signInAtDot(client, login(withRevocation.url), dot.user);
      const session = await sessionOf(withRevocation, client);
      assert.equal((await logout(client, withRevocation.url)).status, 200);
      assert.deepEqual(revocation.requests.map((r) => new URLSearchParams(r.body).get('token')), [session.rt, session.at]);
    });

    for (const [what, script] of [['answers 500', SERVER_ERROR_HTML], ['never answers', SILENCE]] as const) {
      it(`clears the session cookie when the revocation endpoint ${what}`, async () => {
        revocation.script = script;
        const client = new HttpClient();
        await signInAtDot(client, login(withRevocation.url), dot.user);
        assert.equal((await client.request(`${withRevocation.url}/me`)).status, 200);
        const out = await logout(client, withRevocation.url);
        assert.equal(out.status, 200, out.text);
        assert.match(out.setCookies.find((c) => c.startsWith('latch='))!, /Max-Age=0/i);
        const me = await client.request(`${withRevocation.url}/me`);
        assert.equal(me.status, 401);
        assert.equal(errorCode(me), 'LATCH_UNAUTHENTICATED');
      });
    }
  });
});
