/**
 * The whole configuration (bff/config.ts): every section together, every problem at once, the rules
 * between sections. Each section's own rules: test/bff/config/<section>.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../bff/config.ts';
import { BASE_ENV, problemsOf } from '../helpers/config.ts';

const valid = { LATCH_ISSUER: 'https://login.example.com', ...BASE_ENV };

describe('loadConfig', () => {
  it('accepts a complete configuration and derives the redirect URI', () => {
    const config = loadConfig(valid);
    assert.equal(config.redirectUri, 'https://auth.example.com/callback');
    assert.deepEqual(config.allowedOrigins, ['https://www.example.com', 'https://shop.example.com']);
    assert.equal(config.scopes, 'openid profile email offline_access');
    assert.equal(config.port, 8787);
    assert.ok(Object.isFrozen(config));
  });

  for (const name of Object.keys(valid)) {
    it(`names ${name} when it is missing`, () => {
      assert.deepEqual(problemsOf({ ...valid, [name]: undefined }), [name]);
    });
  }

  it('refuses alg none and a bad PORT (two sections at once)', () => {
    assert.deepEqual(problemsOf({ ...valid, LATCH_ID_TOKEN_ALG: 'none', PORT: 'eighty' }).sort(), ['LATCH_ID_TOKEN_ALG', 'PORT']);
  });

  it('reports every problem at once', () => {
    assert.deepEqual(problemsOf({}).sort(), ['LATCH_ALLOWED_ORIGINS', 'LATCH_BASE_URL', 'LATCH_CLIENT_ID', 'LATCH_CLIENT_SECRET', 'LATCH_COOKIE_SECRET', 'LATCH_ISSUER']);
  });

  it('names them grouped by section, in the README\'s order: provider, sites, sessions, API routes, limits, operations', () => {
    assert.deepEqual(problemsOf({}), ['LATCH_ISSUER', 'LATCH_CLIENT_ID', 'LATCH_CLIENT_SECRET', 'LATCH_BASE_URL', 'LATCH_ALLOWED_ORIGINS', 'LATCH_COOKIE_SECRET']);
    const everywhere = {
      LATCH_ALLOW_INSECURE_HTTP: 'sometimes',
      LATCH_TRUST_PROXY: '10',
      LATCH_RATE_LIMIT: 'many',
      LATCH_API_ROUTES: 'Orders=https://api.example.com',
      LATCH_SESSION_STORE: 'disk',
      LATCH_HANDOFF: 'yes',
      LATCH_ID_TOKEN_ALG: 'none',
    };
    assert.deepEqual(problemsOf({ ...valid, ...everywhere }), [
      'LATCH_ALLOW_INSECURE_HTTP', // read first: every URL check depends on it
      'LATCH_ID_TOKEN_ALG',
      'LATCH_HANDOFF',
      'LATCH_SESSION_STORE',
      'LATCH_API_ROUTES',
      'LATCH_RATE_LIMIT',
      'LATCH_TRUST_PROXY',
    ]);
  });
});

describe('loadConfig: the rules between sections', () => {
  const routes = {
    LATCH_API_ROUTES: 'orders=https://api.example.com/orders,reports=https://reports.example.com,profile=https://profile.example.com',
    LATCH_API_ROUTE_ORDERS_SCOPE: 'orders:read email',
    LATCH_API_ROUTE_REPORTS_TOKEN: 'service',
    LATCH_API_ROUTE_REPORTS_SCOPE: 'reports:admin',
    LATCH_API_ROUTE_PROFILE_SCOPE: 'profile:read orders:read',
  };

  it('asks for the user-token routes\' scopes at sign-in, once each, after the provider\'s; never a service route\'s', () => {
    assert.equal(loadConfig({ ...valid, ...routes }).scopes, 'openid profile email offline_access orders:read profile:read');
    assert.equal(loadConfig({ ...valid, ...routes, LATCH_SCOPES: 'openid' }).scopes, 'openid orders:read email profile:read');
  });

  it('asks oauth2 without LATCH_SCOPES for the routes\' scopes only (the rest once the server has been asked)', () => {
    const oauth2 = { ...BASE_ENV, LATCH_PROVIDER: 'oauth2', LATCH_OAUTH2_BASE_URL: 'https://app.example.com' };
    assert.equal(loadConfig(oauth2).scopes, '');
    assert.equal(loadConfig({ ...oauth2, ...routes }).scopes, 'orders:read email profile:read');
  });

  it('refuses service-token routes with SCAYLE, which has no standard token endpoint', () => {
    const scayle = {
      ...BASE_ENV,
      LATCH_PROVIDER: 'scayle',
      LATCH_SCAYLE_BASE_URL: 'https://tenant.auth.scayle.cloud',
      LATCH_SCAYLE_SHOP_ID: '1001',
      LATCH_SCAYLE_SHOP_SECRET: 'shop-secret',
      LATCH_SCAYLE_IDP_KEY: 'google',
    };
    assert.deepEqual(problemsOf({ ...scayle, LATCH_API_ROUTES: 'orders=https://api.example.com' }), []);
    assert.deepEqual(problemsOf({ ...scayle, ...routes }), ['LATCH_API_ROUTES']);
  });
});

describe('bff/server.ts start-up', () => {
  it('exits 1 naming the missing variable, without a stack trace', () => {
    const server = fileURLToPath(new URL('../../bff/server.ts', import.meta.url));
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', ...valid };
    delete env['LATCH_COOKIE_SECRET'];
    const run = spawnSync(process.execPath, ['--import', 'tsx', server], { env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /LATCH_COOKIE_SECRET/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });
});

