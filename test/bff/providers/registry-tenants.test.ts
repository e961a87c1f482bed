/**
 * Tenants by host (bff/providers/registry.ts, issue 17): one BFF, two sites in LATCH_SITES, one
 * provider whose issuer is a template over two tenants, each a real oidc-provider. The template here
 * is `http://127.0.0.1:{tenant}` with the two providers' ports as the tenants (a test's way to put two
 * real issuers behind one template; in production it is `https://login.example.com/{tenant}`).
 * Each host signs in at its own tenant with its own cookies, and no request can make the BFF fetch
 * from an address it chooses: unknown hosts are refused before any provider is built.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MeResponse, ProvidersResponse } from '../../../bff/contract.ts';
import { LatchError } from '../../../bff/errors.ts';
import { signIn } from '../../helpers/http.ts';
import { startDevProvider } from '../../../dev/provider.ts';
import { freePort } from '../../helpers/net.ts';
import { multiBff, type MultiBff, type TestProvider } from '../../helpers/providers.ts';

const SHOP_A = 'http://shop-a.latch.test:8787';
const SHOP_B = 'http://shop-b.latch.test:8787';
const PAGE_A = 'http://www.shop-a.latch.test:8080';
const PAGE_B = 'http://www.shop-b.latch.test:8080';

describe('one deployment, one tenant per host (LATCH_SITES tenant, a {tenant} issuer)', () => {
  let a: TestProvider;
  let b: TestProvider;
  let bff: MultiBff;
  const port = (p: TestProvider) => new URL(p.dev.issuer).port;
  const secret = 'one-client-secret-for-every-tenant-0123456789';

  before(async () => {
    // One client id and secret at every tenant, as a multi-tenant server usually has.
    const client = (callback: string, page: string) => ({
      client_id: 'latch-tenants', client_secret: secret, redirect_uris: [callback], post_logout_redirect_uris: [`${page}/`],
    });
    const devA = await startDevProvider({ port: await freePort(), clients: [client(`${SHOP_A}/callback`, PAGE_A)] });
    const devB = await startDevProvider({ port: await freePort(), clients: [client(`${SHOP_B}/callback`, PAGE_B)] });
    const user = (dev: typeof devA) => ({ login: dev.users[0]!.login, password: dev.users[0]!.password });
    a = { dev: devA, clientId: 'latch-tenants', clientSecret: secret, user: user(devA) };
    b = { dev: devB, clientId: 'latch-tenants', clientSecret: secret, user: user(devB) };
    bff = multiBff({
      LATCH_BASE_URL: '',
      LATCH_ALLOWED_ORIGINS: '',
      LATCH_PROVIDERS: 'acme',
      LATCH_PROVIDER_ACME_ISSUER: 'http://127.0.0.1:{tenant}',
      LATCH_PROVIDER_ACME_TENANTS: `${port(a)},${port(b)}`,
      LATCH_PROVIDER_ACME_CLIENT_ID: 'latch-tenants',
      LATCH_PROVIDER_ACME_CLIENT_SECRET: secret,
      LATCH_SITES: JSON.stringify([
        { baseUrl: SHOP_A, allowedOrigins: [PAGE_A], provider: 'acme', tenant: port(a) },
        { baseUrl: SHOP_B, allowedOrigins: [PAGE_B], provider: 'acme', tenant: port(b) },
      ]),
    });
  });
  after(async () => {
    await a?.dev.close();
    await b?.dev.close();
  });

  it('each host signs in at its own tenant, with its own cookies', async () => {
    const client = bff.client();
    a.dev.resetCounts();
    b.dev.resetCounts();
    const { finalUrl } = await signIn(client, `${SHOP_A}/login?returnTo=${encodeURIComponent(`${PAGE_A}/p`)}`, a.user);
    assert.equal(finalUrl.href, `${PAGE_A}/p`);
    assert.equal(a.dev.counts.authorization, 1);
    assert.equal(b.dev.counts.authorization, 0, 'tenant B is never asked for host A');
    const me = (await client.request(`${SHOP_A}/me`)).json<MeResponse>();
    assert.equal(me.provider, 'acme');
    assert.equal((await client.request(`${SHOP_B}/me`)).status, 401, 'host B has no session: cookies are per host');
    await signIn(client, `${SHOP_B}/login?returnTo=${encodeURIComponent(`${PAGE_B}/p`)}`, b.user);
    assert.equal(b.dev.counts.authorization, 1);
    assert.equal((await client.request(`${SHOP_B}/me`)).status, 200);
  });

  it('/providers on each host lists its provider', async () => {
    const res = await bff.client().request(`${SHOP_B}/providers`);
    assert.deepEqual(res.json<ProvidersResponse>(), { providers: [{ name: 'acme', label: 'Acme' }] });
  });

  it('logout at host A goes to tenant A\'s end-session endpoint; refresh and revocation too', async () => {
    const client = bff.client();
    await signIn(client, `${SHOP_A}/login?returnTo=${encodeURIComponent(`${PAGE_A}/p`)}`, a.user);
    a.dev.resetCounts();
    b.dev.resetCounts();
    const out = await client.request(`${SHOP_A}/logout`, { method: 'POST', headers: { 'latch-csrf': '1', origin: PAGE_A } });
    assert.equal(out.status, 200);
    assert.ok(a.dev.counts.revocation >= 1);
    assert.equal(b.dev.counts.revocation, 0);
    const handle = await client.request(out.json<{ logoutUrl: string }>().logoutUrl);
    assert.equal(new URL(handle.location!).origin, a.dev.issuer);
  });

  it('a Host header cannot steer discovery: unknown hosts get 421 and nothing is fetched; X-Forwarded-Host is ignored without LATCH_TRUST_PROXY', async () => {
    a.dev.resetCounts();
    b.dev.resetCounts();
    for (const host of ['127.0.0.1:9', 'evil.example', `127.0.0.1:${port(b)}`, 'shop-a.latch.test.evil.example:8787']) {
      const res = await bff.client().request(`http://shop-a.latch.test:8787/login`, { headers: { host, accept: 'text/html' } });
      assert.equal(res.status, 421, host);
      assert.equal(res.location, null);
    }
    const forwarded = await bff.client().request(`${SHOP_A}/login`, { headers: { 'x-forwarded-host': 'shop-b.latch.test:8787' } });
    assert.equal(new URL(forwarded.location!).origin, a.dev.issuer, 'host A\'s tenant, whatever X-Forwarded-Host says');
    // Query parameters name no tenant or issuer: /login knows `provider`, and this site's only is acme.
    const steered = await bff.client().request(`${SHOP_A}/login?provider=acme&tenant=${port(b)}&iss=${encodeURIComponent(b.dev.issuer)}`);
    assert.equal(new URL(steered.location!).origin, a.dev.issuer);
    assert.equal(b.dev.counts.authorization, 0);
  });

  it('the registry builds only configured tenants, whatever it is asked', () => {
    const registry = bff.app.latch.providers;
    for (const tenant of ['9', 'evil', undefined, `${port(a)}/../x`]) {
      assert.throws(() => registry.get({ name: 'acme', tenant }), (err: unknown) => err instanceof LatchError && err.code === 'LATCH_PROVIDER_UNKNOWN', String(tenant));
    }
    assert.equal(registry.byIssuer('http://127.0.0.1:9'), null);
    assert.equal(registry.byIssuer(a.dev.issuer), registry.get({ name: 'acme', tenant: port(a) }), 'one instance per tenant, cached');
  });

  it('a code from tenant A replayed at host B finds no transaction there', async () => {
    const client = bff.client();
    const { finalUrl } = await signIn(client, `${SHOP_A}/login?returnTo=${encodeURIComponent(`${PAGE_A}/p`)}`, a.user, { stopAt: (url) => url.pathname === '/callback' });
    const replay = new URL(finalUrl.pathname + finalUrl.search, SHOP_B);
    const res = await client.request(replay.href, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 400);
    assert.match(res.text, /LATCH_STATE_MISMATCH/);
    assert.equal((await client.request(`${SHOP_B}/me`)).status, 401);
  });
});
