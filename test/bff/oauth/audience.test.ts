/**
 * A token per API (bff/oauth/audience.ts): user routes with LATCH_API_ROUTE_<NAME>_AUDIENCE, against a
 * real oidc-provider with resource indicators (two APIs, each issuing JWT access tokens for itself
 * alone), and two real upstreams on loopback, each guarded by requireToken accepting only its own
 * audience. RFC 8707 (a refresh-token grant with `resource`, under the session's refresh lock) and
 * RFC 8693 (a token exchange, the dev provider's registered grant).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { calculateJwkThumbprint, decodeJwt, type JWTPayload } from 'jose';
import { requireToken } from '../../../bff/resource/require-token.ts';
import type { Session } from '../../../bff/session/session.ts';
import { HttpClient, signIn } from '../../helpers/http.ts';
import { listen, type Listening } from '../../helpers/net.ts';
import { startStack, type Stack, type StackOptions } from '../../helpers/stack.ts';

const ORDERS = 'https://orders.latch.test';
const REPORTS = 'https://reports.latch.test';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** An upstream API guarded by requireToken for `audience` alone; it answers the verified claims. */
async function startApi(issuer: () => string, audience: string): Promise<Listening & { tokens: string[] }> {
  const tokens: string[] = [];
  const app = new Koa();
  app.silent = true;
  // Lazy: the issuer's URL is known once the stack is up, after the APIs' (whose URLs the stack needs).
  let guard: Koa.Middleware | undefined;
  app.use((ctx, next) => {
    tokens.push(/^(?:Bearer|DPoP) (.+)$/.exec(ctx.get('authorization'))?.[1] ?? '');
    guard ??= requireToken({ issuer: issuer(), audience, allowInsecureHttp: true });
    return guard(ctx, next);
  });
  app.use((ctx) => {
    ctx.body = (ctx.state as { accessToken: { claims: JWTPayload } }).accessToken.claims;
  });
  const server = await listen(app.callback());
  return Object.assign(server, { tokens });
}

interface Fixture {
  stack: Stack;
  orders: Awaited<ReturnType<typeof startApi>>;
  reports: Awaited<ReturnType<typeof startApi>>;
}

async function startFixture(exchange: 'rfc8707' | 'rfc8693', more: StackOptions = {}): Promise<Fixture> {
  let issuer = '';
  const orders = await startApi(() => issuer, ORDERS);
  const reports = await startApi(() => issuer, REPORTS);
  const stack = await startStack({
    ...more,
    provider: {
      resources: [{ resource: ORDERS, scopes: ['orders:read'] }, { resource: REPORTS, scopes: ['reports:read'] }],
      ...(exchange === 'rfc8693' ? { tokenExchange: true } : {}),
      ...more.provider,
    },
    env: {
      LATCH_API_ROUTES: `orders=${orders.url},reports=${reports.url}${exchange === 'rfc8693' ? `,unknown=${orders.url}` : ''}`,
      LATCH_API_ROUTE_ORDERS_AUDIENCE: ORDERS,
      LATCH_API_ROUTE_ORDERS_SCOPE: 'orders:read',
      LATCH_API_ROUTE_REPORTS_AUDIENCE: REPORTS,
      LATCH_API_ROUTE_REPORTS_SCOPE: 'reports:read',
      ...(exchange === 'rfc8693'
        ? {
            LATCH_API_ROUTE_ORDERS_TOKEN_EXCHANGE: 'rfc8693',
            LATCH_API_ROUTE_REPORTS_TOKEN_EXCHANGE: 'rfc8693',
            // An audience the server does not know (an RFC 8707 one would fail the sign-in itself).
            LATCH_API_ROUTE_UNKNOWN_AUDIENCE: 'https://unknown.latch.test',
            LATCH_API_ROUTE_UNKNOWN_TOKEN_EXCHANGE: 'rfc8693',
          }
        : {}),
      ...more.env,
    },
  });
  issuer = stack.provider.issuer;
  return { stack, orders, reports };
}

async function closeFixture(f: Fixture | undefined) {
  await f?.stack.close();
  await f?.orders.close();
  await f?.reports.close();
}

/** A new signed-in browser. */
async function newSession(stack: Stack): Promise<HttpClient> {
  const client = new HttpClient({ defaultHeaders: { origin: stack.siteOrigin, 'latch-csrf': '1' } });
  await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, stack.user);
  return client;
}

async function sessionOf(stack: Stack, client: HttpClient): Promise<Session> {
  const read = await stack.app.latch.sites.all[0]!.cookies.read(await client.jar.getCookieString(stack.bffUrl));
  assert.ok(read, 'the browser has a session');
  return read.session;
}

/** The session cookie's bytes (every chunk, names and values) and its chunks. */
async function cookieSize(stack: Stack, client: HttpClient): Promise<{ bytes: number; chunks: number }> {
  const cookies = (await client.jar.getCookies(stack.bffUrl)).filter((c) => /^(?:__Host-)?latch(?:\.\d+)?$/.test(c.key));
  return { bytes: cookies.reduce((n, c) => n + c.key.length + 1 + c.value.length, 0), chunks: cookies.length };
}

/** Calls the upstream directly with a token, as someone who took it from the other API would. */
async function replay(api: Listening, token: string): Promise<{ status: number; error: string }> {
  const res = await fetch(`${api.url}/x`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, error: ((await res.json()) as { error: string }).error };
}

describe('a token per API: RFC 8707 (refresh-token grant with resource)', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('rfc8707');
  });
  after(() => closeFixture(f));

  it("each route's upstream gets a token for its own API alone, never the session's main token", async () => {
    const client = await newSession(f.stack);
    const main = (await sessionOf(f.stack, client)).at;
    const orders = await client.request(`${f.stack.bffUrl}/api/orders/list`);
    assert.equal(orders.status, 200, orders.text);
    assert.equal(orders.json<JWTPayload>().aud, ORDERS);
    assert.equal(orders.json<JWTPayload>()['scope'], 'orders:read');
    const reports = await client.request(`${f.stack.bffUrl}/api/reports/list`);
    assert.equal(reports.status, 200, reports.text);
    assert.equal(reports.json<JWTPayload>().aud, REPORTS);
    assert.equal(reports.json<JWTPayload>().sub, orders.json<JWTPayload>().sub);
    assert.ok(!f.orders.tokens.includes(main) && !f.reports.tokens.includes(main), 'the main token never goes upstream');
    const session = await sessionOf(f.stack, client);
    assert.deepEqual(Object.keys(session.au ?? {}).sort(), [ORDERS, REPORTS], 'both cached in the session');
  });

  it("one API's token replayed at the other is refused (401 invalid_token), both ways", async () => {
    const client = await newSession(f.stack);
    assert.equal((await client.request(`${f.stack.bffUrl}/api/orders/a`)).status, 200);
    assert.equal((await client.request(`${f.stack.bffUrl}/api/reports/a`)).status, 200);
    const { au } = await sessionOf(f.stack, client);
    assert.equal(decodeJwt(au![ORDERS]!.at).aud, ORDERS);
    assert.deepEqual(await replay(f.reports, au![ORDERS]!.at), { status: 401, error: 'invalid_token' });
    assert.deepEqual(await replay(f.orders, au![REPORTS]!.at), { status: 401, error: 'invalid_token' });
    // And each where it belongs still passes: the refusal is the audience's, not the token's.
    assert.equal((await replay(f.orders, au![ORDERS]!.at)).status, 200);
  });

  it('keeps the rotated refresh token: a later refresh (/me) and a later API token still work', async () => {
    const client = await newSession(f.stack);
    const before = await sessionOf(f.stack, client);
    assert.equal((await client.request(`${f.stack.bffUrl}/api/orders/a`)).status, 200);
    const after = await sessionOf(f.stack, client);
    assert.ok(after.rt && after.rt !== before.rt, 'the server rotated the refresh token, and the session keeps the new one');
    assert.equal(after.at, before.at, 'the main token is untouched');
    // The main token due: /me refreshes with the refresh token the audience grant left. Had the session
    // kept the spent one, oidc-provider would refuse it (and revoke the grant): 401, session over.
    const cookies = f.stack.app.latch.sites.all[0]!.cookies;
    for (const value of await cookies.write({ ...after, atExp: Date.now() - 1000 }, {})) await client.jar.setCookie(value, f.stack.bffUrl);
    f.stack.provider.resetCounts();
    const me = await client.request(`${f.stack.bffUrl}/me`);
    assert.equal(me.status, 200, me.text);
    assert.equal(f.stack.provider.counts.tokenByGrant['refresh_token'], 1);
    const refreshed = await sessionOf(f.stack, client);
    assert.notEqual(refreshed.at, before.at);
    assert.equal(refreshed.au?.[ORDERS]?.at, after.au?.[ORDERS]?.at, 'the API token survives the refresh');
    assert.equal((await client.request(`${f.stack.bffUrl}/api/reports/a`)).status, 200, 'and the next audience grant spends the newest refresh token');
  });

  it('a request still carrying the cookie from before the grant gets its result, and does not spend the old refresh token', async () => {
    const client = await newSession(f.stack);
    const old = await client.jar.getCookieString(f.stack.bffUrl);
    assert.equal((await client.request(`${f.stack.bffUrl}/api/orders/a`)).status, 200);
    f.stack.provider.resetCounts();
    const late = await fetch(`${f.stack.bffUrl}/api/orders/late`, { headers: { origin: f.stack.siteOrigin, 'latch-csrf': '1', cookie: old } });
    assert.equal(late.status, 200);
    assert.equal(f.stack.provider.counts.token, 0, 'the shared result, not a second grant with the spent refresh token');
    assert.equal((await client.request(`${f.stack.bffUrl}/api/reports/a`)).status, 200, 'the session goes on');
  });

  it('10 concurrent calls on a cold session make one token request; the next call none', async () => {
    const client = await newSession(f.stack);
    const cookie = await client.jar.getCookieString(f.stack.bffUrl);
    f.stack.provider.resetCounts();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      fetch(`${f.stack.bffUrl}/api/orders/c${i}`, { headers: { origin: f.stack.siteOrigin, 'latch-csrf': '1', cookie } })));
    assert.deepEqual(answers.map((r) => r.status), Array(10).fill(200));
    assert.equal(f.stack.provider.counts.token, 1, JSON.stringify(f.stack.provider.counts.tokenByGrant));
    assert.equal(f.stack.provider.counts.tokenByGrant['refresh_token'], 1);
    for (const value of answers[0]!.headers.getSetCookie()) await client.jar.setCookie(value, f.stack.bffUrl);
    assert.equal((await client.request(`${f.stack.bffUrl}/api/orders/warm`)).status, 200);
    assert.equal(f.stack.provider.counts.token, 1, 'the cached token is used');
  });

  it('measures the cookie with none, one and two API tokens (sealed in the cookie)', async (t) => {
    const client = await newSession(f.stack);
    const none = await cookieSize(f.stack, client);
    await client.request(`${f.stack.bffUrl}/api/orders/a`);
    const one = await cookieSize(f.stack, client);
    await client.request(`${f.stack.bffUrl}/api/reports/a`);
    const two = await cookieSize(f.stack, client);
    t.diagnostic(`session cookie bytes: none ${none.bytes} (${none.chunks} chunk), one API token ${one.bytes} (${one.chunks}), two ${two.bytes} (${two.chunks})`);
    assert.ok(one.bytes > none.bytes && two.bytes > one.bytes, 'each API token costs cookie bytes');
  });
});

describe('a token per API: RFC 8693 (token exchange, a grant registered on oidc-provider)', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('rfc8693');
  });
  after(() => closeFixture(f));

  it("each route's upstream gets an exchanged token for its own API alone; replayed at the other it is refused", async () => {
    const client = await newSession(f.stack);
    const before = await sessionOf(f.stack, client);
    f.stack.provider.resetCounts();
    const orders = await client.request(`${f.stack.bffUrl}/api/orders/a`);
    assert.equal(orders.status, 200, orders.text);
    assert.equal(orders.json<JWTPayload>().aud, ORDERS);
    assert.equal(orders.json<JWTPayload>()['client_id'], f.stack.clientId);
    const reports = await client.request(`${f.stack.bffUrl}/api/reports/a`);
    assert.equal(reports.status, 200, reports.text);
    assert.equal(reports.json<JWTPayload>().aud, REPORTS);
    assert.deepEqual(f.stack.provider.counts.tokenByGrant, { [TOKEN_EXCHANGE]: 2 });
    const after = await sessionOf(f.stack, client);
    assert.equal(after.rt, before.rt, 'an exchange spends no refresh token');
    assert.deepEqual(await replay(f.reports, after.au![ORDERS]!.at), { status: 401, error: 'invalid_token' });
    assert.deepEqual(await replay(f.orders, after.au![REPORTS]!.at), { status: 401, error: 'invalid_token' });
  });

  it('an audience the server does not know (invalid_target): 502 LATCH_UPSTREAM_ERROR, the session kept', async () => {
    const client = await newSession(f.stack);
    const res = await client.request(`${f.stack.bffUrl}/api/unknown/a`);
    assert.equal(res.status, 502, res.text);
    assert.equal(res.json<{ error: { code: string } }>().error.code, 'LATCH_UPSTREAM_ERROR');
    assert.equal(res.headers.getSetCookie().length, 0, 'no cookie cleared');
    assert.equal((await client.request(`${f.stack.bffUrl}/me`)).status, 200);
    assert.equal((await client.request(`${f.stack.bffUrl}/api/orders/a`)).status, 200);
  });

  it('10 concurrent calls on a cold session make one exchange', async () => {
    const client = await newSession(f.stack);
    const cookie = await client.jar.getCookieString(f.stack.bffUrl);
    f.stack.provider.resetCounts();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      fetch(`${f.stack.bffUrl}/api/reports/c${i}`, { headers: { origin: f.stack.siteOrigin, 'latch-csrf': '1', cookie } })));
    assert.deepEqual(answers.map((r) => r.status), Array(10).fill(200));
    assert.deepEqual(f.stack.provider.counts.tokenByGrant, { [TOKEN_EXCHANGE]: 1 });
  });
});

for (const exchange of ['rfc8707', 'rfc8693'] as const) {
  describe(`a token per API with DPoP (LATCH_DPOP=true), ${exchange}`, () => {
    let f: Fixture;
    before(async () => {
      f = await startFixture(exchange, { client: { dpop_bound_access_tokens: true }, env: { LATCH_DPOP: 'true' } });
    });
    after(() => closeFixture(f));

    it("binds each API's token to the session's key; the token without the key is refused", async (t) => {
      const client = await newSession(f.stack);
      const sizes = [await cookieSize(f.stack, client)];
      for (const [route, audience] of [['orders', ORDERS], ['reports', REPORTS]] as const) {
        const res = await client.request(`${f.stack.bffUrl}/api/${route}/a`);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json<JWTPayload>().aud, audience);
        sizes.push(await cookieSize(f.stack, client));
      }
      t.diagnostic(`session cookie bytes with DPoP: ${sizes.map((s) => `${s.bytes} (${s.chunks} chunk${s.chunks > 1 ? 's' : ''})`).join(', ')} for none, one, two API tokens`);
      const session = await sessionOf(f.stack, client);
      const jkt = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: session.dk!.x, y: session.dk!.y });
      for (const audience of [ORDERS, REPORTS]) {
        const token = session.au![audience]!.at;
        assert.equal((decodeJwt(token) as { cnf?: { jkt?: string } }).cnf?.jkt, jkt, `${audience}: bound to the session's key`);
      }
      // Stolen: presented as Bearer at its own API, without a proof.
      assert.deepEqual(await replay(f.orders, session.au![ORDERS]!.at), { status: 401, error: 'invalid_token' });
    });
  });
}

describe('a token per API, server-side sessions (LATCH_SESSION_STORE=memory)', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('rfc8707', { env: { LATCH_SESSION_STORE: 'memory' } });
  });
  after(() => closeFixture(f));

  it('keeps the API tokens in the store: the cookie does not grow, and the next request finds them', async () => {
    const client = await newSession(f.stack);
    const none = await cookieSize(f.stack, client);
    assert.equal((await client.request(`${f.stack.bffUrl}/api/orders/a`)).status, 200);
    assert.equal((await client.request(`${f.stack.bffUrl}/api/reports/a`)).status, 200);
    const two = await cookieSize(f.stack, client);
    assert.equal(two.bytes, none.bytes, 'the cookie holds a reference only');
    const session = await sessionOf(f.stack, client);
    assert.deepEqual(Object.keys(session.au ?? {}).sort(), [ORDERS, REPORTS]);
    f.stack.provider.resetCounts();
    assert.equal((await client.request(`${f.stack.bffUrl}/api/orders/b`)).status, 200);
    assert.equal((await client.request(`${f.stack.bffUrl}/api/reports/b`)).status, 200);
    assert.equal(f.stack.provider.counts.token, 0, 'both read back from the store');
  });
});
