import { ConfigError } from './errors.ts';

/** Which kind of authorization server the BFF talks to (LATCH_PROVIDER). */
export type ProviderKind = 'oidc' | 'oauth2' | 'scayle';
export type TokenAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** Endpoints given by hand (or, for oauth2, filled in from LATCH_OAUTH2_BASE_URL). */
export interface ProviderEndpoints {
  readonly authorization?: string;
  readonly token?: string;
  readonly userinfo?: string;
  readonly revocation?: string;
  readonly endSession?: string;
  readonly jwks?: string;
}

export interface ScayleConfig {
  /** e.g. https://tenant.auth.scayle.cloud, no trailing slash. */
  readonly baseUrl: string;
  readonly shopId: string;
  readonly shopSecret: string;
  readonly idpKey: string;
}

/**
 * The BFF's configuration: validated once at start-up, then frozen.
 * This module is the only reader of process.env.
 */
export interface BffConfig {
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
  /** Loud opt-in: POST /login/password (resource owner password grant), trusted internal tools only. */
  readonly enablePasswordGrant: boolean;
  readonly discoveryUrl?: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly baseUrl: URL;
  /** `baseUrl` + `/callback`. */
  readonly redirectUri: string;
  /** Cookie-sealing passwords, newest first (at least 32 characters each). */
  readonly cookieSecrets: readonly string[];
  /** Exact origins (scheme://host[:port]) allowed to call with credentials and to be returned to. */
  readonly allowedOrigins: readonly string[];
  readonly scopes: string;
  readonly port: number;
  /** Timeout for every call to the authorization server, ms. */
  readonly httpTimeoutMs: number;
  /** Absolute session lifetime, seconds. */
  readonly sessionMaxAge: number;
  readonly postLogoutRedirectUri?: string;
  /** The only algorithm accepted for ID token signatures. */
  readonly idTokenAlg: string;
  /** Loud opt-out: allow http:// for the issuer and base URL (development only). */
  readonly allowInsecureHttp: boolean;
  readonly logLevel: string;
}

type Env = Record<string, string | undefined>;

const MIN_SECRET_LENGTH = 32;

/** Authorization parameters Latch sets itself; LATCH_AUTHORIZE_PARAMS may not name them. */
const RESERVED_AUTHORIZE_PARAMS = new Set([
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce',
  'code_challenge', 'code_challenge_method', 'request', 'request_uri', 'client_secret', 'code', 'claims',
]);

/**
 * Reads and validates the environment. Collects every problem before
 * throwing one ConfigError that names each variable.
 */
export function loadConfig(env: Env = process.env): BffConfig {
  const problems: Array<{ variable: string; problem: string }> = [];
  const fail = (variable: string, problem: string) => {
    problems.push({ variable, problem });
  };
  const str = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const required = (name: string): string => {
    const value = str(name);
    if (value === undefined) fail(name, 'is required');
    return value ?? '';
  };
  const bool = (name: string): boolean => {
    const value = str(name);
    if (value === undefined) return false;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    fail(name, `must be true or false, got "${value}"`);
    return false;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const value = str(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      fail(name, `must be a whole number from ${min} to ${max}, got "${value}"`);
      return fallback;
    }
    return n;
  };

  const allowInsecureHttp = bool('LATCH_ALLOW_INSECURE_HTTP');
  const url = (name: string, value: string | undefined): URL | undefined => {
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      fail(name, `must be an absolute URL, got "${value}"`);
      return undefined;
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      fail(name, 'must be an https:// URL');
      return undefined;
    }
    if (parsed.protocol === 'http:' && !allowInsecureHttp) {
      fail(name, 'must use https:// (set LATCH_ALLOW_INSECURE_HTTP=true for local development only)');
      return undefined;
    }
    return parsed;
  };

  const rawKind = str('LATCH_PROVIDER') ?? 'oidc';
  const kind: ProviderKind = rawKind === 'oauth2' || rawKind === 'scayle' ? rawKind : 'oidc';
  if (rawKind !== kind) fail('LATCH_PROVIDER', `must be oidc, oauth2 or scayle, got "${rawKind}"`);
  const trimSlash = (value: string) => value.replace(/\/+$/, '');
  const endpoint = (name: string): string | undefined => {
    const value = str(name);
    return url(name, value) ? value : undefined;
  };

  const discoveryUrl = str('LATCH_DISCOVERY_URL');
  url('LATCH_DISCOVERY_URL', discoveryUrl);
  const byHand = {
    authorization: endpoint('LATCH_AUTHORIZATION_ENDPOINT'),
    token: endpoint('LATCH_TOKEN_ENDPOINT'),
    userinfo: endpoint('LATCH_USERINFO_ENDPOINT'),
    revocation: endpoint('LATCH_REVOCATION_ENDPOINT'),
    endSession: endpoint('LATCH_END_SESSION_ENDPOINT'),
    jwks: endpoint('LATCH_JWKS_URI'),
  };
  const oauth2Base = kind === 'oauth2' ? endpoint('LATCH_OAUTH2_BASE_URL') : undefined;
  // The /o/ layout of the plain OAuth 2.0 server (trailing slashes are part of the paths).
  const fromBase = oauth2Base
    ? {
        authorization: `${trimSlash(oauth2Base)}/o/authorize/`,
        token: `${trimSlash(oauth2Base)}/o/token/`,
        userinfo: `${trimSlash(oauth2Base)}/o/userinfo/`,
        revocation: `${trimSlash(oauth2Base)}/o/revoke_token/`,
      }
    : {};
  const endpoints: ProviderEndpoints = Object.fromEntries(
    Object.entries({ ...fromBase, ...byHand }).filter(([, value]) => value !== undefined),
  );
  // No discovery when it cannot or need not run: oauth2 without a discovery URL, or both
  // the authorization and token endpoints given by hand (and no discovery URL).
  const discovery = kind === 'scayle'
    ? false
    : discoveryUrl !== undefined || (kind === 'oidc' && !(byHand.authorization && byHand.token));

  let scayle: ScayleConfig | undefined;
  if (kind === 'scayle') {
    const base = required('LATCH_SCAYLE_BASE_URL');
    url('LATCH_SCAYLE_BASE_URL', base || undefined);
    scayle = {
      baseUrl: trimSlash(base),
      shopId: required('LATCH_SCAYLE_SHOP_ID'),
      shopSecret: required('LATCH_SCAYLE_SHOP_SECRET'),
      idpKey: required('LATCH_SCAYLE_IDP_KEY'),
    };
  }

  const issuer = kind === 'oidc'
    ? required('LATCH_ISSUER')
    : str('LATCH_ISSUER') ?? (scayle?.baseUrl || (oauth2Base && trimSlash(oauth2Base)) ||
      (endpoints.authorization ? new URL(endpoints.authorization).origin : discoveryUrl ? new URL(discoveryUrl).origin : ''));
  url('LATCH_ISSUER', issuer || undefined);
  if (kind === 'oauth2' && !issuer) fail('LATCH_OAUTH2_BASE_URL', 'is required (or LATCH_DISCOVERY_URL, or LATCH_AUTHORIZATION_ENDPOINT and LATCH_TOKEN_ENDPOINT)');
  if (kind !== 'scayle' && !discovery) {
    if (!endpoints.authorization) fail('LATCH_AUTHORIZATION_ENDPOINT', 'is required without discovery');
    if (!endpoints.token) fail('LATCH_TOKEN_ENDPOINT', 'is required without discovery');
  }

  const rawAuthMethod = str('LATCH_TOKEN_AUTH_METHOD') ?? 'client_secret_basic';
  const tokenAuthMethod: TokenAuthMethod = rawAuthMethod === 'client_secret_post' ? rawAuthMethod : 'client_secret_basic';
  if (rawAuthMethod !== tokenAuthMethod) fail('LATCH_TOKEN_AUTH_METHOD', `must be client_secret_basic or client_secret_post, got "${rawAuthMethod}"`);
  else if (kind === 'scayle' && tokenAuthMethod !== 'client_secret_basic') fail('LATCH_TOKEN_AUTH_METHOD', 'SCAYLE takes client_secret_basic only');

  // LATCH_AUTHORIZE_PARAMS: `name` forwards ?name= from the page; `name=value` always sends that value.
  const authorizeParams: string[] = [];
  const authorizeFixedParams: Record<string, string> = {};
  for (const item of (str('LATCH_AUTHORIZE_PARAMS') ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const name = eq === -1 ? item : item.slice(0, eq).trim();
    if (!/^[A-Za-z][\w.-]{0,63}$/.test(name)) fail('LATCH_AUTHORIZE_PARAMS', `"${name}" is not a parameter name`);
    else if (RESERVED_AUTHORIZE_PARAMS.has(name)) fail('LATCH_AUTHORIZE_PARAMS', `"${name}" is set by Latch itself and cannot be added`);
    else if (eq === -1) authorizeParams.push(name);
    else authorizeFixedParams[name] = item.slice(eq + 1).trim();
  }
  const enablePasswordGrant = bool('LATCH_ENABLE_PASSWORD_GRANT');
  if (enablePasswordGrant && kind === 'scayle') fail('LATCH_ENABLE_PASSWORD_GRANT', 'SCAYLE has no password grant');
  const clientId = required('LATCH_CLIENT_ID');
  const clientSecret = required('LATCH_CLIENT_SECRET');

  const baseUrl = url('LATCH_BASE_URL', required('LATCH_BASE_URL') || undefined);
  if (baseUrl && (baseUrl.search || baseUrl.hash)) fail('LATCH_BASE_URL', 'must not carry a query or fragment');
  const base = baseUrl ? new URL(baseUrl.href.replace(/\/+$/, '')) : new URL('http://invalid');

  const cookieSecrets = (str('LATCH_COOKIE_SECRET') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (cookieSecrets.length === 0) fail('LATCH_COOKIE_SECRET', 'is required (at least 32 random characters; e.g. `openssl rand -base64 32`)');
  else if (cookieSecrets.some((s) => s.length < MIN_SECRET_LENGTH))
    fail('LATCH_COOKIE_SECRET', `every secret must be at least ${MIN_SECRET_LENGTH} characters`);

  const allowedOrigins: string[] = [];
  const rawOrigins = required('LATCH_ALLOWED_ORIGINS');
  for (const item of rawOrigins.split(',').map((s) => s.trim()).filter(Boolean)) {
    const parsed = url('LATCH_ALLOWED_ORIGINS', item);
    if (!parsed) continue;
    if (parsed.origin !== item.replace(/\/$/, '')) {
      fail('LATCH_ALLOWED_ORIGINS', `"${item}" must be a bare origin such as https://www.example.com`);
      continue;
    }
    allowedOrigins.push(parsed.origin);
  }
  if (rawOrigins && allowedOrigins.length === 0) fail('LATCH_ALLOWED_ORIGINS', 'lists no valid origin');

  const postLogoutRedirectUri = str('LATCH_POST_LOGOUT_REDIRECT_URI');
  const postLogout = url('LATCH_POST_LOGOUT_REDIRECT_URI', postLogoutRedirectUri);
  if (postLogout && !allowedOrigins.includes(postLogout.origin))
    fail('LATCH_POST_LOGOUT_REDIRECT_URI', 'must lie on one of LATCH_ALLOWED_ORIGINS');

  const scopes = str('LATCH_SCOPES') ?? 'openid profile email offline_access';
  const idTokenAlg = str('LATCH_ID_TOKEN_ALG') ?? 'RS256';
  if (idTokenAlg.toLowerCase() === 'none') fail('LATCH_ID_TOKEN_ALG', 'must name a signing algorithm; "none" is never accepted');

  if (kind !== 'scayle') {
    const openid = scopes.split(' ').includes('openid');
    if (!discovery && openid && !endpoints.jwks) fail('LATCH_JWKS_URI', 'is required without discovery when LATCH_SCOPES has openid (ID tokens are verified)');
    if (!discovery && !openid && !endpoints.userinfo) fail('LATCH_USERINFO_ENDPOINT', 'is required when LATCH_SCOPES has no openid (the user comes from userinfo)');
    if (kind === 'oidc' && !openid) fail('LATCH_SCOPES', 'must include openid for LATCH_PROVIDER=oidc (use oauth2 for plain OAuth 2.0)');
  }

  const config: BffConfig = {
    provider: kind,
    issuer,
    discovery,
    endpoints,
    tokenAuthMethod,
    authorizeParams,
    authorizeFixedParams,
    ...(scayle ? { scayle } : {}),
    enablePasswordGrant,
    ...(discoveryUrl ? { discoveryUrl } : {}),
    clientId,
    clientSecret,
    baseUrl: base,
    redirectUri: `${base.href.replace(/\/$/, '')}/callback`,
    cookieSecrets,
    allowedOrigins,
    scopes,
    port: int('PORT', 8787, 0, 65535),
    httpTimeoutMs: int('LATCH_HTTP_TIMEOUT_MS', 5000, 100, 60000),
    sessionMaxAge: int('LATCH_SESSION_MAX_AGE', 8 * 60 * 60, 60, 400 * 24 * 60 * 60),
    ...(postLogout ? { postLogoutRedirectUri: postLogout.href } : {}),
    idTokenAlg,
    allowInsecureHttp,
    logLevel: str('LATCH_LOG_LEVEL') ?? 'info',
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
