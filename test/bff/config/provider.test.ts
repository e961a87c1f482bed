import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../bff/config.ts';
import { EnvReader } from '../../../bff/config/env.ts';
import { readProvider, SINGLE_PROVIDER, type ProviderScope } from '../../../bff/config/provider.ts';
import { BASE_ENV, problemsOf, readerProblems } from '../../helpers/config.ts';
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
    assert.deepEqual(problemsOf({ ...oidc, LATCH_TOKEN_AUTH_METHOD: 'client_secret_jwt' }), ['LATCH_TOKEN_AUTH_METHOD']);
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

  it('refuses a token per API (_AUDIENCE on a user route) with SCAYLE, which has neither resource indicators nor token exchange', () => {
    const routes = { LATCH_API_ROUTES: 'orders=https://api.example.com', LATCH_API_ROUTE_ORDERS_AUDIENCE: 'https://api.example.com' };
    assert.deepEqual(problemsOf({ ...scayle, ...routes }), ['LATCH_API_ROUTES']);
    assert.deepEqual(problemsOf({ ...oidc, ...routes }), []);
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

  it('refuses alg none and HMAC for LATCH_ID_TOKEN_ALG (ID tokens are checked against published keys only)', () => {
    assert.equal(loadConfig(oidc).idTokenAlg, 'RS256');
    assert.deepEqual(problemsOf({ ...oidc, LATCH_ID_TOKEN_ALG: 'none' }), ['LATCH_ID_TOKEN_ALG']);
    assert.deepEqual(problemsOf({ ...oidc, LATCH_ID_TOKEN_ALG: 'HS256' }), ['LATCH_ID_TOKEN_ALG']);
    assert.deepEqual(problemsOf({ ...oidc, LATCH_ID_TOKEN_ALG: 'ES256' }), []);
  });

  it('reads LATCH_TRUSTED_AUDIENCES as a comma-separated list, none by default', () => {
    assert.deepEqual(loadConfig(oidc).trustedAudiences, []);
    assert.deepEqual(loadConfig({ ...oidc, LATCH_TRUSTED_AUDIENCES: 'https://api.example, urn:example:reports ,' }).trustedAudiences, ['https://api.example', 'urn:example:reports']);
  });

  it('reads LATCH_HTTP_TIMEOUT_MS from 100 to 60000, default 5000', () => {
    assert.equal(loadConfig(oidc).httpTimeoutMs, 5000);
    assert.equal(loadConfig({ ...oidc, LATCH_HTTP_TIMEOUT_MS: '100' }).httpTimeoutMs, 100);
    for (const bad of ['99', '60001', '5s']) assert.deepEqual(problemsOf({ ...oidc, LATCH_HTTP_TIMEOUT_MS: bad }), ['LATCH_HTTP_TIMEOUT_MS'], bad);
  });
});

/** The problems of reading one provider section alone, as `VARIABLE: problem`. */
const sectionProblems = (env: Record<string, string>, scope?: ProviderScope) => readerProblems(env, (reader) => readProvider(reader, scope));

describe('readProvider under a prefix (the seam for several providers)', () => {
  const GOOGLE: ProviderScope = { prefix: 'LATCH_PROVIDER_GOOGLE_', kind: 'KIND' };

  it('is the single provider under LATCH_, its kind in LATCH_PROVIDER', () => {
    for (const env of [oidc, oauth2, scayle]) {
      const config = loadConfig(env);
      const section = readProvider(EnvReader.of(env), SINGLE_PROVIDER);
      for (const [key, value] of Object.entries(section)) assert.deepEqual(value, config[key as keyof typeof config], key);
    }
  });

  it('reads the same settings under another prefix, and nothing outside it', () => {
    const env = EnvReader.of({
      ...oidc, // LATCH_ISSUER, LATCH_CLIENT_ID…: another provider's, never read here
      LATCH_PROVIDER_GOOGLE_KIND: 'oauth2',
      LATCH_PROVIDER_GOOGLE_OAUTH2_BASE_URL: 'https://app.example.com/',
      LATCH_PROVIDER_GOOGLE_CLIENT_ID: 'google-client',
      LATCH_PROVIDER_GOOGLE_CLIENT_SECRET: 'google-secret',
      LATCH_PROVIDER_GOOGLE_AUTHORIZE_PARAMS: 'hd=example.com',
    });
    const google = readProvider(env, GOOGLE);
    assert.equal(env.problemCount, 0);
    assert.equal(google.provider, 'oauth2');
    assert.equal(google.issuer, 'https://app.example.com');
    assert.deepEqual([google.clientId, google.serviceClientId], ['google-client', 'google-client']);
    assert.equal(google.oauth2?.layout.token, 'https://app.example.com/o/token/');
    assert.deepEqual(google.authorizeFixedParams, { hd: 'example.com' });
  });

  it('names every problem, and every variable its messages mention, under the prefix', () => {
    const found = [
      ...sectionProblems({ LATCH_PROVIDER_GOOGLE_KIND: 'saml' }, GOOGLE),
      ...sectionProblems({ LATCH_PROVIDER_GOOGLE_KIND: 'oauth2', LATCH_PROVIDER_GOOGLE_SERVICE_CLIENT_ID: 'svc', LATCH_PROVIDER_GOOGLE_SCOPES: 'read' }, GOOGLE),
      ...sectionProblems({ LATCH_PROVIDER_GOOGLE_SCOPES: 'email', LATCH_PROVIDER_GOOGLE_ISSUER: 'http://id.example', LATCH_PROVIDER_GOOGLE_SERVICE_CLIENT_SECRET: 's' }, GOOGLE),
      ...sectionProblems({ LATCH_PROVIDER_GOOGLE_ISSUER: 'https://id.example', LATCH_PROVIDER_GOOGLE_AUTHORIZATION_ENDPOINT: 'https://id.example/a', LATCH_PROVIDER_GOOGLE_TOKEN_ENDPOINT: 'https://id.example/t' }, GOOGLE),
    ];
    const variables = new Set(found.map((line) => line.split(':')[0]!));
    for (const name of ['KIND', 'ISSUER', 'CLIENT_ID', 'CLIENT_SECRET', 'SERVICE_CLIENT_ID', 'SERVICE_CLIENT_SECRET', 'SCOPES', 'OAUTH2_BASE_URL', 'AUTHORIZATION_ENDPOINT', 'TOKEN_ENDPOINT', 'USERINFO_ENDPOINT', 'JWKS_URI']) {
      assert.ok(variables.has(`LATCH_PROVIDER_GOOGLE_${name}`), `${name} in:\n${found.join('\n')}`);
    }
    assert.ok(found.includes('LATCH_PROVIDER_GOOGLE_SCOPES: must include openid for LATCH_PROVIDER_GOOGLE_KIND=oidc (use oauth2 for plain OAuth 2.0)'), found.join('\n'));
    // Every variable named anywhere, in a problem or inside its message, is this provider's (or the one global opt-out).
    const mentioned = found.flatMap((line) => line.match(/\b(?:LATCH_|PORT\b)[A-Z0-9_]*/g) ?? []);
    assert.ok(mentioned.length > variables.size, 'the messages name other variables too');
    for (const name of mentioned) assert.ok(name.startsWith(GOOGLE.prefix) || name === 'LATCH_ALLOW_INSECURE_HTTP', `${name} in:\n${found.join('\n')}`);
  });
});
