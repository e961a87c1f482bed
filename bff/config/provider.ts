import type { EnvReader } from './env.ts';

/** Which kind of authorization server the BFF talks to (LATCH_PROVIDER). */
export type ProviderKind = 'oidc' | 'oauth2' | 'scayle';
export type TokenAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** Endpoints given by hand (or, for oauth2, filled in from LATCH_OAUTH2_BASE_URL). */
export interface ProviderEndpoints {
  readonly authorization?: string;
  readonly token?: string;
  readonly userinfo?: string;
  readonly revocation?: string;
  readonly endSession?: string;
  readonly jwks?: string;
}

/**
 * LATCH_PROVIDER=oauth2: what the provider settles once it has asked the server (providers/oauth2.ts).
 * A server with the `/o/` layout (django-oauth-toolkit's) may also speak OpenID Connect; then it
 * publishes metadata under `/o/.well-known/`, and the issuer, key set and scopes come from there.
 */
export interface OAuth2Config {
  /** The `/o/` layout under LATCH_OAUTH2_BASE_URL; empty without one. The metadata, then endpoints given by hand, override it. */
  readonly layout: ProviderEndpoints;
  /** Where the server's OpenID metadata may be, in order. Empty: endpoints by hand only. */
  readonly metadataUrls: readonly string[];
  /** True for LATCH_DISCOVERY_URL: it must answer. False for the base URL's candidates: none there means plain OAuth 2.0. */
  readonly metadataRequired: boolean;
  /** LATCH_ISSUER was set: the metadata's issuer must equal it. Else the metadata names the issuer. */
  readonly issuerGiven: boolean;
  /**
   * LATCH_SCOPES was set, and is used as given. Unset: `openid` (with those of `profile`, `email` and
   * `offline_access` the metadata lists in `scopes_supported`) when the server publishes OpenID
   * metadata, else no `scope` parameter (the server's default scopes). User-token routes add theirs.
   */
  readonly scopesGiven: boolean;
}

export interface ScayleConfig {
  /** e.g. https://tenant.auth.scayle.cloud, no trailing slash. */
  readonly baseUrl: string;
  readonly shopId: string;
  readonly shopSecret: string;
  readonly idpKey: string;
}

/** The authorization server and the BFF's client at it (README: "Authorization server"). */
export interface ProviderSection {
  /** LATCH_PROVIDER, default oidc. */
  readonly provider: ProviderKind;
  /** LATCH_ISSUER; for oauth2 and scayle it may be left out and is then derived from the base URL. */
  readonly issuer: string;
  /** False when the endpoints are given by hand and no metadata is fetched. */
  readonly discovery: boolean;
  readonly endpoints: ProviderEndpoints;
  readonly tokenAuthMethod: TokenAuthMethod;
  /** Extra authorization parameter names /login forwards from the page (LATCH_AUTHORIZE_PARAMS `name`). */
  readonly authorizeParams: readonly string[];
  /** Authorization parameters always sent with a fixed value (LATCH_AUTHORIZE_PARAMS `name=value`). */
  readonly authorizeFixedParams: Readonly<Record<string, string>>;
  readonly scayle?: ScayleConfig;
  /** LATCH_PROVIDER=oauth2 only. */
  readonly oauth2?: OAuth2Config;
  /** Loud opt-in: POST /login/password (resource owner password grant), trusted internal tools only. */
  readonly enablePasswordGrant: boolean;
  readonly discoveryUrl?: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /**
   * The client of the BFF's own client-credentials grants (service routes, createServiceTokens):
   * LATCH_SERVICE_CLIENT_ID and LATCH_SERVICE_CLIENT_SECRET, default the main client. Servers that
   * allow one grant type per client (django-oauth-toolkit) need a second client for them.
   */
  readonly serviceClientId: string;
  readonly serviceClientSecret: string;
  /**
   * Asked for at sign-in. For oauth2 without LATCH_SCOPES, the user-token routes' scopes only (see
   * OAuth2Config.scopesGiven). This section gives LATCH_SCOPES or its default; loadConfig adds the
   * user-token API routes' scopes.
   */
  readonly scopes: string;
  /** Timeout for every call to the authorization server, ms. */
  readonly httpTimeoutMs: number;
  /** The only algorithm accepted for ID token signatures. */
  readonly idTokenAlg: string;
  /**
   * Audiences besides the client an ID token may name (OIDC Core 3.1.3.7): LATCH_TRUSTED_AUDIENCES,
   * comma-separated. An ID token with any other extra audience is refused. default: none
   */
  readonly trustedAudiences: readonly string[];
}

/**
 * Where one provider's settings are read. Today's single provider reads LATCH_ISSUER,
 * LATCH_CLIENT_ID… and its kind from LATCH_PROVIDER. A named provider (issue 17) reads the same
 * settings under a prefix of its own, and every problem and message names its variables.
 */
export interface ProviderScope {
  /** Put before every setting's name: `LATCH_` for the single provider. */
  readonly prefix: string;
  /** The name, under the prefix, of the provider's kind (oidc, oauth2 or scayle): `PROVIDER` for the single provider. */
  readonly kind: string;
}

export const SINGLE_PROVIDER: ProviderScope = { prefix: 'LATCH_', kind: 'PROVIDER' };

const KINDS: readonly ProviderKind[] = ['oidc', 'oauth2', 'scayle'];

/** Authorization parameters Latch sets itself; LATCH_AUTHORIZE_PARAMS may not name them. */
const RESERVED_AUTHORIZE_PARAMS = new Set([
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce',
  'code_challenge', 'code_challenge_method', 'request', 'request_uri', 'client_secret', 'code', 'claims',
]);

const trimSlash = (value: string) => value.replace(/\/+$/, '');

/**
 * The provider section: LATCH_PROVIDER, LATCH_ISSUER, discovery and endpoints, the oauth2 `/o/`
 * layout, SCAYLE, the client (and service client), scopes, authorization parameters, the ID token's
 * algorithm and audiences, the password grant. Every name is read under `scope.prefix`.
 */
export function readProvider(root: EnvReader, scope: ProviderScope = SINGLE_PROVIDER): ProviderSection {
  const env = root.under(scope.prefix);
  const kind = env.choice(scope.kind, KINDS, 'oidc') ?? 'oidc';
  const found = readEndpoints(env, kind);
  const { discoveryUrl, endpoints, discovery } = found;
  const scayle = kind === 'scayle' ? readScayle(env) : undefined;

  const explicitIssuer = env.str('ISSUER');
  const issuer = kind === 'oidc'
    ? env.required('ISSUER')
    : explicitIssuer ?? (scayle?.baseUrl || (found.oauth2Base && trimSlash(found.oauth2Base)) ||
      (endpoints.authorization ? new URL(endpoints.authorization).origin : discoveryUrl ? new URL(discoveryUrl).origin : ''));
  if (kind === 'oidc' || explicitIssuer) env.url('ISSUER', issuer || undefined);
  if (kind === 'oauth2' && !issuer) env.fail('OAUTH2_BASE_URL', `is required (or ${env.name('DISCOVERY_URL')}, or ${env.name('AUTHORIZATION_ENDPOINT')} and ${env.name('TOKEN_ENDPOINT')})`);
  if (kind !== 'scayle' && !discovery) {
    if (!endpoints.authorization) env.fail('AUTHORIZATION_ENDPOINT', 'is required without discovery');
    if (!endpoints.token) env.fail('TOKEN_ENDPOINT', 'is required without discovery');
  }

  const tokenAuthMethod = env.choice<TokenAuthMethod>('TOKEN_AUTH_METHOD', ['client_secret_basic', 'client_secret_post', 'private_key_jwt'], 'client_secret_basic') ?? 'client_secret_basic';
  if (kind === 'scayle' && tokenAuthMethod !== 'client_secret_basic') env.fail('TOKEN_AUTH_METHOD', 'SCAYLE takes client_secret_basic only');
  const { authorizeParams, authorizeFixedParams } = readAuthorizeParams(env);
  const enablePasswordGrant = env.bool('ENABLE_PASSWORD_GRANT');
  if (enablePasswordGrant && kind === 'scayle') env.fail('ENABLE_PASSWORD_GRANT', 'SCAYLE has no password grant');
  const clients = readClients(env, kind, tokenAuthMethod);

  // oauth2 without LATCH_SCOPES: the provider picks them once it has asked the server (OAuth2Config).
  const scopesGiven = env.str('SCOPES') !== undefined;
  const scopes = env.str('SCOPES') ?? (kind === 'oauth2' ? '' : 'openid profile email offline_access');
  const idTokenAlg = readIdTokenAlg(env);
  if (kind !== 'scayle') {
    const openid = scopes.split(' ').includes('openid');
    if (!discovery && openid && !endpoints.jwks) env.fail('JWKS_URI', `is required without discovery when ${env.name('SCOPES')} has openid (ID tokens are verified)`);
    if (!discovery && !openid && !endpoints.userinfo) env.fail('USERINFO_ENDPOINT', `is required when ${env.name('SCOPES')} has no openid (the user comes from userinfo)`);
    if (kind === 'oidc' && !openid) env.fail('SCOPES', `must include openid for ${env.name(scope.kind)}=oidc (use oauth2 for plain OAuth 2.0)`);
  }

  return {
    provider: kind,
    issuer,
    discovery,
    endpoints,
    tokenAuthMethod,
    authorizeParams,
    authorizeFixedParams,
    ...(scayle ? { scayle } : {}),
    ...(kind === 'oauth2'
      ? { oauth2: { layout: found.layout, metadataUrls: found.metadataUrls, metadataRequired: discoveryUrl !== undefined, issuerGiven: explicitIssuer !== undefined, scopesGiven } }
      : {}),
    enablePasswordGrant,
    ...(discoveryUrl ? { discoveryUrl } : {}),
    ...clients,
    scopes,
    httpTimeoutMs: env.int('HTTP_TIMEOUT_MS', 5000, 100, 60000),
    idTokenAlg,
    trustedAudiences: env.list('TRUSTED_AUDIENCES'),
  };
}

/** LATCH_DISCOVERY_URL, the endpoints given by hand, LATCH_OAUTH2_BASE_URL's `/o/` layout, and whether discovery runs. */
function readEndpoints(env: EnvReader, kind: ProviderKind) {
  const endpoint = (name: string): string | undefined => {
    const value = env.str(name);
    return env.url(name, value) ? value : undefined;
  };
  const discoveryUrl = env.str('DISCOVERY_URL');
  env.url('DISCOVERY_URL', discoveryUrl);
  const byHand = {
    authorization: endpoint('AUTHORIZATION_ENDPOINT'),
    token: endpoint('TOKEN_ENDPOINT'),
    userinfo: endpoint('USERINFO_ENDPOINT'),
    revocation: endpoint('REVOCATION_ENDPOINT'),
    endSession: endpoint('END_SESSION_ENDPOINT'),
    jwks: endpoint('JWKS_URI'),
  };
  const oauth2Base = kind === 'oauth2' ? endpoint('OAUTH2_BASE_URL') : undefined;
  // django-oauth-toolkit's /o/ layout (trailing slashes are part of the paths). With OIDC on it
  // publishes metadata at /o/.well-known/openid-configuration: DOT 2+ without the trailing slash
  // (the spec's form), DOT 1.x only with it (and a 301 from the other).
  const o = oauth2Base ? `${trimSlash(oauth2Base)}/o` : '';
  const layout: ProviderEndpoints = oauth2Base
    ? { authorization: `${o}/authorize/`, token: `${o}/token/`, userinfo: `${o}/userinfo/`, revocation: `${o}/revoke_token/` }
    : {};
  const endpoints: ProviderEndpoints = Object.fromEntries(Object.entries(byHand).filter(([, value]) => value !== undefined));
  // No discovery when it cannot or need not run: SCAYLE, oauth2 with neither a base URL nor a
  // discovery URL, or oidc with both the authorization and token endpoints given by hand.
  const discovery = kind === 'scayle'
    ? false
    : discoveryUrl !== undefined || (kind === 'oidc' ? !(byHand.authorization && byHand.token) : oauth2Base !== undefined);
  const metadataUrls = discoveryUrl ? [discoveryUrl] : oauth2Base ? [`${o}/.well-known/openid-configuration`, `${o}/.well-known/openid-configuration/`] : [];
  return { discoveryUrl, endpoints, discovery, oauth2Base, layout, metadataUrls };
}

/** LATCH_SCAYLE_*: all four required. */
function readScayle(env: EnvReader): ScayleConfig {
  const base = env.required('SCAYLE_BASE_URL');
  env.url('SCAYLE_BASE_URL', base || undefined);
  return {
    baseUrl: trimSlash(base),
    shopId: env.required('SCAYLE_SHOP_ID'),
    shopSecret: env.required('SCAYLE_SHOP_SECRET'),
    idpKey: env.required('SCAYLE_IDP_KEY'),
  };
}

/** LATCH_AUTHORIZE_PARAMS: `name` forwards ?name= from the page; `name=value` always sends that value. */
function readAuthorizeParams(env: EnvReader): Pick<ProviderSection, 'authorizeParams' | 'authorizeFixedParams'> {
  const authorizeParams: string[] = [];
  const authorizeFixedParams: Record<string, string> = {};
  for (const item of env.list('AUTHORIZE_PARAMS')) {
    const eq = item.indexOf('=');
    const name = eq === -1 ? item : item.slice(0, eq).trim();
    if (!/^[A-Za-z][\w.-]{0,63}$/.test(name)) env.fail('AUTHORIZE_PARAMS', `"${name}" is not a parameter name`);
    else if (RESERVED_AUTHORIZE_PARAMS.has(name)) env.fail('AUTHORIZE_PARAMS', `"${name}" is set by Latch itself and cannot be added`);
    else if (eq === -1) authorizeParams.push(name);
    else authorizeFixedParams[name] = item.slice(eq + 1).trim();
  }
  return { authorizeParams, authorizeFixedParams };
}

/** LATCH_CLIENT_ID and LATCH_CLIENT_SECRET; LATCH_SERVICE_CLIENT_ID and LATCH_SERVICE_CLIENT_SECRET together or neither. */
function readClients(env: EnvReader, kind: ProviderKind, method: TokenAuthMethod): Pick<ProviderSection, 'clientId' | 'clientSecret' | 'serviceClientId' | 'serviceClientSecret'> {
  const clientId = env.required('CLIENT_ID');
  // private_key_jwt: the client signs with LATCH_CLIENT_PRIVATE_KEY (config/client-keys.ts); no secret.
  const clientSecret = method === 'private_key_jwt' ? (env.str('CLIENT_SECRET') ?? '') : env.required('CLIENT_SECRET');
  const serviceClientId = env.str('SERVICE_CLIENT_ID');
  const serviceClientSecret = env.str('SERVICE_CLIENT_SECRET');
  // private_key_jwt: a service client of its own signs with the same keys, and needs no secret.
  if (method !== 'private_key_jwt' && (serviceClientId === undefined) !== (serviceClientSecret === undefined)) {
    const [missing, given] = serviceClientId === undefined ? ['SERVICE_CLIENT_ID', 'SERVICE_CLIENT_SECRET'] : ['SERVICE_CLIENT_SECRET', 'SERVICE_CLIENT_ID'];
    env.fail(missing, `is required with ${env.name(given)} (set both, or neither to use ${env.name('CLIENT_ID')} and ${env.name('CLIENT_SECRET')})`);
  }
  if (serviceClientId !== undefined && kind === 'scayle') env.fail('SERVICE_CLIENT_ID', 'SCAYLE has no client-credentials grant');
  return {
    clientId,
    clientSecret,
    serviceClientId: serviceClientId ?? clientId,
    serviceClientSecret: serviceClientSecret ?? clientSecret,
  };
}

/** LATCH_ID_TOKEN_ALG, default RS256: a signing algorithm, and an asymmetric one. */
function readIdTokenAlg(env: EnvReader): string {
  const alg = env.str('ID_TOKEN_ALG') ?? 'RS256';
  if (alg.toLowerCase() === 'none') env.fail('ID_TOKEN_ALG', 'must name a signing algorithm; "none" is never accepted');
  // HS* would need the client secret as the key: ID tokens are checked against the server's published keys only.
  else if (/^HS/i.test(alg)) env.fail('ID_TOKEN_ALG', 'must be an asymmetric algorithm (RS256, PS256, ES256, EdDSA...); HMAC-signed ID tokens are not accepted');
  return alg;
}
