import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../bff/config.ts';
import { BASE_ENV, problemsOf } from '../../helpers/config.ts';
import { createProvider, supportsPasswordGrant } from '../../../bff/providers/index.ts';
import { OAuth2Provider } from '../../../bff/providers/oauth2.ts';
import { OidcProvider } from '../../../bff/providers/oidc.ts';
import { ScayleProvider } from '../../../bff/providers/scayle.ts';

const base = { ...BASE_ENV, LATCH_ALLOWED_ORIGINS: 'https://www.example.com' };
const oidc = { ...base, LATCH_ISSUER: 'https://login.example.com' };
const oauth2 = { ...base, LATCH_PROVIDER: 'oauth2', LATCH_OAUTH2_BASE_URL: 'https://app.example.com' };
const scayle = {
  ...base,
  LATCH_PROVIDER: 'scayle',
  LATCH_SCAYLE_BASE_URL: 'https://tenant.auth.scayle.cloud/',
  LATCH_SCAYLE_SHOP_ID: '1001',
  LATCH_SCAYLE_SHOP_SECRET: 'shop-secret',
  LATCH_SCAYLE_IDP_KEY: 'google',
};


describe('loadConfig: provider settings', () => {
  it('defaults to oidc with discovery and client_secret_basic', () => {
    const config = loadConfig(oidc);
    assert.equal(config.provider, 'oidc');
    assert.equal(config.discovery, true);
    assert.deepEqual(config.endpoints, {});
    assert.equal(config.tokenAuthMethod, 'client_secret_basic');
    assert.equal(config.enablePasswordGrant, false);
    assert.ok(createProvider(config) instanceof OidcProvider);
    assert.equal(createProvider(config).kind, 'oidc');
  });

  it('names LATCH_PROVIDER and LATCH_TOKEN_AUTH_METHOD when they hold unknown values', () => {
    assert.deepEqual(problemsOf({ ...oidc, LATCH_PROVIDER: 'saml' }), ['LATCH_PROVIDER']);
    assert.deepEqual(problemsOf({ ...oidc, LATCH_TOKEN_AUTH_METHOD: 'private_key_jwt' }), ['LATCH_TOKEN_AUTH_METHOD']);
    assert.equal(loadConfig({ ...oidc, LATCH_TOKEN_AUTH_METHOD: 'client_secret_post' }).tokenAuthMethod, 'client_secret_post');
  });

  it('keeps discovery with an explicit LATCH_DISCOVERY_URL, and lets single endpoints override it', () => {
    const config = loadConfig({ ...oidc, LATCH_DISCOVERY_URL: 'https://login.example.com/tenant/.well-known/openid-configuration', LATCH_USERINFO_ENDPOINT: 'https://api.example.com/me' });
    assert.equal(config.discovery, true);
    assert.deepEqual(config.endpoints, { userinfo: 'https://api.example.com/me' });
  });

  it('turns discovery off when the authorization and token endpoints are given by hand, and then needs the JWKS', () => {
    const byHand = { ...oidc, LATCH_AUTHORIZATION_ENDPOINT: 'https://login.example.com/authorize', LATCH_TOKEN_ENDPOINT: 'https://login.example.com/token' };
    assert.deepEqual(problemsOf(byHand), ['LATCH_JWKS_URI']);
    const config = loadConfig({ ...byHand, LATCH_JWKS_URI: 'https://login.example.com/keys' });
    assert.equal(config.discovery, false);
    assert.equal(config.endpoints.jwks, 'https://login.example.com/keys');
  });

  it('refuses oidc without the openid scope', () => {
    assert.deepEqual(problemsOf({ ...oidc, LATCH_SCOPES: 'read write' }), ['LATCH_SCOPES']);
  });

  it('takes the /o/ layout from LATCH_OAUTH2_BASE_URL, trailing slashes kept, and looks for OpenID metadata there', () => {
    const config = loadConfig({ ...oauth2, LATCH_OAUTH2_BASE_URL: 'https://app.example.com/', LATCH_REVOCATION_ENDPOINT: 'https://app.example.com/o/revoke/' });
    assert.equal(config.provider, 'oauth2');
    assert.equal(config.discovery, true);
    assert.equal(config.issuer, 'https://app.example.com', 'without metadata, the issuer is the base URL');
    assert.equal(config.scopes, '', 'picked once the server has been asked');
    assert.deepEqual(config.oauth2, {
      layout: {
        authorization: 'https://app.example.com/o/authorize/',
        token: 'https://app.example.com/o/token/',
        userinfo: 'https://app.example.com/o/userinfo/',
        revocation: 'https://app.example.com/o/revoke_token/',
      },
      // The spec's form first (DOT 2+), then DOT 1.x's trailing-slash form.
      metadataUrls: ['https://app.example.com/o/.well-known/openid-configuration', 'https://app.example.com/o/.well-known/openid-configuration/'],
      metadataRequired: false,
      issuerGiven: false,
      scopesGiven: false,
    });
    assert.deepEqual(config.endpoints, { revocation: 'https://app.example.com/o/revoke/' }, 'given by hand: overrides layout and metadata');
    const provider = createProvider(config);
    assert.ok(provider instanceof OAuth2Provider);
    assert.equal(provider.kind, 'oauth2');
  });

  it('needs nothing but the base URL for oauth2; by hand, a JWKS with openid and userinfo without it', () => {
    assert.deepEqual(problemsOf(oauth2), []);
    assert.deepEqual(problemsOf({ ...oauth2, LATCH_SCOPES: 'openid read' }), []);
    assert.equal(loadConfig({ ...oauth2, LATCH_SCOPES: 'read', LATCH_ISSUER: 'https://app.example.com/o' }).oauth2?.issuerGiven, true);
    const byHand = { ...base, LATCH_PROVIDER: 'oauth2', LATCH_AUTHORIZATION_ENDPOINT: 'https://a.example/auth', LATCH_TOKEN_ENDPOINT: 'https://a.example/token' };
    assert.deepEqual(problemsOf(byHand), ['LATCH_USERINFO_ENDPOINT'], 'no metadata: no openid, so the user comes from userinfo');
    assert.deepEqual(problemsOf({ ...byHand, LATCH_SCOPES: 'openid' }), ['LATCH_JWKS_URI']);
    assert.deepEqual(loadConfig({ ...byHand, LATCH_USERINFO_ENDPOINT: 'https://a.example/me' }).oauth2?.metadataUrls, []);
    const discovered = loadConfig({ ...base, LATCH_PROVIDER: 'oauth2', LATCH_DISCOVERY_URL: 'https://a.example/o/.well-known/openid-configuration/' });
    assert.deepEqual(discovered.oauth2?.metadataUrls, ['https://a.example/o/.well-known/openid-configuration/']);
    assert.equal(discovered.oauth2?.metadataRequired, true);
  });

  it('takes LATCH_SERVICE_CLIENT_ID and LATCH_SERVICE_CLIENT_SECRET together, defaulting to the main client', () => {
    const plain = loadConfig(oidc);
    assert.deepEqual([plain.serviceClientId, plain.serviceClientSecret], ['web', 'client-secret']);
    const service = loadConfig({ ...oidc, LATCH_SERVICE_CLIENT_ID: 'svc', LATCH_SERVICE_CLIENT_SECRET: 'svc-secret' });
    assert.deepEqual([service.serviceClientId, service.serviceClientSecret], ['svc', 'svc-secret']);
    for (const [given, missing] of [['LATCH_SERVICE_CLIENT_ID', 'LATCH_SERVICE_CLIENT_SECRET'], ['LATCH_SERVICE_CLIENT_SECRET', 'LATCH_SERVICE_CLIENT_ID']] as const) {
      assert.deepEqual(problemsOf({ ...oidc, [given]: 'x' }), [missing]);
      assert.throws(() => loadConfig({ ...oidc, [given]: 'x' }), (err: Error) => err.message.includes(`${missing}: is required with ${given}`));
    }
    assert.deepEqual(problemsOf({ ...scayle, LATCH_SERVICE_CLIENT_ID: 'svc', LATCH_SERVICE_CLIENT_SECRET: 's' }), ['LATCH_SERVICE_CLIENT_ID']);
  });

  it('names LATCH_OAUTH2_BASE_URL when oauth2 has no endpoints at all', () => {
    assert.ok(problemsOf({ ...base, LATCH_PROVIDER: 'oauth2', LATCH_SCOPES: 'read' }).includes('LATCH_OAUTH2_BASE_URL'));
  });

  it('takes SCAYLE\'s settings without LATCH_ISSUER, and names each one missing', () => {
    const config = loadConfig(scayle);
    assert.deepEqual(config.scayle, { baseUrl: 'https://tenant.auth.scayle.cloud', shopId: '1001', shopSecret: 'shop-secret', idpKey: 'google' });
    assert.equal(config.issuer, 'https://tenant.auth.scayle.cloud');
    assert.ok(createProvider(config) instanceof ScayleProvider);
    for (const name of ['LATCH_SCAYLE_BASE_URL', 'LATCH_SCAYLE_SHOP_ID', 'LATCH_SCAYLE_SHOP_SECRET', 'LATCH_SCAYLE_IDP_KEY']) {
      assert.deepEqual(problemsOf({ ...scayle, [name]: undefined }), [name]);
    }
    assert.deepEqual(problemsOf({ ...scayle, LATCH_SCAYLE_BASE_URL: 'http://tenant.auth.scayle.cloud' }), ['LATCH_SCAYLE_BASE_URL']);
    assert.deepEqual(problemsOf({ ...scayle, LATCH_TOKEN_AUTH_METHOD: 'client_secret_post' }), ['LATCH_TOKEN_AUTH_METHOD']);
  });

  it('offers the password grant for oidc and oauth2 only, and refuses it for SCAYLE', () => {
    assert.equal(loadConfig({ ...oidc, LATCH_ENABLE_PASSWORD_GRANT: 'true' }).enablePasswordGrant, true);
    assert.deepEqual(problemsOf({ ...scayle, LATCH_ENABLE_PASSWORD_GRANT: 'true' }), ['LATCH_ENABLE_PASSWORD_GRANT']);
    assert.ok(supportsPasswordGrant(createProvider(loadConfig(oidc))));
    assert.ok(supportsPasswordGrant(createProvider(loadConfig({ ...oauth2, LATCH_SCOPES: 'read' }))));
    assert.equal(supportsPasswordGrant(createProvider(loadConfig(scayle))), false);
  });

  it('splits LATCH_AUTHORIZE_PARAMS into forwarded names and fixed values, refusing the ones Latch sets', () => {
    const config = loadConfig({ ...oidc, LATCH_AUTHORIZE_PARAMS: 'access_type, ui_locales ,hd=example.com' });
    assert.deepEqual(config.authorizeParams, ['access_type', 'ui_locales']);
    assert.deepEqual(config.authorizeFixedParams, { hd: 'example.com' });
    for (const reserved of ['redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'client_id', 'response_type']) {
      assert.deepEqual(problemsOf({ ...oidc, LATCH_AUTHORIZE_PARAMS: reserved }), ['LATCH_AUTHORIZE_PARAMS'], reserved);
    }
    assert.deepEqual(problemsOf({ ...oidc, LATCH_AUTHORIZE_PARAMS: 'a b' }), ['LATCH_AUTHORIZE_PARAMS']);
  });

  it('names LATCH_POST_LOGOUT_REDIRECT_URI when it lies off the allowed origins', () => {
    assert.deepEqual(problemsOf({ ...oidc, LATCH_POST_LOGOUT_REDIRECT_URI: 'https://evil.example/' }), ['LATCH_POST_LOGOUT_REDIRECT_URI']);
    assert.equal(loadConfig({ ...oidc, LATCH_POST_LOGOUT_REDIRECT_URI: 'https://www.example.com/bye' }).postLogoutRedirectUri, 'https://www.example.com/bye');
  });
});
