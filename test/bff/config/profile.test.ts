/**
 * LATCH_PROFILE=fapi2 (bff/config/profile.ts): what it turns on and what it checks at start-up, and a
 * sign-in under it against oidc-provider configured as a FAPI 2.0 server would be: DPoP required,
 * PAR required, private_key_jwt (keys fetched from the BFF's JWKS), PS256 ID tokens, `iss` on callbacks.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { loadConfig } from '../../../bff/config.ts';
import { BASE_ENV, problemsOf } from '../../helpers/config.ts';
import { HttpClient, signIn } from '../../helpers/http.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';
import { errorCode } from '../../security/support.ts';
import { signedIn } from '../routes/proxy-support.ts';

const pem = (type: 'rsa' | 'ec') => (type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' }))
  .privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('LATCH_PROFILE=fapi2: start-up', () => {
  const fapi = {
    ...BASE_ENV, LATCH_ISSUER: 'https://login.example.com', LATCH_PROFILE: 'fapi2', LATCH_TOKEN_AUTH_METHOD: 'private_key_jwt',
    LATCH_CLIENT_PRIVATE_KEY: pem('ec'), LATCH_ID_TOKEN_ALG: 'PS256',
  };

  it('turns on DPoP, PAR and the iss requirement; an RSA key signs PS256', () => {
    const config = loadConfig(fapi);
    assert.deepEqual([config.profile, config.dpop, config.par, config.requireIss], ['fapi2', true, true, true]);
    assert.equal(loadConfig({ ...fapi, LATCH_CLIENT_PRIVATE_KEY: pem('rsa') }).clientKeys[0]!.alg, 'PS256');
    assert.equal(loadConfig(BASE_ENV_WITH_ISSUER).requireIss, false);
  });

  it('names each variable that breaks the profile', () => {
    const { LATCH_TOKEN_AUTH_METHOD: _m, LATCH_CLIENT_PRIVATE_KEY: _k, ...secretOnly } = fapi;
    assert.deepEqual(problemsOf(secretOnly), ['LATCH_TOKEN_AUTH_METHOD']);
    assert.deepEqual(problemsOf({ ...fapi, LATCH_ID_TOKEN_ALG: 'RS256' }), ['LATCH_ID_TOKEN_ALG']);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    assert.deepEqual(problemsOf({ ...fapi, LATCH_CLIENT_PRIVATE_KEY: JSON.stringify({ ...privateKey.export({ format: 'jwk' }), alg: 'RS256' }) }), ['LATCH_CLIENT_PRIVATE_KEY']);
    assert.deepEqual(problemsOf({ ...fapi, LATCH_DPOP: 'false' }), ['LATCH_DPOP']);
    assert.deepEqual(problemsOf({ ...fapi, LATCH_PAR: 'false' }), ['LATCH_PAR']);
    assert.deepEqual(problemsOf({ ...fapi, LATCH_PROFILE: 'fapi1' }), ['LATCH_PROFILE']);
  });

  it('allows http with LATCH_ALLOW_INSECURE_HTTP=true on loopback only', () => {
    const local = { ...fapi, LATCH_ALLOW_INSECURE_HTTP: 'true', LATCH_ISSUER: 'http://127.0.0.1:9000', LATCH_BASE_URL: 'http://localhost:8787' };
    assert.deepEqual(problemsOf(local), []);
    assert.deepEqual(problemsOf({ ...local, LATCH_ISSUER: 'http://login.example.com' }), ['LATCH_ISSUER']);
    assert.deepEqual(problemsOf({ ...local, LATCH_API_ROUTES: 'orders=http://orders.internal' }), ['LATCH_API_ROUTES']);
  });
});

const BASE_ENV_WITH_ISSUER = { ...BASE_ENV, LATCH_ISSUER: 'https://login.example.com' };

/** A FAPI 2.0-shaped oidc-provider and a BFF under the profile, on loopback. */
function fapiStack(provider: { issParameter?: boolean } = {}) {
  return startStack({
    provider: { signingAlg: 'PS256', par: { required: true }, jwtAccessTokens: { resource: 'https://orders.latch.test', scopes: [] }, ...provider },
    client: (bffUrl) => ({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${bffUrl}/.well-known/jwks.json`, dpop_bound_access_tokens: true }),
    env: { LATCH_PROFILE: 'fapi2', LATCH_TOKEN_AUTH_METHOD: 'private_key_jwt', LATCH_CLIENT_PRIVATE_KEY: pem('rsa'), LATCH_CLIENT_SECRET: '', LATCH_ID_TOKEN_ALG: 'PS256' },
  });
}

describe('LATCH_PROFILE=fapi2 against a FAPI 2.0-shaped oidc-provider', () => {
  let stack: Stack;
  before(async () => {
    stack = await fapiStack();
  });
  after(() => stack.close());

  it('signs in with PAR, private_key_jwt and DPoP, and the session\'s token is DPoP-bound', async () => {
    const login = await new HttpClient().request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`);
    assert.deepEqual([...new URL(login.location!).searchParams.keys()].sort(), ['client_id', 'request_uri']);
    const { session, cookie } = await signedIn(stack);
    assert.ok(session.dk);
    assert.ok((decodeJwt(session.at) as { cnf?: { jkt?: string } }).cnf?.jkt, 'a DPoP-bound access token');
    const me = await fetch(`${stack.bffUrl}/me`, { headers: { origin: stack.siteOrigin, cookie } });
    assert.equal(me.status, 200);
  });
});

describe('LATCH_PROFILE=fapi2 and a callback without iss', () => {
  let stack: Stack;
  before(async () => {
    stack = await fapiStack({ issParameter: false });
  });
  after(() => stack.close());

  it('refuses the sign-in (LATCH_ISSUER_MISMATCH) although the server does not advertise iss', async () => {
    const { callbackResult } = await signIn(new HttpClient(), `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, stack.user);
    assert.ok(callbackResult);
    assert.equal(errorCode(callbackResult), 'LATCH_ISSUER_MISMATCH');
  });
});
