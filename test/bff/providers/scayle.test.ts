import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, decodeJwt, jwtVerify } from 'jose';
import { startScayleEmulator, type ScayleEmulator } from '../../../dev/scayle-emulator.ts';
import { followLogoutHandle, HttpClient } from '../../helpers/http.ts';
import { freePort } from '../../helpers/net.ts';
import {
  HTML_PAGE, SERVER_ERROR, SERVER_ERROR_HTML, SILENCE, SITE, answer, assertNoSession, errorCode, sessionSet, sleep,
  startBff, startScriptedServer, type BffHandle, type ScriptedServer,
} from './support.ts';

const SHOP_ID = '1001';
const SHOP_SECRET = 'shop-secret-for-the-emulator-0123456789';
const CLIENT_ID = 'latch-shop';
const CLIENT_SECRET = 'client-secret-0123456789';
const IDP_KEY = 'google';
const key = (secret = SHOP_SECRET) => new TextEncoder().encode(secret);
const now = () => Math.floor(Date.now() / 1000);
const basic = (id = CLIENT_ID, secret = CLIENT_SECRET) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
const login = (bffUrl: string) => `${bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/shop`)}`;

function emulator(options: { accessTokenTtl?: number } = {}) {
  return startScayleEmulator({
    shops: [{ shopId: SHOP_ID, shopSecret: SHOP_SECRET }],
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
    idpKeys: [IDP_KEY],
    ...options,
  });
}

function scayleEnv(baseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LATCH_PROVIDER: 'scayle',
    LATCH_SCAYLE_BASE_URL: baseUrl,
    LATCH_SCAYLE_SHOP_ID: SHOP_ID,
    LATCH_SCAYLE_SHOP_SECRET: SHOP_SECRET,
    LATCH_SCAYLE_IDP_KEY: IDP_KEY,
    LATCH_CLIENT_ID: CLIENT_ID,
    LATCH_CLIENT_SECRET: CLIENT_SECRET,
    LATCH_POST_LOGOUT_REDIRECT_URI: `${SITE}/`,
    ...extra,
  };
}

/** A redirect JWT as the shop signs it. */
function redirectJwt(claims: Record<string, unknown>, options: { secret?: string; iat?: number; exp?: number; alg?: string } = {}) {
  const iat = options.iat ?? now();
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt(iat)
    .setExpirationTime(options.exp ?? iat + 900)
    .sign(key(options.secret));
}

/** Browser-like walk: /login, SCAYLE's redirect, the BFF callback; stops before the page. */
async function scayleSignIn(client: HttpClient, bffUrl: string) {
  const { result, chain } = await client.follow(login(bffUrl), { until: (u) => u.origin === SITE });
  return { callback: result, landed: new URL(chain.at(-1)!) };
}

describe('the SCAYLE emulator (dev/scayle-emulator.ts)', () => {
  let emu: ScayleEmulator;
  const callbackUrl = 'http://127.0.0.1:9/callback';
  before(async () => {
    emu = await emulator();
  });
  after(() => emu.close());

  const redirect = async (jwt: string, shopId = SHOP_ID) =>
    fetch(`${emu.baseUrl}/v1/auth/external/redirect?${new URLSearchParams({ shopId, jwt })}`, { redirect: 'manual' });
  const good = { callbackUrl, idpKey: IDP_KEY, clientId: CLIENT_ID, latchState: 'tx-1' };

  async function code(): Promise<string> {
    const res = await redirect(await redirectJwt(good));
    return new URL(res.headers.get('location')!).searchParams.get('code')!;
  }

  const token = (body: unknown, init: { auth?: string; type?: string } = {}) =>
    fetch(`${emu.baseUrl}/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': init.type ?? 'application/json', authorization: init.auth ?? basic() },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  async function refusal(res: Response) {
    return { status: res.status, error: ((await res.json()) as { error: string }).error };
  }

  it('sends a valid login JWT on to callbackUrl with a code and the payload as base64 JSON state', async () => {
    const res = await redirect(await redirectJwt(good));
    assert.equal(res.status, 302);
    const to = new URL(res.headers.get('location')!);
    assert.equal(`${to.origin}${to.pathname}`, callbackUrl);
    assert.ok(to.searchParams.get('code'));
    const state = JSON.parse(Buffer.from(to.searchParams.get('state')!, 'base64').toString('utf8'));
    assert.deepEqual({ ...state, iat: undefined, exp: undefined }, { ...good, iat: undefined, exp: undefined });
    assert.equal(state.exp - state.iat, 900);
  });

  for (const [what, make, shopId, expected] of [
    ['an expired JWT', () => redirectJwt(good, { iat: now() - 1200, exp: now() - 300 }), SHOP_ID, { status: 401, error: 'jwt_expired' }],
    ['a JWT signed with another secret', () => redirectJwt(good, { secret: 'not-the-shop-secret-0123456789abcdef' }), SHOP_ID, { status: 401, error: 'invalid_jwt' }],
    ['a JWT signed with HS512', () => redirectJwt(good, { alg: 'HS512' }), SHOP_ID, { status: 401, error: 'invalid_jwt' }],
    ['an unsigned JWT', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...good, iat: now(), exp: now() + 60 })).toString('base64url')}.`, SHOP_ID, { status: 401, error: 'invalid_jwt' }],
    ['a JWT living longer than 15 minutes', () => redirectJwt(good, { exp: now() + 3600 }), SHOP_ID, { status: 400, error: 'invalid_jwt' }],
    ['a JWT without callbackUrl', () => redirectJwt({ ...good, callbackUrl: undefined }), SHOP_ID, { status: 401, error: 'invalid_jwt' }],
    ['an unknown idpKey', () => redirectJwt({ ...good, idpKey: 'other' }), SHOP_ID, { status: 400, error: 'unknown_idp' }],
    ['an unknown clientId', () => redirectJwt({ ...good, clientId: 'other' }), SHOP_ID, { status: 400, error: 'unknown_client' }],
    ['an unknown shopId', () => redirectJwt(good), '9999', { status: 400, error: 'unknown_shop' }],
  ] as const) {
    it(`refuses ${what} at the login redirect, and redirects nowhere`, async () => {
      const res = await redirect(await make(), shopId);
      assert.equal(res.headers.get('location'), null);
      assert.deepEqual(await refusal(res), expected);
    });
  }

  it('issues a JWT access token with jti, sub and exp, and a refresh token that rotates', async () => {
    const res = await token({ grant_type: 'authorization_code', code: await code() });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { access_token: string; refresh_token: string; expires_in: number };
    const claims = decodeJwt(body.access_token);
    assert.ok(claims.jti && claims.sub && claims.exp);
    assert.equal(claims.sub, emu.users[0]!.sub);
    assert.ok(emu.isActive(claims.jti));
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token });
    assert.equal(refreshed.status, 200);
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string };
    assert.notEqual(decodeJwt(next.access_token).jti, claims.jti);
    assert.notEqual(next.refresh_token, body.refresh_token);
    assert.deepEqual(await refusal(await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token })), { status: 400, error: 'invalid_grant' });
  });

  it('refuses a replayed code, and revokes what the code gave', async () => {
    const c = await code();
    const first = (await (await token({ grant_type: 'authorization_code', code: c })).json()) as { access_token: string };
    assert.deepEqual(await refusal(await token({ grant_type: 'authorization_code', code: c })), { status: 400, error: 'invalid_grant' });
    assert.equal(emu.isActive(decodeJwt(first.access_token).jti!), false);
  });

  for (const [what, send, expected] of [
    ['a form body', async () => token(new URLSearchParams({ grant_type: 'authorization_code', code: await code() }).toString(), { type: 'application/x-www-form-urlencoded' }), { status: 415, error: 'invalid_request' }],
    ['no client authentication', async () => token({ grant_type: 'authorization_code', code: await code() }, { auth: '' }), { status: 401, error: 'invalid_client' }],
    ['a wrong client secret', async () => token({ grant_type: 'authorization_code', code: await code() }, { auth: basic(CLIENT_ID, 'wrong') }), { status: 401, error: 'invalid_client' }],
    ['an unknown code', async () => token({ grant_type: 'authorization_code', code: 'made-up' }), { status: 400, error: 'invalid_grant' }],
    ['an extra field', async () => token({ grant_type: 'authorization_code', code: await code(), redirect_uri: 'x' }), { status: 400, error: 'invalid_request' }],
    ['another grant', async () => token({ grant_type: 'password', username: 'a', password: 'b' }), { status: 400, error: 'unsupported_grant_type' }],
    ['a JSON array', async () => token([]), { status: 400, error: 'invalid_request' }],
  ] as const) {
    it(`refuses ${what} at the token endpoint`, async () => {
      assert.deepEqual(await refusal(await send()), expected);
    });
  }

  it('verifies the logout JWT, revokes by tokenId and redirects to callbackUrl', async () => {
    const body = (await (await token({ grant_type: 'authorization_code', code: await code() })).json()) as { access_token: string; refresh_token: string };
    const jti = decodeJwt(body.access_token).jti!;
    const forged = await fetch(`${emu.baseUrl}/v1/auth/logout/redirect?${new URLSearchParams({ shopId: SHOP_ID, jwt: await redirectJwt({ callbackUrl: `${SITE}/`, tokenId: jti }, { secret: 'x'.repeat(40) }) })}`, { redirect: 'manual' });
    assert.deepEqual(await refusal(forged), { status: 401, error: 'invalid_jwt' });
    assert.ok(emu.isActive(jti));
    const res = await fetch(`${emu.baseUrl}/v1/auth/logout/redirect?${new URLSearchParams({ shopId: SHOP_ID, jwt: await redirectJwt({ callbackUrl: `${SITE}/`, tokenId: jti }) })}`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `${SITE}/`);
    assert.equal(emu.isActive(jti), false);
    assert.deepEqual(await refusal(await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token })), { status: 400, error: 'invalid_grant' });
  });
});

describe('LATCH_PROVIDER=scayle against the emulator', () => {
  let emu: ScayleEmulator;
  let bff: BffHandle;
  before(async () => {
    emu = await emulator({ accessTokenTtl: 31 });
    bff = await startBff(await freePort(), scayleEnv(emu.baseUrl));
  });
  after(async () => {
    await bff?.close();
    await emu?.close();
  });

  it('starts at the external redirect with shopId and an HS256 JWT binding this browser\'s transaction', async () => {
    const res = await new HttpClient().request(login(bff.url));
    assert.equal(res.status, 302);
    const to = new URL(res.location!);
    assert.equal(`${to.origin}${to.pathname}`, `${emu.baseUrl}/v1/auth/external/redirect`);
    assert.equal(to.searchParams.get('shopId'), SHOP_ID);
    const { payload, protectedHeader } = await jwtVerify(to.searchParams.get('jwt')!, key(), { algorithms: ['HS256'] });
    assert.equal(protectedHeader.alg, 'HS256');
    assert.equal(payload['callbackUrl'], `${bff.url}/callback`);
    assert.equal(payload['idpKey'], IDP_KEY);
    assert.equal(payload['clientId'], CLIENT_ID);
    assert.equal(payload.exp! - payload.iat!, 900);
    const tx = res.setCookies.find((c) => c.startsWith('latch-tx-'))!;
    assert.ok(tx.split('=')[0]!.endsWith(`-${String(payload['latchState']).slice(0, 16)}`), 'the one-time value is the transaction\'s state');
  });

  it('signs in, serves /me from the access token, refreshes, and logs out through SCAYLE, which revokes the tokens', async () => {
    const client = new HttpClient();
    const { callback, landed } = await scayleSignIn(client, bff.url);
    assert.equal(landed.href, `${SITE}/shop`, bff.logs.slice(-2).join(''));
    assert.ok(sessionSet(callback), 'the callback sets the session cookie');

    const me = await client.request(`${bff.url}/me`);
    assert.equal(me.status, 200);
    const { user } = me.json<{ user: Record<string, unknown> }>();
    assert.equal(user['sub'], emu.users[0]!.sub);
    assert.equal(user['email'], emu.users[0]!.email);
    assert.equal(user['jti'], undefined);
    assert.equal(user['client_id'], undefined);

    emu.resetCounts();
    await sleep(1100);
    assert.equal((await client.request(`${bff.url}/me`)).status, 200);
    assert.equal(emu.counts.tokenByGrant['refresh_token'], 1);
    const session = (await bff.app.latch.sites.all[0]!.cookies.read(await client.jar.getCookieString(bff.url)))!.session;
    const jti = decodeJwt(session.at).jti!;
    assert.ok(emu.isActive(jti));

    const out = await client.request(`${bff.url}/logout`, { method: 'POST', headers: { origin: SITE, 'latch-csrf': '1' } });
    assert.equal(out.status, 200);
    // The page gets the BFF's /logout/end, not SCAYLE's URL (its JWT names the access token).
    const { logoutUrl } = out.json<{ logoutUrl: string }>();
    assert.equal(new URL(logoutUrl).pathname, '/logout/end');
    assert.equal(out.text.includes(jti), false, 'nothing of the tokens reaches the page');
    assert.doesNotMatch(out.text, /jwt=|eyJ[\w-]*\.[\w-]*\./); // a JWT, not the letters eyJ a sealed handle may hold
    const to = await followLogoutHandle(client, logoutUrl);
    assert.equal(`${to.origin}${to.pathname}`, `${emu.baseUrl}/v1/auth/logout/redirect`);
    assert.equal(to.searchParams.get('shopId'), SHOP_ID);
    const { payload } = await jwtVerify(to.searchParams.get('jwt')!, key(), { algorithms: ['HS256'] });
    assert.equal(payload['tokenId'], jti);
    assert.equal(payload['callbackUrl'], `${SITE}/`);
    assert.equal((await client.request(`${bff.url}/me`)).status, 401, 'the cookie is cleared at once');

    const { chain } = await client.follow(to.href, { until: (u) => u.origin === SITE });
    assert.equal(chain.at(-1), `${SITE}/`);
    assert.equal(emu.isActive(jti), false, 'SCAYLE revoked the access token');
  });

  it('ends the session when SCAYLE has revoked the refresh token', async () => {
    const client = new HttpClient();
    await scayleSignIn(client, bff.url);
    const session = (await bff.app.latch.sites.all[0]!.cookies.read(await client.jar.getCookieString(bff.url)))!.session;
    const jwt = await redirectJwt({ callbackUrl: `${SITE}/`, tokenId: decodeJwt(session.at).jti });
    await fetch(`${emu.baseUrl}/v1/auth/logout/redirect?${new URLSearchParams({ shopId: SHOP_ID, jwt })}`, { redirect: 'manual' });
    await sleep(1100);
    const me = await client.request(`${bff.url}/me`);
    assert.equal(me.status, 401);
    assert.equal(errorCode(me), 'LATCH_SESSION_EXPIRED');
  });

  it('brings an identity-provider refusal back to the page as latch_error', async () => {
    emu.nextSignIn({ error: 'access_denied' });
    const client = new HttpClient();
    const { callback, landed } = await scayleSignIn(client, bff.url);
    assert.equal(landed.searchParams.get('latch_error'), 'access_denied');
    assertNoSession(callback, 'refused');
  });

  describe('forged state', () => {
    /** /login, then a callback whose state is `forge(payload of the login JWT)`. */
    async function forgedCallback(forge: (payload: Record<string, unknown>) => string) {
      const client = new HttpClient();
      const started = await client.request(login(bff.url));
      const payload = decodeJwt(new URL(started.location!).searchParams.get('jwt')!) as Record<string, unknown>;
      const res = await client.request(`${bff.url}/callback?${new URLSearchParams({ code: 'any', state: forge(payload) })}`);
      return { res, client };
    }

    for (const [what, forge] of [
      ['another transaction\'s value', (p: Record<string, unknown>) => b64json({ ...p, latchState: 'A'.repeat(43) })],
      ['our value with another callbackUrl', (p: Record<string, unknown>) => b64json({ ...p, callbackUrl: 'https://evil.example/cb' })],
      ['our value with another clientId', (p: Record<string, unknown>) => b64json({ ...p, clientId: 'someone-else' })],
      ['no value', (p: Record<string, unknown>) => b64json({ ...p, latchState: undefined })],
      ['not base64 JSON', () => 'not%base64{json}'],
      ['the raw transaction state', (p: Record<string, unknown>) => String(p['latchState'])],
    ] as const) {
      it(`answers LATCH_STATE_MISMATCH to a state carrying ${what}, with no session`, async () => {
        const { res, client } = await forgedCallback(forge);
        assert.equal(res.status, 400);
        assert.equal(errorCode(res), 'LATCH_STATE_MISMATCH');
        assertNoSession(res, what);
        assert.equal((await client.request(`${bff.url}/me`)).status, 401);
      });
    }

    it('accepts the genuine state in either base64 alphabet (the checks above can pass)', async () => {
      const client = new HttpClient();
      const started = await client.request(login(bff.url));
      const jwt = new URL(started.location!).searchParams.get('jwt')!;
      const res = await fetch(`${emu.baseUrl}/v1/auth/external/redirect?${new URLSearchParams({ shopId: SHOP_ID, jwt })}`, { redirect: 'manual' });
      const back = new URL(res.headers.get('location')!);
      const state = Buffer.from(back.searchParams.get('state')!, 'base64').toString('base64url');
      const done = await client.request(`${bff.url}/callback?code=${back.searchParams.get('code')}&state=${state}`);
      assert.equal(done.status, 302, done.text.slice(0, 300));
      assert.ok(sessionSet(done));
    });
  });

  describe('bad configuration', () => {
    it('answers LATCH_TOKEN_EXCHANGE_FAILED when the client secret is wrong, with no session', async () => {
      const wrong = await startBff(await freePort(), scayleEnv(emu.baseUrl, { LATCH_CLIENT_SECRET: 'wrong-secret' }));
      try {
        const client = new HttpClient();
        const { callback } = await scayleSignIn(client, wrong.url);
        assert.equal(callback.status, 502);
        assert.equal(errorCode(callback), 'LATCH_TOKEN_EXCHANGE_FAILED');
        assertNoSession(callback, 'wrong client secret');
      } finally {
        await wrong.close();
      }
    });

    it('is refused by SCAYLE when the shop secret is wrong (a forged JWT), and no session follows', async () => {
      const wrong = await startBff(await freePort(), scayleEnv(emu.baseUrl, { LATCH_SCAYLE_SHOP_SECRET: 'not-the-shop-secret-0123456789' }));
      try {
        const client = new HttpClient();
        const { callback, landed } = await scayleSignIn(client, wrong.url);
        assert.equal(landed.origin, emu.baseUrl, 'the walk ends at SCAYLE');
        assert.equal(callback.status, 401);
        assert.equal(callback.json<{ error: string }>().error, 'invalid_jwt');
        assert.equal((await client.request(`${wrong.url}/me`)).status, 401);
      } finally {
        await wrong.close();
      }
    });
  });

  describe('a token endpoint that misbehaves', () => {
    let server: ScriptedServer;
    let scripted: BffHandle;
    before(async () => {
      server = await startScriptedServer();
      scripted = await startBff(await freePort(), scayleEnv(server.url, { LATCH_HTTP_TIMEOUT_MS: '300' }));
    });
    after(async () => {
      await scripted?.close();
      await server?.close();
    });

    /** /login, then the callback SCAYLE would send (code + base64 JSON of the login JWT's payload). */
    async function callback() {
      const client = new HttpClient();
      const started = await client.request(login(scripted.url));
      const payload = decodeJwt(new URL(started.location!).searchParams.get('jwt')!);
      const res = await client.request(`${scripted.url}/callback?${new URLSearchParams({ code: 'c0de', state: b64json(payload) })}`);
      return { res, client };
    }

    const accessToken = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key('the-token-key-0123456789abcdef0123'));
    const tokenAnswer = (at: string) => answer(200, 'application/json', JSON.stringify({ access_token: at, refresh_token: 'r1', token_type: 'Bearer' }));

    it('sends a JSON body with HTTP Basic client authentication', async () => {
      server.script = tokenAnswer(await accessToken({ sub: 'u1', jti: 'j1', iat: now(), exp: now() + 300 }));
      server.requests.length = 0;
      const { res } = await callback();
      assert.equal(res.status, 302, res.text.slice(0, 300));
      const sent = server.requests[0]!;
      assert.equal(sent.path, '/v1/oauth/token');
      assert.equal(sent.method, 'POST');
      assert.match(String(sent.headers['content-type']), /^application\/json/);
      assert.equal(sent.headers.authorization, basic());
      assert.deepEqual(JSON.parse(sent.body), { grant_type: 'authorization_code', code: 'c0de' });
    });

    for (const [what, make, code] of [
      ['an HTML page', () => HTML_PAGE, 'LATCH_UPSTREAM_ERROR'],
      ['a 500 with JSON', () => SERVER_ERROR, 'LATCH_UPSTREAM_ERROR'],
      ['a 500 with HTML', () => SERVER_ERROR_HTML, 'LATCH_UPSTREAM_ERROR'],
      ['nothing at all', () => SILENCE, 'LATCH_UPSTREAM_TIMEOUT'],
      ['an expired access token', async () => tokenAnswer(await accessToken({ sub: 'u1', jti: 'j1', iat: now() - 7200, exp: now() - 3600 })), 'LATCH_TOKEN_EXCHANGE_FAILED'],
      ['an access token without jti', async () => tokenAnswer(await accessToken({ sub: 'u1', iat: now(), exp: now() + 300 })), 'LATCH_TOKEN_EXCHANGE_FAILED'],
      ['an opaque access token', async () => tokenAnswer('opaque-token'), 'LATCH_TOKEN_EXCHANGE_FAILED'],
    ] as const) {
      it(`answers ${code} when it answers ${what}, with no session`, async () => {
        server.script = await make();
        const { res, client } = await callback();
        assert.ok(res.status >= 400, `status ${res.status}`);
        assert.equal(errorCode(res), code);
        assertNoSession(res, what);
        assert.equal((await client.request(`${scripted.url}/me`)).status, 401);
      });
    }
  });
});
