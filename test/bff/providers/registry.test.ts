/**
 * Several providers on one BFF (bff/providers/registry.ts, issue 17) against two real oidc-providers:
 * the choice at /login, the mix-up defence at /callback (RFC 9700 §4.4: the answer is judged by the
 * provider the transaction recorded, never by the one the callback names), and everything a session
 * does afterwards going to its own provider (refresh, revocation, RP-initiated logout, back-channel
 * logout by the token's issuer).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, generateKeyPair } from 'jose';
import type { MeResponse, ProvidersResponse } from '../../../bff/contract.ts';
import { HAND_ENDPOINTS, memoryBff, SITE } from '../../helpers/bff.ts';
import { signIn } from '../../helpers/http.ts';
import { session } from '../session/support.ts';
import { MULTI_BFF, MULTI_SITE, multiBff, providerEnv, startTestProvider, type MultiBff, type TestProvider } from '../../helpers/providers.ts';

const returnTo = encodeURIComponent(`${MULTI_SITE}/p`);
const toCallback = (url: URL) => url.origin === MULTI_BFF && url.pathname === '/callback';

describe('two providers on one BFF (LATCH_PROVIDERS)', () => {
  let a: TestProvider;
  let b: TestProvider;
  let bff: MultiBff;
  before(async () => {
    a = await startTestProvider([`${MULTI_BFF}/callback`]);
    // B's access tokens live 2 s: its sessions refresh within a second (half the lifetime).
    b = await startTestProvider([`${MULTI_BFF}/callback`], { accessTokenTtl: 2 });
    bff = multiBff({
      LATCH_PROVIDERS: 'alpha,beta',
      ...providerEnv('alpha', a, { LABEL: 'Sign in with Alpha', ICON: 'https://cdn.example.com/alpha.svg' }),
      ...providerEnv('beta', b),
    });
  });
  after(async () => {
    await a?.dev.close();
    await b?.dev.close();
  });

  it('GET /providers lists both, in configured order, with labels and icons, cacheable privately for 60 s', async () => {
    const res = await bff.client().request(`${MULTI_BFF}/providers`, { headers: { origin: MULTI_SITE } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json<ProvidersResponse>(), {
      providers: [
        { name: 'alpha', label: 'Sign in with Alpha', icon: 'https://cdn.example.com/alpha.svg' },
        { name: 'beta', label: 'Beta' },
      ],
    });
    assert.equal(res.headers.get('cache-control'), 'private, max-age=60');
    assert.equal(res.headers.get('access-control-allow-origin'), MULTI_SITE);
    const other = await bff.client().request(`${MULTI_BFF}/providers`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('/login?provider=<unknown> (a forged name) is 400 LATCH_PROVIDER_UNKNOWN, an error page, and nothing is fetched', async () => {
    a.dev.resetCounts();
    b.dev.resetCounts();
    for (const forged of ['evil', 'ALPHA', 'alpha ', '../alpha', 'default', 'http://127.0.0.1:9']) {
      const res = await bff.client().request(`${MULTI_BFF}/login?provider=${encodeURIComponent(forged)}&returnTo=${returnTo}`, { headers: { accept: 'text/html' } });
      assert.equal(res.status, 400, forged);
      assert.match(res.headers.get('content-type') ?? '', /html/);
      assert.match(res.text, /LATCH_PROVIDER_UNKNOWN/);
      assert.equal(res.setCookies.length, 0, 'no transaction');
    }
    assert.equal(a.dev.counts.authorization + b.dev.counts.authorization, 0);
  });

  it('signs in with the provider named, and /me says which; without a name, the first', async () => {
    const client = bff.client();
    const { finalUrl } = await signIn(client, `${MULTI_BFF}/login?provider=beta&returnTo=${returnTo}`, b.user);
    assert.equal(finalUrl.href, `${MULTI_SITE}/p`);
    const me = (await client.request(`${MULTI_BFF}/me`)).json<MeResponse>();
    assert.equal(me.provider, 'beta');
    const first = bff.client();
    const started = await first.request(`${MULTI_BFF}/login?returnTo=${returnTo}`);
    assert.equal(new URL(started.location!).origin, a.dev.issuer, 'no provider named: the first configured');
  });

  for (const [from, into] of [['alpha', 'beta'], ['beta', 'alpha']] as const) {
    it(`mix-up (RFC 9700 §4.4): ${from}'s code and state replayed with ${into}'s iss are refused, with no session`, async () => {
      const [source, other] = from === 'alpha' ? [a, b] : [b, a];
      const client = bff.client();
      const { finalUrl } = await signIn(client, `${MULTI_BFF}/login?provider=${from}&returnTo=${returnTo}`, source.user, { stopAt: toCallback });
      assert.equal(finalUrl.searchParams.get('iss'), source.dev.issuer);
      const forged = new URL(finalUrl);
      forged.searchParams.set('iss', other.dev.issuer);
      other.dev.resetCounts();
      source.dev.resetCounts();
      const res = await client.request(forged.href, { headers: { accept: 'text/html' } });
      assert.equal(res.status, 400);
      assert.match(res.text, /LATCH_ISSUER_MISMATCH/);
      assert.equal(res.setCookies.filter((c) => /^latch=/.test(c)).length, 0, 'no session cookie');
      assert.equal(other.dev.counts.token + source.dev.counts.token, 0, 'no code went to any token endpoint');
      assert.equal((await client.request(`${MULTI_BFF}/me`)).status, 401);
      // The transaction is spent: the genuine answer replayed afterwards is refused too.
      assert.equal((await client.request(finalUrl.href, { headers: { accept: 'text/html' } })).status, 400);
    });
  }

  it(`mix-up: alpha's code under beta's transaction (beta's state and iss) goes to beta's token endpoint only, and is refused`, async () => {
    const client = bff.client();
    const started = await client.request(`${MULTI_BFF}/login?provider=beta&returnTo=${returnTo}`);
    const betaState = new URL(started.location!).searchParams.get('state')!;
    const { finalUrl } = await signIn(client, `${MULTI_BFF}/login?provider=alpha&returnTo=${returnTo}`, a.user, { stopAt: toCallback });
    const forged = new URL(`${MULTI_BFF}/callback`);
    forged.searchParams.set('code', finalUrl.searchParams.get('code')!);
    forged.searchParams.set('state', betaState);
    forged.searchParams.set('iss', b.dev.issuer);
    a.dev.resetCounts();
    b.dev.resetCounts();
    const res = await client.request(forged.href, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 400);
    assert.equal(a.dev.counts.token, 0, 'alpha never sees its code come back');
    assert.equal(b.dev.counts.token, 1, 'beta refuses a code it did not issue');
    assert.equal((await client.request(`${MULTI_BFF}/me`)).status, 401);
  });

  it('a callback without iss is refused for a provider that sends it (RFC 9207)', async () => {
    const client = bff.client();
    const { finalUrl } = await signIn(client, `${MULTI_BFF}/login?provider=alpha&returnTo=${returnTo}`, a.user, { stopAt: toCallback });
    const stripped = new URL(finalUrl);
    stripped.searchParams.delete('iss');
    const res = await client.request(stripped.href, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 400);
    assert.match(res.text, /LATCH_ISSUER_MISMATCH/);
  });

  it('refresh, revocation and RP-initiated logout go to the session\'s own provider; a second sign-in replaces the session', async () => {
    const client = bff.client();
    await signIn(client, `${MULTI_BFF}/login?provider=alpha&returnTo=${returnTo}`, a.user);
    assert.equal((await client.request(`${MULTI_BFF}/me`)).json<MeResponse>().provider, 'alpha');
    // Signing in with beta replaces the alpha session (no merge).
    await signIn(client, `${MULTI_BFF}/login?provider=beta&returnTo=${returnTo}`, b.user);
    assert.equal((await client.request(`${MULTI_BFF}/me`)).json<MeResponse>().provider, 'beta');
    a.dev.resetCounts();
    b.dev.resetCounts();
    // beta's token lives 2 s: /me refreshes it at beta once it is past half its life.
    for (let i = 0; i < 60 && !b.dev.counts.tokenByGrant['refresh_token']; i++) {
      assert.equal((await client.request(`${MULTI_BFF}/me`)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(b.dev.counts.tokenByGrant['refresh_token'], 1);
    assert.equal(a.dev.counts.token, 0);
    const out = await client.request(`${MULTI_BFF}/logout`, { method: 'POST', headers: { 'latch-csrf': '1', origin: MULTI_SITE } });
    assert.equal(out.status, 200);
    assert.ok(b.dev.counts.revocation >= 1, 'revoked at beta');
    assert.equal(a.dev.counts.revocation, 0);
    const handle = await client.request(out.json<{ logoutUrl: string }>().logoutUrl);
    assert.equal(new URL(handle.location!).origin, b.dev.issuer, 'RP-initiated logout at beta');
  });

  it('back-channel logout: a token is verified by the keys of the provider its iss names, and no other', async () => {
    const client = bff.client();
    await signIn(client, `${MULTI_BFF}/login?provider=beta&returnTo=${returnTo}`, b.user);
    const { privateKey } = await generateKeyPair('RS256');
    for (const iss of [b.dev.issuer, a.dev.issuer, 'https://evil.example']) {
      // Signed by an attacker's key: whichever provider the iss names refuses it (and an unknown iss names none).
      const token = await new SignJWT({ events: { 'http://schemas.openid.net/event/backchannel-logout': {} }, sub: 'demo-user-1', jti: `j-${iss}` })
        .setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt', kid: 'attacker' })
        .setIssuer(iss).setAudience(b.clientId).setIssuedAt().setExpirationTime('2m')
        .sign(privateKey);
      const res = await client.request(`${MULTI_BFF}/backchannel-logout`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }).toString(),
      });
      assert.equal(res.status, 400, iss);
    }
    assert.equal((await client.request(`${MULTI_BFF}/me`)).status, 200, 'the session survives forged logout tokens');
  });
});

describe('a session whose provider is no longer configured', () => {
  const bff = memoryBff({ ...HAND_ENDPOINTS, LATCH_PROVIDERS: 'default' });

  it('/me names its provider; a due refresh ends it (401 LATCH_SESSION_EXPIRED, never a 500); logout still clears it', async () => {
    const fresh = await bff.cookieFor(session({ pv: 'gone', acr: 'urn:x', ath: 1_800_000_000 }));
    const me = await bff.fetch('/me', { headers: { cookie: fresh } });
    assert.equal(me.status, 200);
    const body = (await me.json()) as MeResponse;
    assert.deepEqual([body.provider, body.acr, body.authTime], ['gone', 'urn:x', 1_800_000_000]);
    const stale = await bff.cookieFor(session({ pv: 'gone', atExp: Date.now() - 1000 }));
    const refused = await bff.fetch('/me', { headers: { cookie: stale } });
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'LATCH_SESSION_EXPIRED');
    const out = await bff.fetch('/logout', { method: 'POST', headers: { cookie: stale, 'latch-csrf': '1', origin: SITE } });
    assert.equal(out.status, 200);
    assert.deepEqual(await out.json(), { logoutUrl: null });
  });

  it('a session without a provider is the `default` one', async () => {
    const res = await bff.fetch('/me', { headers: { cookie: await bff.cookieFor(session()) } });
    assert.equal(((await res.json()) as MeResponse).provider, 'default');
  });
});

describe('a site\'s own providers (LATCH_SITES provider/providers)', () => {
  const hand = (name: string, port: number) => Object.fromEntries(Object.entries({
    ISSUER: `http://127.0.0.1:${port}`, CLIENT_ID: `${name}-web`, CLIENT_SECRET: 'secret',
    AUTHORIZATION_ENDPOINT: `http://127.0.0.1:${port}/authorize`, TOKEN_ENDPOINT: `http://127.0.0.1:${port}/token`, JWKS_URI: `http://127.0.0.1:${port}/jwks`,
  }).map(([k, v]) => [`LATCH_PROVIDER_${name.toUpperCase()}_${k}`, v]));
  const bff = memoryBff({
    LATCH_PROVIDERS: 'alpha,beta', ...hand('alpha', 9), ...hand('beta', 19),
    LATCH_SITES: JSON.stringify([
      { baseUrl: 'http://only-beta.latch.test:8787', allowedOrigins: ['http://www.only-beta.latch.test'], provider: 'beta' },
      { baseUrl: 'http://reversed.latch.test:8787', allowedOrigins: ['http://www.reversed.latch.test'], providers: ['beta', 'alpha'] },
    ]),
  });

  it('lists and signs in with only the providers a site names, in its order; another is 400 LATCH_PROVIDER_UNKNOWN', async () => {
    const names = async (host: string) => ((await (await bff.fetch(`http://${host}/providers`)).json()) as ProvidersResponse).providers.map((p) => p.name);
    assert.deepEqual(await names('127.0.0.1:8787'), ['alpha', 'beta']);
    assert.deepEqual(await names('only-beta.latch.test:8787'), ['beta']);
    assert.deepEqual(await names('reversed.latch.test:8787'), ['beta', 'alpha']);
    const refused = await bff.fetch('http://only-beta.latch.test:8787/login?provider=alpha', { headers: { accept: 'text/html' } });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /LATCH_PROVIDER_UNKNOWN/);
    const first = await bff.fetch('http://reversed.latch.test:8787/login');
    assert.equal(new URL(first.headers.get('location')!).origin, 'http://127.0.0.1:19', 'the site\'s first: beta');
    const named = await bff.fetch('http://reversed.latch.test:8787/login?provider=alpha');
    const url = new URL(named.headers.get('location')!);
    assert.deepEqual([url.origin, url.searchParams.get('client_id'), url.searchParams.get('redirect_uri')], ['http://127.0.0.1:9', 'alpha-web', 'http://reversed.latch.test:8787/callback']);
  });
});
