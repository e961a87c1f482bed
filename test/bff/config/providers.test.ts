/**
 * LATCH_PROVIDERS and each provider's settings under its prefix (bff/config/providers.ts), the sites
 * that name providers and tenants, API routes' step-up settings, and --check-config naming every
 * problem per provider.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../bff/config.ts';
import type { Provider } from '../../../bff/providers/provider.ts';
import { ProviderRegistry } from '../../../bff/providers/registry.ts';
import { BASE_ENV, problemsOf } from '../../helpers/config.ts';
import { checkConfig } from './check-config-cases.ts';

const site = { ...BASE_ENV, LATCH_ALLOWED_ORIGINS: 'https://www.example.com' };
const { LATCH_CLIENT_ID: _id, LATCH_CLIENT_SECRET: _secret, ...noClient } = site;
const two = {
  ...noClient,
  LATCH_PROVIDERS: 'scalegrowth,google',
  LATCH_PROVIDER_GOOGLE_ISSUER: 'https://accounts.google.com',
  LATCH_PROVIDER_GOOGLE_CLIENT_ID: 'google-web',
  LATCH_PROVIDER_GOOGLE_CLIENT_SECRET: 'google-secret',
  LATCH_PROVIDER_GOOGLE_ICON: 'data:image/svg+xml;base64,PHN2Zy8+',
  LATCH_PROVIDER_SCALEGROWTH_KIND: 'oauth2',
  LATCH_PROVIDER_SCALEGROWTH_OAUTH2_BASE_URL: 'https://app.scalegrowth.example',
  LATCH_PROVIDER_SCALEGROWTH_CLIENT_ID: 'sg-web',
  LATCH_PROVIDER_SCALEGROWTH_CLIENT_SECRET: 'sg-secret',
  LATCH_PROVIDER_SCALEGROWTH_LABEL: 'Sign in with ScaleGrowth',
};

describe('loadConfig: several providers (LATCH_PROVIDERS)', () => {
  it('reads each provider under its prefix, in order; the first is the configuration\'s own', () => {
    const config = loadConfig(two);
    assert.deepEqual(config.providers.map((p) => [p.name, p.settings.provider, p.settings.issuer, p.settings.clientId, p.label]), [
      ['scalegrowth', 'oauth2', 'https://app.scalegrowth.example', 'sg-web', 'Sign in with ScaleGrowth'],
      ['google', 'oidc', 'https://accounts.google.com', 'google-web', 'Google'],
    ]);
    assert.equal(config.providers[1]!.icon, 'data:image/svg+xml;base64,PHN2Zy8+');
    assert.equal(config.provider, 'oauth2');
    assert.equal(config.clientId, 'sg-web');
  });

  it('without LATCH_PROVIDERS: one provider, `default`, from the single-provider variables', () => {
    const config = loadConfig({ ...site, LATCH_ISSUER: 'https://login.example.com', LATCH_PROVIDER_LABEL: 'Sign in with Example' });
    assert.deepEqual(config.providers.map((p) => [p.name, p.label, p.settings.issuer]), [['default', 'Sign in with Example', 'https://login.example.com']]);
  });

  it('`default` in the list is the single-provider variables', () => {
    const config = loadConfig({ ...site, LATCH_ISSUER: 'https://login.example.com', LATCH_PROVIDERS: 'default,google', ...Object.fromEntries(Object.entries(two).filter(([k]) => k.startsWith('LATCH_PROVIDER_GOOGLE_'))) });
    assert.deepEqual(config.providers.map((p) => [p.name, p.settings.clientId]), [['default', 'web'], ['google', 'google-web']]);
  });

  it('asks for the deployment\'s client keys when any provider, not only the first, uses private_key_jwt', () => {
    const problems = problemsOf({ ...two, LATCH_PROVIDER_GOOGLE_TOKEN_AUTH_METHOD: 'private_key_jwt' });
    assert.deepEqual(problems, ['LATCH_CLIENT_PRIVATE_KEY']);
  });

  it('lets a provider set its own DPoP and PAR over the deployment\'s, and builds each provider with its own', () => {
    const oidcTwo = {
      ...noClient, LATCH_PROVIDERS: 'alpha,beta,gamma', LATCH_DPOP: 'true', LATCH_PAR: 'true',
      ...Object.fromEntries(['ALPHA', 'BETA', 'GAMMA'].flatMap((n) => [[`LATCH_PROVIDER_${n}_ISSUER`, `https://${n.toLowerCase()}.example.com`], [`LATCH_PROVIDER_${n}_CLIENT_ID`, n], [`LATCH_PROVIDER_${n}_CLIENT_SECRET`, `${n}-secret`]])),
      LATCH_PROVIDER_BETA_DPOP: 'false',
      LATCH_PROVIDER_GAMMA_KIND: 'oauth2', LATCH_PROVIDER_GAMMA_OAUTH2_BASE_URL: 'https://gamma.example.com', LATCH_PROVIDER_GAMMA_PAR: 'false',
    };
    const config = loadConfig(oidcTwo);
    assert.deepEqual(config.providers.map((p) => [p.name, p.binding ?? null]), [['alpha', null], ['beta', { dpop: false }], ['gamma', { par: false }]]);
    const built = new Map<string, { dpop: boolean; par: boolean }>();
    const registry = new ProviderRegistry(config, (c) => {
      built.set(c.clientId, { dpop: c.dpop, par: c.par });
      return { kind: c.provider } as unknown as Provider;
    });
    for (const name of ['alpha', 'beta', 'gamma']) registry.get({ name, tenant: undefined });
    assert.deepEqual(Object.fromEntries(built), { ALPHA: { dpop: true, par: true }, BETA: { dpop: false, par: true }, GAMMA: { dpop: false, par: false } });
    // A kind that cannot take proofs is refused by name.
    assert.deepEqual(problemsOf({ ...oidcTwo, LATCH_PROVIDER_GAMMA_DPOP: 'true' }), ['LATCH_PROVIDER_GAMMA_DPOP']);
  });

  it('names every problem of every provider by its own variable', () => {
    const { LATCH_PROVIDER_GOOGLE_CLIENT_ID: _g, ...env } = two;
    assert.deepEqual(problemsOf({ ...env, LATCH_PROVIDER_SCALEGROWTH_KIND: 'saml', LATCH_PROVIDER_GOOGLE_ISSUER: 'http://accounts.google.com' }).sort(), [
      'LATCH_PROVIDER_GOOGLE_CLIENT_ID', 'LATCH_PROVIDER_GOOGLE_ISSUER', 'LATCH_PROVIDER_SCALEGROWTH_ISSUER', 'LATCH_PROVIDER_SCALEGROWTH_KIND',
    ]);
    assert.deepEqual(problemsOf({ ...two, LATCH_PROVIDERS: 'google,Google,google,two words' }), ['LATCH_PROVIDERS', 'LATCH_PROVIDERS', 'LATCH_PROVIDERS']);
    assert.deepEqual(problemsOf({ ...two, LATCH_PROVIDERS: ' , ' }), ['LATCH_PROVIDERS', 'LATCH_ISSUER', 'LATCH_CLIENT_ID', 'LATCH_CLIENT_SECRET']);
  });

  it('validates icons: https:// or data:image/ only', () => {
    for (const icon of ['http://cdn.example.com/i.png', 'javascript:alert(1)', 'data:text/html,<script>', 'data:image/svg+xml,<svg onload="x">', `data:image/png;base64,${'A'.repeat(9000)}`, 'https://user:pw@cdn.example.com/i.png', '//cdn.example.com/i.png']) {
      assert.deepEqual(problemsOf({ ...two, LATCH_PROVIDER_GOOGLE_ICON: icon }), ['LATCH_PROVIDER_GOOGLE_ICON'], icon);
    }
    assert.equal(loadConfig({ ...two, LATCH_PROVIDER_GOOGLE_ICON: 'https://cdn.example.com/g.svg' }).providers[1]!.icon, 'https://cdn.example.com/g.svg');
  });

  it('a {tenant} issuer needs its TENANTS, each a plain name; TENANTS needs a template', () => {
    const tenanted = { ...two, LATCH_PROVIDER_GOOGLE_ISSUER: 'https://login.example.com/{tenant}', LATCH_PROVIDER_GOOGLE_TENANTS: 'acme,globex' };
    const sites = (list: unknown[]) => ({ LATCH_BASE_URL: '', LATCH_ALLOWED_ORIGINS: '', LATCH_SITES: JSON.stringify(list) });
    const two_sites = sites([
      { baseUrl: 'https://auth.acme.example', allowedOrigins: ['https://acme.example'], provider: 'google', tenant: 'acme' },
      { baseUrl: 'https://auth.globex.example', allowedOrigins: ['https://globex.example'], providers: ['scalegrowth', 'google'], tenant: 'globex' },
    ]);
    const config = loadConfig({ ...tenanted, ...two_sites });
    assert.deepEqual(config.providers[1]!.tenants, ['acme', 'globex']);
    assert.equal(config.providers[1]!.settings.issuer, 'https://login.example.com/{tenant}');
    assert.deepEqual(config.sites.map((s) => [s.providers, s.tenant]), [[['google'], 'acme'], [['scalegrowth', 'google'], 'globex']]);
    assert.deepEqual(problemsOf({ ...tenanted, ...two_sites, LATCH_PROVIDER_GOOGLE_TENANTS: '' }), ['LATCH_PROVIDER_GOOGLE_TENANTS', 'LATCH_SITES (auth.acme.example).tenant', 'LATCH_SITES (auth.globex.example).tenant']);
    assert.deepEqual(problemsOf({ ...tenanted, ...two_sites, LATCH_PROVIDER_GOOGLE_TENANTS: 'acme,Evil.example/x' }), ['LATCH_PROVIDER_GOOGLE_TENANTS', 'LATCH_SITES (auth.globex.example).tenant']);
    assert.deepEqual(problemsOf({ ...two, LATCH_PROVIDER_GOOGLE_TENANTS: 'acme' }), ['LATCH_PROVIDER_GOOGLE_TENANTS']);
    assert.deepEqual(problemsOf({ ...tenanted, ...two_sites, LATCH_PROVIDER_GOOGLE_DISCOVERY_URL: 'https://login.example.com/.well-known/openid-configuration' }), ['LATCH_PROVIDER_GOOGLE_DISCOVERY_URL']);
    // A site that can use no provider, one naming an unknown provider, an unknown tenant, a tenant nothing uses, both keys.
    assert.deepEqual(problemsOf({ ...tenanted, ...sites([{ baseUrl: 'https://a.example', allowedOrigins: ['https://b.example'], provider: 'google' }]) }), ['LATCH_SITES (a.example).tenant']);
    assert.deepEqual(problemsOf({ ...two, ...sites([{ baseUrl: 'https://a.example', allowedOrigins: ['https://b.example'], provider: 'github' }]) }), ['LATCH_SITES (a.example).providers']);
    assert.deepEqual(problemsOf({ ...tenanted, ...sites([{ baseUrl: 'https://a.example', allowedOrigins: ['https://b.example'], provider: 'google', tenant: 'initech' }]) }), ['LATCH_SITES (a.example).tenant']);
    assert.deepEqual(problemsOf({ ...two, ...sites([{ baseUrl: 'https://a.example', allowedOrigins: ['https://b.example'], tenant: 'acme' }]) }), ['LATCH_SITES (a.example).tenant']);
    assert.deepEqual(problemsOf({ ...two, ...sites([{ baseUrl: 'https://a.example', allowedOrigins: ['https://b.example'], provider: 'google', providers: ['google'] }]) }), ['LATCH_SITES[0]']);
  });

  it('API routes: _ACR and _MAX_AGE for user-token routes', () => {
    const env = { ...site, LATCH_ISSUER: 'https://login.example.com', LATCH_API_ROUTES: 'orders=https://api.example.com/orders,reports=https://reports.example.com' };
    const config = loadConfig({ ...env, LATCH_API_ROUTE_ORDERS_ACR: 'urn:loa:2, urn:loa:3', LATCH_API_ROUTE_ORDERS_MAX_AGE: '300' });
    assert.deepEqual(config.apiRoutes.map((r) => [r.name, r.acr, r.maxAge]), [['orders', ['urn:loa:2', 'urn:loa:3'], 300], ['reports', undefined, undefined]]);
    assert.deepEqual(problemsOf({ ...env, LATCH_API_ROUTE_ORDERS_ACR: 'a"b', LATCH_API_ROUTE_REPORTS_MAX_AGE: '5m' }), ['LATCH_API_ROUTE_ORDERS_ACR', 'LATCH_API_ROUTE_REPORTS_MAX_AGE']);
    assert.deepEqual(problemsOf({ ...env, LATCH_API_ROUTE_REPORTS_TOKEN: 'service', LATCH_API_ROUTE_REPORTS_ACR: 'urn:loa:2' }), ['LATCH_API_ROUTE_REPORTS_ACR']);
  });

  it('--check-config names every provider\'s problems, and lists the providers when they are valid', async () => {
    const { LATCH_PROVIDER_GOOGLE_CLIENT_SECRET: _s, ...env } = two;
    const bad = await checkConfig({ ...env, LATCH_PROVIDER_SCALEGROWTH_OAUTH2_BASE_URL: 'ftp://x', LATCH_WIDGET_DIR: 'test/bff/config/no-widget' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /LATCH_PROVIDER_GOOGLE_CLIENT_SECRET: is required/);
    assert.match(bad.stderr, /LATCH_PROVIDER_SCALEGROWTH_OAUTH2_BASE_URL: must be an https:\/\/ URL/);
    const good = await checkConfig({ ...two, LATCH_WIDGET_DIR: 'test/bff/config/no-widget' });
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /scalegrowth \(oauth2, https:\/\/app\.scalegrowth\.example, client sg-web\); google \(oidc, https:\/\/accounts\.google\.com, client google-web\)/);
    assert.doesNotMatch(good.stdout + good.stderr, /sg-secret|google-secret/, 'no secret printed');
  });
});
