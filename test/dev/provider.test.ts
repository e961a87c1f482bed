import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { startDevProvider } from '../../dev/provider.ts';
import type { DevClient, DevProvider, DevUser } from '../../dev/provider.ts';
import { HttpClient, completeProviderLogout, parseForms, signIn } from '../helpers/http.ts';

const SECRET = 'dev-secret-'.padEnd(40, 'x');
const REDIRECT_URI = 'http://rp.latch.test/callback';
const POST_LOGOUT_URI = 'http://rp.latch.test/signed-out';

const ALICE: DevUser = {
  sub: 'alice-1',
  login: 'alice@latch.test',
  password: 'correct horse battery staple',
  name: 'Alice Example',
  email: 'alice@latch.test',
  email_verified: true,
  picture: 'https://img.latch.test/alice.png',
  extra: { locale: 'de-DE' },
};

const WEB: DevClient = {
  client_id: 'web',
  client_secret: SECRET,
  redirect_uris: [REDIRECT_URI],
  post_logout_redirect_uris: [POST_LOGOUT_URI],
};

const MACHINE: DevClient = {
  client_id: 'machine',
  client_secret: SECRET,
  redirect_uris: [],
  grant_types: ['client_credentials'],
};

interface Rp {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  auth: oauth.ClientAuth;
}

async function discover(dp: DevProvider, clientId = 'web'): Promise<Rp> {
  const issuer = new URL(dp.issuer);
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', [oauth.allowInsecureRequests]: true });
  const as = await oauth.processDiscoveryResponse(issuer, res);
  return { as, client: { client_id: clientId }, auth: oauth.ClientSecretBasic(SECRET) };
}

async function authorizationUrl(
  rp: Rp,
  opts: { scope?: string; extra?: Record<string, string> } = {},
): Promise<{ url: string; state: string; nonce: string; verifier: string }> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(rp.as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: rp.client.client_id,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: opts.scope ?? 'openid profile email offline_access',
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...opts.extra,
  }).toString();
  return { url: url.href, state, nonce, verifier };
}

/** Signs in through the real form and exchanges the code with oauth4webapi. */
async function codeFlow(dp: DevProvider, rp: Rp, http = new HttpClient(), scope?: string) {
  const req = await authorizationUrl(rp, scope ? { scope } : {});
  const { finalUrl } = await signIn(http, req.url, ALICE);
  assert.equal(`${finalUrl.origin}${finalUrl.pathname}`, REDIRECT_URI);
  const params = oauth.validateAuthResponse(rp.as, rp.client, finalUrl, req.state);
  const res = await oauth.authorizationCodeGrantRequest(
    rp.as, rp.client, rp.auth, params, REDIRECT_URI, req.verifier, { [oauth.allowInsecureRequests]: true },
  );
  const tokens = await oauth.processAuthorizationCodeResponse(rp.as, rp.client, res, { expectedNonce: req.nonce });
  return { tokens, http, finalUrl };
}

async function postToken(dp: DevProvider, path: string, body: Record<string, string>, clientId = 'web') {
  return fetch(new URL(path, dp.issuer), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${SECRET}`).toString('base64')}`,
    },
    body: new URLSearchParams(body).toString(),
  });
}

describe('startDevProvider()', () => {
  let dp: DevProvider;
  let rp: Rp;

  before(async () => {
    dp = await startDevProvider({ clients: [WEB, MACHINE], users: [ALICE], accessTokenTtl: 2 });
    rp = await discover(dp);
  });
  after(() => dp.close());

  describe('discovery', () => {
    it('advertises the default endpoints under the issuer, RS256 ID tokens, S256 PKCE and RFC 9207 iss', () => {
      assert.match(dp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(rp.as.issuer, dp.issuer);
      assert.equal(rp.as.authorization_endpoint, `${dp.issuer}/auth`);
      assert.equal(rp.as.token_endpoint, `${dp.issuer}/token`);
      assert.equal(rp.as.userinfo_endpoint, `${dp.issuer}/me`);
      assert.equal(rp.as.revocation_endpoint, `${dp.issuer}/token/revocation`);
      assert.equal(rp.as.introspection_endpoint, `${dp.issuer}/token/introspection`);
      assert.equal(rp.as.end_session_endpoint, `${dp.issuer}/session/end`);
      assert.equal(rp.as.jwks_uri, `${dp.issuer}/jwks`);
      assert.deepEqual(rp.as.id_token_signing_alg_values_supported, ['RS256']);
      assert.deepEqual(rp.as.code_challenge_methods_supported, ['S256']);
      assert.equal(rp.as.authorization_response_iss_parameter_supported, true);
      assert.ok(rp.as.grant_types_supported?.includes('client_credentials'));
      assert.ok(rp.as.scopes_supported?.includes('offline_access'));
    });

    it('publishes one RS256 signing key with kid, alg and use, and no private parts', async () => {
      const jwks = (await (await fetch(rp.as.jwks_uri!)).json()) as { keys: Record<string, unknown>[] };
      assert.equal(jwks.keys.length, 1);
      const [key] = jwks.keys;
      assert.equal(key?.['kty'], 'RSA');
      assert.equal(key?.['alg'], 'RS256');
      assert.equal(key?.['use'], 'sig');
      assert.match(String(key?.['kid']), /^dev-/);
      assert.equal(key?.['d'], undefined);
    });
  });

  describe('GET /interaction/:uid', () => {
    it('shows an accessible login form with labelled login and password inputs, Sign in and Cancel', async () => {
      const http = new HttpClient();
      const { url } = await authorizationUrl(rp);
      const { result, chain } = await http.follow(url);
      assert.equal(result.status, 200);
      assert.match(new URL(chain.at(-1)!).pathname, /^\/interaction\/[\w-]+$/);
      assert.match(result.headers.get('content-type') ?? '', /text\/html/);
      assert.match(result.text, /<html lang="en">/);
      assert.match(result.text, /<label for="login">/);
      assert.match(result.text, /<label for="password">/);
      assert.match(result.text, /<button type="submit"[^>]*>Sign in<\/button>/);
      assert.match(result.text, /<button type="submit"[^>]*>Cancel<\/button>/);
      const forms = parseForms(result.text, result.url);
      const login = forms.find((f) => f.inputs.has('password'));
      assert.equal(login?.method, 'post');
      assert.ok(login?.inputs.has('login'));
      assert.ok(forms.some((f) => f !== login && f.buttons.some((b) => b.label === 'Cancel')));
    });

    it('re-renders the form with an alert and the login kept when the password is wrong', async () => {
      const http = new HttpClient();
      const { url } = await authorizationUrl(rp);
      const { result } = await http.follow(url);
      const form = parseForms(result.text, result.url).find((f) => f.inputs.has('password'))!;
      const res = await http.request(form.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ login: ALICE.login, password: 'wrong' }).toString(),
      });
      assert.equal(res.status, 401);
      assert.equal(res.location, null);
      assert.match(res.text, /role="alert"/);
      assert.match(res.text, /name="password"/);
      assert.match(res.text, new RegExp(`value="${ALICE.login}"`));

      await assert.rejects(
        signIn(new HttpClient(), (await authorizationUrl(rp)).url, { login: ALICE.login, password: 'nope' }),
        /rejected the credentials/,
      );
    });

    it('answers access_denied to the redirect_uri when the user presses Cancel', async () => {
      const req = await authorizationUrl(rp);
      const { finalUrl } = await signIn(new HttpClient(), req.url, ALICE, { cancel: true });
      assert.equal(`${finalUrl.origin}${finalUrl.pathname}`, REDIRECT_URI);
      assert.equal(finalUrl.searchParams.get('error'), 'access_denied');
      assert.equal(finalUrl.searchParams.get('state'), req.state);
      assert.equal(finalUrl.searchParams.get('iss'), dp.issuer);
    });
  });

  describe('authorization code flow', () => {
    it('rejects an authorization request without PKCE, even for a confidential client', async () => {
      const { url } = await authorizationUrl(rp);
      const u = new URL(url);
      u.searchParams.delete('code_challenge');
      u.searchParams.delete('code_challenge_method');
      const res = await new HttpClient().request(u.href);
      const location = new URL(res.location!);
      assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URI);
      assert.equal(location.searchParams.get('error'), 'invalid_request');
      assert.match(location.searchParams.get('error_description') ?? '', /PKCE/);
    });

    it('yields a signed ID token with profile and email claims, an access token and a refresh token', async () => {
      const { tokens, finalUrl } = await codeFlow(dp, rp);
      assert.equal(finalUrl.searchParams.get('iss'), dp.issuer);
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.equal(tokens.expires_in, 2);
      assert.ok(tokens.access_token);
      assert.ok(tokens.refresh_token, 'offline_access must yield a refresh token');
      assert.equal(tokens.scope, 'openid profile email offline_access');

      const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(rp.as.jwks_uri!)), {
        issuer: dp.issuer,
        audience: 'web',
      });
      assert.equal(protectedHeader.alg, 'RS256');
      assert.equal(payload.sub, ALICE.sub);
      assert.equal(payload['name'], ALICE.name);
      assert.equal(payload['email'], ALICE.email);
      assert.equal(payload['email_verified'], true);
      assert.equal(payload['picture'], ALICE.picture);
      assert.equal(payload['locale'], 'de-DE');
      assert.equal(payload.exp! - payload.iat!, 3600);
    });

    it('serves userinfo for the access token', async () => {
      const { tokens } = await codeFlow(dp, rp);
      const res = await oauth.userInfoRequest(rp.as, rp.client, tokens.access_token, {
        [oauth.allowInsecureRequests]: true,
      });
      const info = await oauth.processUserInfoResponse(rp.as, rp.client, ALICE.sub, res);
      assert.equal(info.email, ALICE.email);
      assert.equal(info.name, ALICE.name);
      assert.equal(info['locale'], 'de-DE');
    });

    it('introspects an access token for a confidential client', async () => {
      const { tokens } = await codeFlow(dp, rp);
      const res = await oauth.introspectionRequest(rp.as, rp.client, rp.auth, tokens.access_token, {
        [oauth.allowInsecureRequests]: true,
      });
      const info = await oauth.processIntrospectionResponse(rp.as, rp.client, res);
      assert.equal(info.active, true);
      assert.equal(info.sub, ALICE.sub);
      assert.equal(info.client_id, 'web');
      const dead = await oauth.introspectionRequest(rp.as, rp.client, rp.auth, 'not-a-token', {
        [oauth.allowInsecureRequests]: true,
      });
      assert.equal((await oauth.processIntrospectionResponse(rp.as, rp.client, dead)).active, false);
    });

    it('does not issue a refresh token without offline_access', async () => {
      const { tokens } = await codeFlow(dp, rp, new HttpClient(), 'openid profile');
      assert.equal(tokens.refresh_token, undefined);
    });

    it('refreshes, rotating the refresh token and rejecting the used one', async () => {
      const { tokens } = await codeFlow(dp, rp);
      const res = await oauth.refreshTokenGrantRequest(rp.as, rp.client, rp.auth, tokens.refresh_token!, {
        [oauth.allowInsecureRequests]: true,
      });
      const refreshed = await oauth.processRefreshTokenResponse(rp.as, rp.client, res);
      assert.ok(refreshed.access_token);
      assert.notEqual(refreshed.access_token, tokens.access_token);
      assert.ok(refreshed.refresh_token);
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
      assert.ok(refreshed.id_token);

      const reuse = await postToken(dp, '/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
      assert.equal(reuse.status, 400);
      assert.equal(((await reuse.json()) as { error: string }).error, 'invalid_grant');
    });

    it('revokes a refresh token', async () => {
      const { tokens } = await codeFlow(dp, rp);
      const res = await oauth.revocationRequest(rp.as, rp.client, rp.auth, tokens.refresh_token!, {
        [oauth.allowInsecureRequests]: true,
      });
      await oauth.processRevocationResponse(res);
      const after = await postToken(dp, '/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
      assert.equal(after.status, 400);
    });
  });

  describe('counts', () => {
    it('counts every request reaching each endpoint, failing token requests included, by grant_type', async () => {
      dp.resetCounts();
      assert.deepEqual(dp.counts, { token: 0, tokenByGrant: {}, userinfo: 0, revocation: 0, authorization: 0 });

      const { tokens } = await codeFlow(dp, rp);
      assert.equal(dp.counts.authorization, 1, 'the resume requests to /auth/:uid are not counted');
      assert.equal(dp.counts.token, 1);
      assert.deepEqual(dp.counts.tokenByGrant, { authorization_code: 1 });

      const bad = await postToken(dp, '/token', { grant_type: 'authorization_code', code: 'nope', redirect_uri: REDIRECT_URI, code_verifier: 'x'.repeat(43) });
      assert.equal(bad.status, 400);
      const badClient = await fetch(new URL('/token', dp.issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=refresh_token&refresh_token=x&client_id=web&client_secret=wrong',
      });
      assert.equal(badClient.status, 401);
      const noGrant = await postToken(dp, '/token', {});
      assert.equal(noGrant.status, 400);
      assert.equal(dp.counts.token, 4);
      assert.deepEqual(dp.counts.tokenByGrant, { authorization_code: 2, refresh_token: 1, unknown: 1 });

      await fetch(rp.as.userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      await fetch(rp.as.userinfo_endpoint!, { headers: { authorization: 'Bearer invalid' } });
      assert.equal(dp.counts.userinfo, 2);

      await postToken(dp, '/token/revocation', { token: tokens.refresh_token! });
      assert.equal(dp.counts.revocation, 1);

      dp.resetCounts();
      assert.deepEqual(dp.counts, { token: 0, tokenByGrant: {}, userinfo: 0, revocation: 0, authorization: 0 });
    });
  });

  describe('client_credentials', () => {
    it('issues an access token to a client that lists the grant', async () => {
      const machine = await discover(dp, 'machine');
      const res = await oauth.clientCredentialsGrantRequest(machine.as, machine.client, machine.auth, {}, {
        [oauth.allowInsecureRequests]: true,
      });
      const tokens = await oauth.processClientCredentialsResponse(machine.as, machine.client, res);
      assert.ok(tokens.access_token);
      assert.equal(tokens.refresh_token, undefined);
    });

    it('refuses the grant to a client that does not list it', async () => {
      const res = await postToken(dp, '/token', { grant_type: 'client_credentials' }, 'web');
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: string; error_description: string; access_token?: string };
      // oidc-provider answers invalid_request here (RFC 6749 would say unauthorized_client).
      assert.equal(body.error, 'invalid_request');
      assert.match(body.error_description, /grant type is not allowed/);
      assert.equal(body.access_token, undefined);
    });
  });

  describe('RP-initiated logout', () => {
    it('completes through the confirm form, redirects to post_logout_redirect_uri and ends the session', async () => {
      const { tokens, http } = await codeFlow(dp, rp);
      const end = new URL(rp.as.end_session_endpoint!);
      end.search = new URLSearchParams({
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: POST_LOGOUT_URI,
        state: 'bye',
      }).toString();

      const confirm = await http.follow(end.href);
      assert.equal(confirm.result.status, 200);
      assert.match(confirm.result.text, /Sign out<\/button>/);

      const { finalUrl } = await completeProviderLogout(http, end.href);
      assert.equal(`${finalUrl.origin}${finalUrl.pathname}`, POST_LOGOUT_URI);
      assert.equal(finalUrl.searchParams.get('state'), 'bye');

      // The provider session is gone: a new authorization request shows the login form again.
      const again = await http.follow((await authorizationUrl(rp)).url);
      assert.match(again.result.text, /name="password"/);
    });

    it('completes a logout for a browser without a provider session (self-submitting form)', async () => {
      const end = new URL(rp.as.end_session_endpoint!);
      end.search = new URLSearchParams({ client_id: 'web', post_logout_redirect_uri: POST_LOGOUT_URI }).toString();
      const { finalUrl } = await completeProviderLogout(new HttpClient(), end.href);
      assert.equal(finalUrl.href, POST_LOGOUT_URI);
    });

    it('keeps the provider session (single sign-on) until logout', async () => {
      const { http } = await codeFlow(dp, rp);
      const req = await authorizationUrl(rp);
      const { result, chain } = await http.follow(req.url, { until: (u) => u.origin !== new URL(dp.issuer).origin });
      assert.ok(result.location?.startsWith(REDIRECT_URI), chain.join('\n'));
      assert.ok(new URL(chain.at(-1)!).searchParams.get('code'));
      await assert.rejects(signIn(http, req.url, ALICE), /before any login form/);
    });
  });
});

describe('startDevProvider() with options', () => {
  it('serves renamed endpoints verbatim, trailing slashes included, and the flow works through them', async () => {
    const dp = await startDevProvider({
      clients: [WEB],
      users: [ALICE],
      routes: {
        authorization: '/o/authorize/',
        token: '/o/token/',
        userinfo: '/o/userinfo/',
        revocation: '/o/revoke_token/',
        introspection: '/o/introspect/',
        end_session: '/o/logout/',
        jwks: '/o/jwks/',
      },
    });
    try {
      const rp = await discover(dp);
      assert.equal(rp.as.authorization_endpoint, `${dp.issuer}/o/authorize/`);
      assert.equal(rp.as.token_endpoint, `${dp.issuer}/o/token/`);
      assert.equal(rp.as.userinfo_endpoint, `${dp.issuer}/o/userinfo/`);
      assert.equal(rp.as.revocation_endpoint, `${dp.issuer}/o/revoke_token/`);
      assert.equal(rp.as.introspection_endpoint, `${dp.issuer}/o/introspect/`);
      assert.equal(rp.as.end_session_endpoint, `${dp.issuer}/o/logout/`);
      assert.equal(rp.as.jwks_uri, `${dp.issuer}/o/jwks/`);

      const { tokens } = await codeFlow(dp, rp);
      assert.ok(tokens.refresh_token);
      const info = await fetch(rp.as.userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(info.status, 200);
      assert.equal(dp.counts.authorization, 1);
      assert.deepEqual(dp.counts.tokenByGrant, { authorization_code: 1 });
      assert.equal(dp.counts.userinfo, 1);
      assert.equal((await fetch(`${dp.issuer}/token`, { method: 'POST' })).status, 404);
    } finally {
      await dp.close();
    }
  });

  it('issues RFC 9068 JWT access tokens for the configured resource, on code, refresh and client_credentials', async () => {
    const resource = 'https://api.latch.test';
    const dp = await startDevProvider({
      clients: [WEB, { ...MACHINE, grant_types: ['client_credentials'] }],
      users: [ALICE],
      jwtAccessTokens: { resource, scopes: ['orders:read', 'orders:write'] },
    });
    try {
      const rp = await discover(dp);
      const jwks = createRemoteJWKSet(new URL(rp.as.jwks_uri!));
      const { tokens } = await codeFlow(dp, rp, new HttpClient(), 'openid profile email offline_access orders:read');
      assert.equal(decodeProtectedHeader(tokens.access_token).typ, 'at+jwt');
      const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: dp.issuer, audience: resource, typ: 'at+jwt' });
      assert.equal(payload.sub, ALICE.sub);
      assert.equal(payload['client_id'], 'web');
      assert.equal(payload['scope'], 'orders:read');
      assert.ok(tokens.refresh_token);
      assert.ok(tokens.id_token);

      const res = await oauth.refreshTokenGrantRequest(rp.as, rp.client, rp.auth, tokens.refresh_token!, {
        [oauth.allowInsecureRequests]: true,
      });
      const refreshed = await oauth.processRefreshTokenResponse(rp.as, rp.client, res);
      assert.equal(decodeJwt(refreshed.access_token).aud, resource);

      const machine = await discover(dp, 'machine');
      const cc = await oauth.clientCredentialsGrantRequest(machine.as, machine.client, machine.auth, {
        resource,
        scope: 'orders:write',
      }, { [oauth.allowInsecureRequests]: true });
      const ccTokens = await oauth.processClientCredentialsResponse(machine.as, machine.client, cc);
      const cclaims = (await jwtVerify(ccTokens.access_token, jwks, { audience: resource })).payload;
      assert.equal(cclaims['scope'], 'orders:write');
      assert.equal(cclaims['client_id'], 'machine');
    } finally {
      await dp.close();
    }
  });

  it('returns the same refresh token when rotateRefreshTokens is false', async () => {
    const dp = await startDevProvider({ clients: [WEB], users: [ALICE], rotateRefreshTokens: false });
    try {
      const rp = await discover(dp);
      const { tokens } = await codeFlow(dp, rp);
      for (let i = 0; i < 2; i++) {
        const res = await postToken(dp, '/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
        assert.equal(res.status, 200);
        const body = (await res.json()) as { refresh_token?: string };
        assert.equal(body.refresh_token ?? tokens.refresh_token, tokens.refresh_token);
      }
    } finally {
      await dp.close();
    }
  });

  it('drops iss from callbacks and discovery when issParameter is false', async () => {
    const dp = await startDevProvider({ clients: [WEB], users: [ALICE], issParameter: false });
    try {
      const rp = await discover(dp);
      assert.equal(rp.as.authorization_response_iss_parameter_supported, undefined);
      const { tokens, finalUrl } = await codeFlow(dp, rp);
      assert.equal(finalUrl.searchParams.get('iss'), null);
      assert.ok(finalUrl.searchParams.get('code'));
      assert.ok(tokens.access_token);
    } finally {
      await dp.close();
    }
  });

  it('creates a demo user with a random password by default', async () => {
    const a = await startDevProvider({ clients: [WEB] });
    const b = await startDevProvider({ clients: [WEB] });
    try {
      assert.equal(a.users.length, 1);
      assert.equal(a.users[0]?.login, 'demo@latch.test');
      assert.equal(a.users[0]?.name, 'Dana Demo');
      assert.ok((a.users[0]?.password.length ?? 0) >= 12);
      assert.notEqual(a.users[0]?.password, b.users[0]?.password);
      const rp = await discover(a);
      const { finalUrl } = await signIn(new HttpClient(), (await authorizationUrl(rp)).url, a.users[0]!);
      assert.ok(finalUrl.searchParams.get('code'));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('sends a back-channel logout token to the client when backchannelLogout is on', async () => {
    const received: string[] = [];
    const rpServer = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        received.push(body);
        res.end();
      });
    });
    await new Promise<void>((r) => rpServer.listen(0, '127.0.0.1', r));
    const rpPort = (rpServer.address() as net.AddressInfo).port;
    const dp = await startDevProvider({
      clients: [{ ...WEB, backchannel_logout_uri: `http://127.0.0.1:${rpPort}/backchannel` }],
      users: [ALICE],
      backchannelLogout: true,
    });
    try {
      const rp = await discover(dp);
      assert.equal(rp.as['backchannel_logout_supported'], true);
      const { tokens, http } = await codeFlow(dp, rp);
      const sid = decodeJwt(tokens.id_token!)['sid'];
      assert.equal(typeof sid, 'string');
      const end = new URL(rp.as.end_session_endpoint!);
      end.search = new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI }).toString();
      await completeProviderLogout(http, end.href);
      assert.equal(received.length, 1);
      const logoutToken = new URLSearchParams(received[0]).get('logout_token')!;
      const claims = (await jwtVerify(logoutToken, createRemoteJWKSet(new URL(rp.as.jwks_uri!)), { issuer: dp.issuer, audience: 'web' })).payload;
      assert.equal(claims.sub, ALICE.sub);
      assert.equal(claims['sid'], sid);
      assert.ok((claims['events'] as Record<string, unknown>)['http://schemas.openid.net/event/backchannel-logout']);
    } finally {
      await dp.close();
      rpServer.closeAllConnections();
      await new Promise((r) => rpServer.close(r));
    }
  });

  it("shows the application's name (client_name), escaped, on the sign-in and sign-out pages instead of its client id", async () => {
    const dp = await startDevProvider({ clients: [{ ...WEB, client_name: 'Acme <Shop>' }], users: [ALICE] });
    try {
      const rp = await discover(dp);
      const login = (await new HttpClient().follow((await authorizationUrl(rp)).url)).result.text;
      assert.match(login, /to continue to Acme &lt;Shop&gt;</);
      assert.doesNotMatch(login, /to continue to web\b/);

      const { tokens, http } = await codeFlow(dp, rp);
      const end = new URL(rp.as.end_session_endpoint!);
      end.search = new URLSearchParams({ id_token_hint: tokens.id_token! }).toString();
      const confirm = (await http.follow(end.href)).result.text;
      assert.match(confirm, /You are signing out of Acme &lt;Shop&gt;\./);
      assert.match(confirm, /sign out of the Latch development provider too\?/);
    } finally {
      await dp.close();
    }
  });

  // "Stay signed in" posts the sign-out form without logout=yes. oidc-provider then keeps its own session
  // (the next sign-in needs no password), forgets the asking application in it, and revokes that
  // application's grant unless the grant outlives sign-outs (offline_access: lib/actions/end_session.js,
  // `persistsLogout`). The application's own sign-out (the BFF's, before this page) stands either way.
  it('on "Stay signed in", keeps the provider session and says which application was signed out', async () => {
    const dp = await startDevProvider({ clients: [{ ...WEB, client_name: 'Acme <Shop>' }], users: [ALICE] });
    try {
      const rp = await discover(dp);
      const { tokens, http } = await codeFlow(dp, rp);
      const end = new URL(rp.as.end_session_endpoint!);
      end.search = new URLSearchParams({ id_token_hint: tokens.id_token! }).toString();
      const { result } = await http.follow(end.href);
      const form = parseForms(result.text, result.url).find((f) => f.inputs.has('xsrf'))!;
      const stay = await http.request(form.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams([...form.inputs]).toString(),
      });
      assert.equal(stay.status, 303);
      const done = await http.request(new URL(stay.location!, dp.issuer).href);
      assert.match(done.text, /You have been signed out of Acme &lt;Shop&gt;\./);

      const again = await http.follow((await authorizationUrl(rp)).url, { until: (u) => u.origin !== new URL(dp.issuer).origin });
      assert.ok(again.result.location?.startsWith(REDIRECT_URI), 'the provider session stayed: no login form');
    } finally {
      await dp.close();
    }
  });

  it('close() frees the port promptly, even with a keep-alive connection open', async () => {
    const dp = await startDevProvider({ clients: [WEB], users: [ALICE] });
    const port = Number(new URL(dp.issuer).port);
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(`GET /jwks HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\n`);
    await new Promise((r) => socket.once('data', r));
    const started = Date.now();
    await dp.close();
    assert.ok(Date.now() - started < 1000, 'close() waited for the keep-alive connection');
    await new Promise<void>((resolve, reject) => {
      const probe = net.createServer();
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
    });
    socket.destroy();
  });
});
