/**
 * One BFF deployment, several sites (LATCH_SITES), at the HTTP level: the site a request gets by its
 * host name (redirect URI, cookies, allowed origins, post-logout target), unknown hosts, trusted
 * forwarded headers, and a path mount (`https://shop-a.test/latch`). The BFFs answer in memory
 * (test/helpers/in-memory.ts), each request with the Host header a browser would send; the sign-ins
 * go through a real oidc-provider. Reading LATCH_SITES: test/bff/config/sites.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createBff } from '../../bff/app.ts';
import { loadConfig } from '../../bff/config.ts';
import { startDevProvider, type DevProvider } from '../../dev/provider.ts';
import { HttpClient, signIn } from '../helpers/http.ts';
import { inMemory, type InMemory } from '../helpers/in-memory.ts';

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  setCookies: string[];
  text: string;
  json<T = unknown>(): T;
}

describe('one BFF, several sites (HTTP)', () => {
  let provider: DevProvider;
  let bff: InMemory;
  let proxied: InMemory;
  let user: { login: string; password: string };
  const SHOP_A = 'https://shop-a.test';
  const CAMPAIGN_B = 'https://campaign-b.test';

  before(async () => {
    const clientId = `latch-${randomBytes(4).toString('hex')}`;
    const clientSecret = randomBytes(24).toString('base64url');
    provider = await startDevProvider({
      clients: [{
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: ['https://auth.shop-a.test/callback', 'https://auth.campaign-b.test/callback', 'https://shop-a.test/latch/callback'],
        post_logout_redirect_uris: [`${SHOP_A}/`, `${CAMPAIGN_B}/`],
      }],
    });
    user = provider.users[0]!;
    const env = {
      LATCH_ISSUER: provider.issuer,
      LATCH_CLIENT_ID: clientId,
      LATCH_CLIENT_SECRET: clientSecret,
      LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
      LATCH_ALLOW_INSECURE_HTTP: 'true',
      LATCH_SITES: JSON.stringify([
        { baseUrl: 'https://auth.shop-a.test', allowedOrigins: [SHOP_A] },
        { baseUrl: 'https://auth.campaign-b.test', allowedOrigins: [CAMPAIGN_B], postLogoutRedirectUri: `${CAMPAIGN_B}/bye` },
        { baseUrl: 'https://shop-a.test/latch', allowedOrigins: [SHOP_A] },
      ]),
    };
    const logger = pino({ level: 'silent' });
    bff = inMemory(createBff(loadConfig(env), { logger }));
    proxied = inMemory(createBff(loadConfig({ ...env, LATCH_TRUST_PROXY: 'true' }), { logger }));
  });
  after(async () => {
    await provider?.close();
  });

  /** One request to the BFF with the Host header a browser would send. */
  async function send(host: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string; to?: InMemory } = {}): Promise<Answer> {
    const res = await (init.to ?? bff).fetch(path, { method: init.method ?? 'GET', headers: { host, ...init.headers }, ...(init.body === undefined ? {} : { body: init.body }) });
    const text = await res.text();
    return { status: res.status, headers: Object.fromEntries(res.headers), setCookies: res.headers.getSetCookie(), text, json: <T>() => JSON.parse(text) as T };
  }
  const code = (a: Answer) => a.json<{ error?: { code?: string } }>().error?.code;
  const cookiePair = (setCookie: string) => setCookie.split(';')[0]!;

  /** A whole sign-in on one site: /login and /callback on its host, the provider in between. */
  async function signInAt(host: string, prefix = '', returnTo = `${SHOP_A}/after`) {
    const login = await send(host, `${prefix}/login?returnTo=${encodeURIComponent(returnTo)}`);
    assert.equal(login.status, 302, login.text);
    const authorize = new URL(login.headers.location!);
    const tx = login.setCookies.map(cookiePair).join('; ');
    const { finalUrl } = await signIn(new HttpClient(), authorize.href, user, { stopAt: (url) => url.pathname.endsWith('/callback') });
    assert.equal(`${finalUrl.origin}${finalUrl.pathname}`, authorize.searchParams.get('redirect_uri'), 'the provider returns to the site\'s redirect URI');
    const callback = await send(finalUrl.host, `${finalUrl.pathname}${finalUrl.search}`, { headers: { cookie: tx } });
    return { login, authorize, callback };
  }

  it('signs in on each host with its own redirect URI, cookie and allowed origins', async () => {
    const a = await signInAt('auth.shop-a.test');
    assert.equal(a.authorize.searchParams.get('redirect_uri'), 'https://auth.shop-a.test/callback');
    assert.equal(a.callback.status, 302, a.callback.text);
    assert.equal(a.callback.headers.location, `${SHOP_A}/after`);
    const session = a.callback.setCookies.find((c) => c.startsWith('__Host-latch='));
    assert.ok(session, a.callback.setCookies.join('\n'));
    assert.match(session, /; Path=\/; HttpOnly; Secure; SameSite=Lax/);

    const me = await send('auth.shop-a.test', '/me', { headers: { cookie: cookiePair(session), origin: SHOP_A, 'sec-fetch-site': 'same-site' } });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.headers['access-control-allow-origin'], SHOP_A);
    assert.equal(me.json<{ sameSite: unknown }>().sameSite, true);

    const b = await signInAt('auth.campaign-b.test', '', `${CAMPAIGN_B}/x`);
    assert.equal(b.authorize.searchParams.get('redirect_uri'), 'https://auth.campaign-b.test/callback');
    assert.equal(b.callback.headers.location, `${CAMPAIGN_B}/x`);
    // Its post-logout target is its own.
    const bSession = cookiePair(b.callback.setCookies.find((c) => c.startsWith('__Host-latch='))!);
    const out = await send('auth.campaign-b.test', '/logout', { method: 'POST', headers: { cookie: bSession, origin: CAMPAIGN_B, 'latch-csrf': '1' } });
    assert.equal(out.status, 200, out.text);
    // The page gets this site's /logout/end; the handle opens on this site's host only.
    const end = new URL(out.json<{ logoutUrl: string }>().logoutUrl);
    assert.equal(`${end.origin}${end.pathname}`, 'https://auth.campaign-b.test/logout/end');
    const elsewhere = await send('auth.shop-a.test', `${end.pathname}${end.search}`);
    assert.equal(elsewhere.headers.location, `${SHOP_A}/`, 'another site\'s host: back to that site, no provider');
    const there = await send('auth.campaign-b.test', `${end.pathname}${end.search}`);
    assert.equal(there.status, 302);
    assert.match(there.headers.location!, new RegExp(`post_logout_redirect_uri=${encodeURIComponent(`${CAMPAIGN_B}/bye`)}`));
  });

  it('keeps each site\'s origins to itself: returnTo, CORS and CSRF', async () => {
    const login = await send('auth.shop-a.test', `/login?returnTo=${encodeURIComponent(`${CAMPAIGN_B}/`)}`);
    assert.equal(login.status, 302);
    // The other site's origin is not this site's: the sign-in would return to this site's first origin.
    const tx = login.setCookies.find((c) => c.startsWith('__Host-latch-tx-'));
    assert.ok(tx);

    const cors = await send('auth.shop-a.test', '/me', { headers: { origin: CAMPAIGN_B } });
    assert.equal(cors.status, 401);
    assert.equal(cors.headers['access-control-allow-origin'], undefined, 'no CORS for another site\'s origin');
    const preflight = await send('auth.shop-a.test', '/logout', {
      method: 'OPTIONS',
      headers: { origin: CAMPAIGN_B, 'access-control-request-method': 'POST', 'access-control-request-headers': 'latch-csrf' },
    });
    assert.equal(preflight.status, 403);
    const csrf = await send('auth.shop-a.test', '/logout', { method: 'POST', headers: { origin: CAMPAIGN_B, 'latch-csrf': '1' } });
    assert.equal(code(csrf), 'LATCH_ORIGIN_NOT_ALLOWED');
    const ok = await send('auth.campaign-b.test', '/logout', { method: 'POST', headers: { origin: CAMPAIGN_B, 'latch-csrf': '1' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], CAMPAIGN_B);

    const { callback } = await signInAt('auth.shop-a.test', '', `${CAMPAIGN_B}/`);
    assert.equal(callback.headers.location, `${SHOP_A}/`, 'returnTo on another site\'s origin falls back to this site\'s');
  });

  it('answers an unknown host 421 LATCH_UNKNOWN_SITE (never a 500), except for probes', async () => {
    for (const host of ['evil.test', 'auth.shop-a.test.evil.test', '127.0.0.1']) {
      const res = await send(host, '/me');
      assert.equal(res.status, 421, host);
      assert.equal(code(res), 'LATCH_UNKNOWN_SITE');
      const login = await send(host, '/login');
      assert.equal(login.status, 421);
    }
    assert.equal((await send('127.0.0.1', '/healthz')).status, 200);
    assert.equal((await send('AUTH.SHOP-A.TEST', '/healthz')).status, 200);
    assert.equal((await send('AUTH.SHOP-A.TEST:443', '/me')).status, 401, 'host names are case-insensitive; the default port is the same host');
  });

  it('believes X-Forwarded-Host only with LATCH_TRUST_PROXY', async () => {
    const direct = await send('evil.test', '/me', { headers: { 'x-forwarded-host': 'auth.shop-a.test' } });
    assert.equal(direct.status, 421, 'not trusted: the Host header decides');
    const spoof = await send('auth.shop-a.test', '/login', { headers: { 'x-forwarded-host': 'auth.campaign-b.test' } });
    assert.equal(new URL(spoof.headers.location!).searchParams.get('redirect_uri'), 'https://auth.shop-a.test/callback');

    const trusted = await send('127.0.0.1', '/login', { to: proxied, headers: { 'x-forwarded-host': 'auth.campaign-b.test', 'x-forwarded-proto': 'https' } });
    assert.equal(trusted.status, 302);
    assert.equal(new URL(trusted.headers.location!).searchParams.get('redirect_uri'), 'https://auth.campaign-b.test/callback');
  });

  it('serves a path mount: the prefix is stripped when present, cookies are scoped to it (__Secure-, Path=/latch)', async () => {
    const { authorize, callback, login } = await signInAt('shop-a.test', '/latch');
    assert.equal(authorize.searchParams.get('redirect_uri'), 'https://shop-a.test/latch/callback');
    const tx = login.setCookies[0]!;
    assert.match(tx, /^__Secure-latch-tx-[^=]+=/);
    assert.match(tx, /; Path=\/latch;/);
    assert.equal(callback.status, 302, callback.text);
    const session = callback.setCookies.find((c) => c.startsWith('__Secure-latch='));
    assert.ok(session, callback.setCookies.join('\n'));
    assert.match(session, /; Path=\/latch; HttpOnly; Secure; SameSite=Lax/);

    // The page calls its own origin: same-origin, no CORS needed; with the prefix, or stripped by the proxy.
    for (const path of ['/latch/me', '/me']) {
      const me = await send('shop-a.test', path, { headers: { cookie: cookiePair(session), 'sec-fetch-site': 'same-origin' } });
      assert.equal(me.status, 200, `${path}: ${me.text}`);
      assert.equal(me.json<{ sameSite: unknown }>().sameSite, true);
    }
    assert.equal((await send('shop-a.test', '/latch/healthz')).status, 200);
    assert.equal((await send('shop-a.test', '/latchx/me')).status, 404, 'only the prefix and what is under it');
    // The host-name site's cookie is another cookie: not this site's session.
    const other = await send('shop-a.test', '/latch/me', { headers: { cookie: cookiePair(session).replace('__Secure-latch=', '__Host-latch=') } });
    assert.equal(other.status, 401);
  });
});
