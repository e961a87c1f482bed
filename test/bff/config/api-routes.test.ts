/** The API routes section (bff/config/api-routes.ts): LATCH_API_ROUTES, LATCH_API_ROUTE_<NAME>_*, LATCH_API_TIMEOUT_MS. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../bff/config.ts';
import { BASE_ENV, problemsOf } from '../../helpers/config.ts';

describe('LATCH_API_ROUTES', () => {
  const base = { ...BASE_ENV, LATCH_ISSUER: 'https://login.example.com', LATCH_ALLOWED_ORIGINS: 'https://www.example.com' };
  const problems = (env: Record<string, string>) => problemsOf({ ...base, ...env });

  it('reads the routes and their options, and asks for user routes\' scopes at sign-in', () => {
    const config = loadConfig({
      ...base,
      LATCH_API_ROUTES: ' orders=https://api.example.com/orders/ , user-profile=https://profile.example.com ',
      LATCH_API_ROUTE_ORDERS_SCOPE: 'orders:read  orders:write',
      LATCH_API_ROUTE_USER_PROFILE_TOKEN: 'service',
      LATCH_API_ROUTE_USER_PROFILE_SCOPE: 'profile:admin',
      LATCH_API_ROUTE_USER_PROFILE_AUDIENCE: 'https://profile.example.com',
      LATCH_API_TIMEOUT_MS: '5000',
    });
    assert.deepEqual(config.apiRoutes, [
      { name: 'orders', upstream: 'https://api.example.com/orders', token: 'user', scope: 'orders:read orders:write' },
      { name: 'user-profile', upstream: 'https://profile.example.com', token: 'service', scope: 'profile:admin', audience: 'https://profile.example.com' },
    ]);
    assert.equal(config.scopes, 'openid profile email offline_access orders:read orders:write', 'service scopes are not asked of the user');
    assert.equal(config.apiTimeoutMs, 5000);
    assert.deepEqual(loadConfig(base).apiRoutes, []);
    assert.equal(loadConfig(base).apiTimeoutMs, 30_000);
  });

  it('takes an audience on a user route (a token per API): RFC 8707 by default, asked for at sign-in; RFC 8693 on request', () => {
    const config = loadConfig({
      ...base,
      LATCH_API_ROUTES: 'orders=https://api.example.com/orders,reports=https://reports.example.com',
      LATCH_API_ROUTE_ORDERS_AUDIENCE: 'https://api.example.com/orders',
      LATCH_API_ROUTE_REPORTS_AUDIENCE: 'https://reports.example.com',
      LATCH_API_ROUTE_REPORTS_TOKEN_EXCHANGE: 'rfc8693',
    });
    assert.deepEqual(config.apiRoutes, [
      { name: 'orders', upstream: 'https://api.example.com/orders', token: 'user', audience: 'https://api.example.com/orders', exchange: 'rfc8707' },
      { name: 'reports', upstream: 'https://reports.example.com', token: 'user', audience: 'https://reports.example.com', exchange: 'rfc8693' },
    ]);
  });

  it('names the variable of each bad route', () => {
    assert.deepEqual(problems({ LATCH_API_ROUTES: 'Orders=https://api.example.com' }), ['LATCH_API_ROUTES']);
    assert.deepEqual(problems({ LATCH_API_ROUTES: 'orders' }), ['LATCH_API_ROUTES']);
    assert.deepEqual(problems({ LATCH_API_ROUTES: 'a=https://a.example.com,a=https://b.example.com' }), ['LATCH_API_ROUTES']);
    assert.deepEqual(problems({ LATCH_API_ROUTES: 'a=http://a.example.com' }), ['LATCH_API_ROUTES'], 'http needs the loud opt-out');
    assert.deepEqual(problems({ LATCH_API_ROUTES: 'a=https://a.example.com/x?k=1' }), ['LATCH_API_ROUTES']);
    assert.deepEqual(problems({ LATCH_API_ROUTES: 'a=https://user:pw@a.example.com' }), ['LATCH_API_ROUTES']);
    assert.deepEqual(problems({ LATCH_API_ROUTES: 'a=https://a.example.com', LATCH_API_ROUTE_A_TOKEN: 'admin' }), ['LATCH_API_ROUTE_A_TOKEN']);
    assert.deepEqual(problems({ LATCH_API_ROUTES: 'a=https://a.example.com', LATCH_API_ROUTE_A_AUDIENCE: 'a.example.com' }), ['LATCH_API_ROUTE_A_AUDIENCE']);
    assert.deepEqual(problems({ LATCH_API_ROUTES: 'a=https://a.example.com', LATCH_API_ROUTE_A_AUDIENCE: 'https://a.example.com', LATCH_API_ROUTE_A_TOKEN_EXCHANGE: 'jwt' }), ['LATCH_API_ROUTE_A_TOKEN_EXCHANGE']);
    assert.deepEqual(problems({ LATCH_API_ROUTES: 'a=https://a.example.com', LATCH_API_ROUTE_A_TOKEN_EXCHANGE: 'rfc8693' }), ['LATCH_API_ROUTE_A_TOKEN_EXCHANGE'], 'no audience, nothing to exchange for');
    assert.deepEqual(problems({ LATCH_API_ROUTES: 'a=https://a.example.com', LATCH_API_ROUTE_A_TOKEN: 'service', LATCH_API_ROUTE_A_AUDIENCE: 'https://a.example.com', LATCH_API_ROUTE_A_TOKEN_EXCHANGE: 'rfc8693' }), ['LATCH_API_ROUTE_A_TOKEN_EXCHANGE']);
    assert.deepEqual(problems({ LATCH_API_ROUTES: 'a=https://a.example.com', LATCH_API_ROUTE_A_TOKEN: 'service', LATCH_API_ROUTE_A_AUDIENCE: 'not a uri' }), ['LATCH_API_ROUTE_A_AUDIENCE']);
    assert.deepEqual(problems({ LATCH_API_TIMEOUT_MS: '0' }), ['LATCH_API_TIMEOUT_MS']);
    assert.deepEqual(problems({ LATCH_API_ROUTES: 'a=http://127.0.0.1:9000', LATCH_ALLOW_INSECURE_HTTP: 'true', LATCH_BASE_URL: 'http://127.0.0.1:8787', LATCH_ISSUER: 'http://127.0.0.1:9090' }), []);
  });
});
