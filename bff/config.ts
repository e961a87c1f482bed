import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.ts';
import { GENERATE_SECRET, secretWeakness } from './secret-strength.ts';

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
  readonly baseUrl: URL;
  /** `baseUrl` + `/callback`. */
  readonly redirectUri: string;
  /** Cookie-sealing passwords, newest first (each passes bff/secret-strength.ts: 32+ characters, no placeholder, 128+ bits estimated). */
  readonly cookieSecrets: readonly string[];
  /** Exact origins (scheme://host[:port]) allowed to call with credentials and to be returned to. */
  readonly allowedOrigins: readonly string[];
  /** Asked for at sign-in. For oauth2 without LATCH_SCOPES, the user-token routes' scopes only (see OAuth2Config.scopesGiven). */
  readonly scopes: string;
  /** LATCH_API_ROUTES: the upstream APIs the proxy serves at /api/<name>/... */
  readonly apiRoutes: readonly ApiRoute[];
  /** LATCH_API_TIMEOUT_MS: an upstream API call fails with 504 after this long without progress. */
  readonly apiTimeoutMs: number;
  /**
   * LATCH_REQUEST_TIMEOUT_MS: a request, its body included, must arrive within this long (408 or a closed
   * connection otherwise): Node's requestTimeout in bff/server.ts, and the deadline of every body read.
   */
  readonly requestTimeoutMs: number;
  readonly port: number;
  /** Timeout for every call to the authorization server, ms. */
  readonly httpTimeoutMs: number;
  /** Absolute session lifetime, seconds. */
  readonly sessionMaxAge: number;
  /** LATCH_SESSION_IDLE_TIMEOUT: the session ends after this many seconds without a request. */
  readonly sessionIdleTimeout: number;
  /**
   * LATCH_SESSION_STORE: where the session (tokens included) lives. `cookie` (default): sealed into
   * the cookie. `memory` / `redis`: server-side, the cookie holding only a sealed reference.
   */
  readonly sessionStore: 'cookie' | 'memory' | 'redis';
  /** LATCH_REDIS_URL: the shared store for several instances (deny-list, refresh locks, sessions). */
  readonly redisUrl?: string;
  /** LATCH_REDIS_PREFIX: prefix of every Redis key. */
  readonly redisPrefix: string;
  /** LATCH_REDIS_TIMEOUT_MS: a Redis command slower than this fails with 503 LATCH_STORE_UNAVAILABLE. */
  readonly redisTimeoutMs: number;
  /** LATCH_RATE_LIMIT / LATCH_RATE_LIMIT_WINDOW: requests per IP per window on /login and /callback (0: off). */
  readonly rateLimit: { readonly max: number; readonly windowSeconds: number };
  /** LATCH_MAX_HEADER_BYTES: larger request heads get 431 LATCH_HEADERS_TOO_LARGE. */
  readonly maxHeaderBytes: number;
  /** LATCH_MAX_BODY_BYTES: larger request bodies get 413 LATCH_BODY_TOO_LARGE. */
  readonly maxBodyBytes: number;
  readonly postLogoutRedirectUri?: string;
  /** The only algorithm accepted for ID token signatures. */
  readonly idTokenAlg: string;
  /**
   * Audiences besides the client an ID token may name (OIDC Core 3.1.3.7): LATCH_TRUSTED_AUDIENCES,
   * comma-separated. An ID token with any other extra audience is refused. default: none
   */
  readonly trustedAudiences: readonly string[];
  /** Loud opt-out: allow http:// for the issuer and base URL (development only). */
  readonly allowInsecureHttp: boolean;
  readonly logLevel: string;
  /** LATCH_HOST: the interface the server listens on (127.0.0.1; 0.0.0.0 in a container). */
  readonly host: string;
  /** LATCH_TRUST_PROXY: trust X-Forwarded-For/-Proto/-Host (Koa `app.proxy`); only behind a proxy that sets them. */
  readonly trustProxy: boolean;
  /** How many proxies stand in front (LATCH_TRUST_PROXY=true is 1): the client address is that many from the right of X-Forwarded-For. */
  readonly trustedProxyHops: number;
  /** LATCH_METRICS: serve Prometheus metrics at /metrics. */
  readonly metrics: boolean;
  /** LATCH_TRACING: OpenTelemetry spans through @opentelemetry/api, for the SDK the application registers (bff/tracing.ts). */
  readonly tracing: boolean;
  /** LATCH_WIDGET_DIR: where the built widget (latch.js...) is read from; default: dist/ beside the BFF build. */
  readonly widgetDir?: string;
  /**
   * Every site this deployment serves, each with its own base URL (host name, and path when mounted
   * under one), redirect URI, allowed origins and cookies. LATCH_BASE_URL with LATCH_ALLOWED_ORIGINS
   * is the first when set, then LATCH_SITES (or LATCH_SITES_FILE). `baseUrl`, `redirectUri`,
   * `allowedOrigins` and `postLogoutRedirectUri` above are the first site's.
   */
  readonly sites: readonly SiteConfig[];
  /**
   * True with LATCH_SITES / LATCH_SITES_FILE: a request is served by the site its host names (the
   * Host header; X-Forwarded-Host only with LATCH_TRUST_PROXY), and any other host gets 421
   * LATCH_UNKNOWN_SITE. False (one site): every request is that site's, whatever its host.
   */
  readonly hostRouting: boolean;
  /** LATCH_HANDOFF: the partitioned-cookie hand-off (`/login?handoff=`, `POST /handoff`; docs/embedding.md). */
  readonly handoff: boolean;
}

/** One site: a public base URL of the BFF and the pages it serves (docs/embedding.md). */
export interface SiteConfig {
  /** Without a trailing slash. A path (`https://shop-a.example/latch`) is a path mount: it is stripped before routing and scopes the cookies. */
  readonly baseUrl: URL;
  /** `baseUrl` + `/callback`. */
  readonly redirectUri: string;
  /** Exact origins that may call this site with credentials and be returned to. */
  readonly allowedOrigins: readonly string[];
  readonly postLogoutRedirectUri?: string;
}

type Env = Record<string, string | undefined>;

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

  const explicitIssuer = str('LATCH_ISSUER');
  const issuer = kind === 'oidc'
    ? required('LATCH_ISSUER')
    : explicitIssuer ?? (scayle?.baseUrl || (oauth2Base && trimSlash(oauth2Base)) ||
      (endpoints.authorization ? new URL(endpoints.authorization).origin : discoveryUrl ? new URL(discoveryUrl).origin : ''));
  if (kind === 'oidc' || explicitIssuer) url('LATCH_ISSUER', issuer || undefined);
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
  const serviceClientId = str('LATCH_SERVICE_CLIENT_ID');
  const serviceClientSecret = str('LATCH_SERVICE_CLIENT_SECRET');
  if ((serviceClientId === undefined) !== (serviceClientSecret === undefined)) {
    const [missing, given] = serviceClientId === undefined ? ['LATCH_SERVICE_CLIENT_ID', 'LATCH_SERVICE_CLIENT_SECRET'] : ['LATCH_SERVICE_CLIENT_SECRET', 'LATCH_SERVICE_CLIENT_ID'];
    fail(missing, `is required with ${given} (set both, or neither to use LATCH_CLIENT_ID and LATCH_CLIENT_SECRET)`);
  }
  if (serviceClientId !== undefined && kind === 'scayle') fail('LATCH_SERVICE_CLIENT_ID', 'SCAYLE has no client-credentials grant');

  // LATCH_SITES (or a file of the same JSON) may replace LATCH_BASE_URL and LATCH_ALLOWED_ORIGINS.
  const rawSites = str('LATCH_SITES_FILE') !== undefined ? readSitesFile(str('LATCH_SITES_FILE')!, fail) : str('LATCH_SITES');
  if (str('LATCH_SITES_FILE') !== undefined && str('LATCH_SITES') !== undefined) fail('LATCH_SITES_FILE', 'cannot be combined with LATCH_SITES: set one');
  const multiSite = str('LATCH_SITES_FILE') !== undefined || str('LATCH_SITES') !== undefined;
  const oneOf = (name: string) => (multiSite ? str(name) : required(name) || undefined);

  const baseUrl = url('LATCH_BASE_URL', oneOf('LATCH_BASE_URL'));
  if (baseUrl && (baseUrl.search || baseUrl.hash)) fail('LATCH_BASE_URL', 'must not carry a query or fragment');
  const base = baseUrl ? new URL(baseUrl.href.replace(/\/+$/, '')) : new URL('http://invalid');

  const cookieSecrets = (str('LATCH_COOKIE_SECRET') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (cookieSecrets.length === 0) fail('LATCH_COOKIE_SECRET', `is required: make one with \`${GENERATE_SECRET}\``);
  // Weak or placeholder secrets stop the process (the rule: bff/secret-strength.ts). Never echoed.
  cookieSecrets.forEach((secret, i) => {
    const weakness = secretWeakness(secret);
    const which = cookieSecrets.length > 1 ? `secret ${i + 1} of ${cookieSecrets.length}` : 'the secret';
    if (weakness) fail('LATCH_COOKIE_SECRET', `${which} ${weakness}: make a random one with \`${GENERATE_SECRET}\``);
  });

  const origins = (variable: string, items: readonly string[]): string[] => {
    const out: string[] = [];
    for (const item of items) {
      const parsed = url(variable, item);
      if (!parsed) continue;
      if (parsed.origin !== item.replace(/\/$/, '')) {
        fail(variable, `"${item}" must be a bare origin such as https://www.example.com`);
        continue;
      }
      out.push(parsed.origin);
    }
    return out;
  };
  const rawOrigins = oneOf('LATCH_ALLOWED_ORIGINS') ?? '';
  const allowedOrigins = origins('LATCH_ALLOWED_ORIGINS', rawOrigins.split(',').map((s) => s.trim()).filter(Boolean));
  if (rawOrigins && allowedOrigins.length === 0) fail('LATCH_ALLOWED_ORIGINS', 'lists no valid origin');
  if (multiSite && (baseUrl === undefined) !== (rawOrigins === '')) fail(baseUrl ? 'LATCH_ALLOWED_ORIGINS' : 'LATCH_BASE_URL', 'is required with the other (they make a site besides LATCH_SITES), or leave both out');

  const postLogoutRedirectUri = str('LATCH_POST_LOGOUT_REDIRECT_URI');
  const postLogout = url('LATCH_POST_LOGOUT_REDIRECT_URI', postLogoutRedirectUri);
  if (postLogout && !allowedOrigins.includes(postLogout.origin))
    fail('LATCH_POST_LOGOUT_REDIRECT_URI', 'must lie on one of LATCH_ALLOWED_ORIGINS');

  const siteOf = (at: URL, allowed: string[], postLogoutUri?: string): SiteConfig => ({
    baseUrl: at,
    redirectUri: `${at.href.replace(/\/$/, '')}/callback`,
    allowedOrigins: allowed,
    ...(postLogoutUri ? { postLogoutRedirectUri: postLogoutUri } : {}),
  });
  const sites: SiteConfig[] = baseUrl ? [siteOf(base, allowedOrigins, postLogout?.href)] : [];
  if (rawSites !== undefined) sites.push(...parseSites(rawSites, fail, url, origins, siteOf));
  const hosts = new Set<string>();
  for (const site of sites) {
    if (hosts.has(site.baseUrl.host)) fail(multiSite ? 'LATCH_SITES' : 'LATCH_BASE_URL', `names the host ${site.baseUrl.host} twice: one site per host name`);
    hosts.add(site.baseUrl.host);
  }
  if (multiSite && sites.length === 0 && problems.length === 0) fail('LATCH_SITES', 'lists no site');
  const handoff = bool('LATCH_HANDOFF');
  if (handoff && !allowInsecureHttp && sites.some((s) => s.baseUrl.protocol !== 'https:')) fail('LATCH_HANDOFF', 'needs https:// base URLs (partitioned cookies are Secure)');
  const first = sites[0];

  // oauth2 without LATCH_SCOPES: the provider picks them once it has asked the server (OAuth2Config).
  const scopesGiven = str('LATCH_SCOPES') !== undefined;
  const scopes = str('LATCH_SCOPES') ?? (kind === 'oauth2' ? '' : 'openid profile email offline_access');
  const apiRoutes = parseApiRoutes(env, fail, url);
  if (kind === 'scayle' && apiRoutes.some((r) => r.token === 'service')) fail('LATCH_API_ROUTES', 'service-token routes need a standard token endpoint, which SCAYLE has not');
  const idTokenAlg = str('LATCH_ID_TOKEN_ALG') ?? 'RS256';
  if (idTokenAlg.toLowerCase() === 'none') fail('LATCH_ID_TOKEN_ALG', 'must name a signing algorithm; "none" is never accepted');
  // HS* would need the client secret as the key: ID tokens are checked against the server's published keys only.
  else if (/^HS/i.test(idTokenAlg)) fail('LATCH_ID_TOKEN_ALG', 'must be an asymmetric algorithm (RS256, PS256, ES256, EdDSA...); HMAC-signed ID tokens are not accepted');

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
    ...(kind === 'oauth2' ? { oauth2: { layout, metadataUrls, metadataRequired: discoveryUrl !== undefined, issuerGiven: explicitIssuer !== undefined, scopesGiven } } : {}),
    enablePasswordGrant,
    ...(discoveryUrl ? { discoveryUrl } : {}),
    clientId,
    clientSecret,
    serviceClientId: serviceClientId ?? clientId,
    serviceClientSecret: serviceClientSecret ?? clientSecret,
    baseUrl: first?.baseUrl ?? base,
    redirectUri: first?.redirectUri ?? `${base.href.replace(/\/$/, '')}/callback`,
    cookieSecrets,
    allowedOrigins: first?.allowedOrigins ?? allowedOrigins,
    // User-token API routes' scopes are asked for at sign-in.
    scopes: [...new Set([...scopes.split(' '), ...apiRoutes.flatMap((r) => (r.token === 'user' && r.scope ? r.scope.split(' ') : []))])].filter(Boolean).join(' '),
    apiRoutes,
    apiTimeoutMs: int('LATCH_API_TIMEOUT_MS', 30_000, 100, 600_000),
    requestTimeoutMs: int('LATCH_REQUEST_TIMEOUT_MS', 30_000, 1000, 3_600_000),
    port: int('PORT', 8787, 0, 65535),
    httpTimeoutMs: int('LATCH_HTTP_TIMEOUT_MS', 5000, 100, 60000),
    sessionMaxAge: int('LATCH_SESSION_MAX_AGE', 8 * 60 * 60, 60, 400 * 24 * 60 * 60),
    sessionIdleTimeout: int('LATCH_SESSION_IDLE_TIMEOUT', 30 * 60, 60, 400 * 24 * 60 * 60),
    ...sessionStoreConfig(str, int, fail),
    rateLimit: { max: int('LATCH_RATE_LIMIT', 100, 0, 1_000_000), windowSeconds: int('LATCH_RATE_LIMIT_WINDOW', 60, 1, 24 * 60 * 60) },
    maxHeaderBytes: int('LATCH_MAX_HEADER_BYTES', 16 * 1024, 4096, 256 * 1024),
    maxBodyBytes: int('LATCH_MAX_BODY_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    ...(first?.postLogoutRedirectUri ? { postLogoutRedirectUri: first.postLogoutRedirectUri } : {}),
    idTokenAlg,
    trustedAudiences: (str('LATCH_TRUSTED_AUDIENCES') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    allowInsecureHttp,
    logLevel: str('LATCH_LOG_LEVEL') ?? 'info',
    host: str('LATCH_HOST') ?? '127.0.0.1',
    ...trustProxyConfig(str('LATCH_TRUST_PROXY'), fail),
    metrics: bool('LATCH_METRICS'),
    tracing: bool('LATCH_TRACING'),
    ...(str('LATCH_WIDGET_DIR') ? { widgetDir: str('LATCH_WIDGET_DIR')! } : {}),
    sites,
    hostRouting: multiSite,
    handoff,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** One upstream API behind the proxy: `/api/<name>/<path>` goes to `<upstream>/<path>`. */
export interface ApiRoute {
  /** Lower-case letters, digits and dashes; the env suffix is its upper-case form with `_` for `-`. */
  readonly name: string;
  /** Base URL, without a trailing slash, query or fragment. */
  readonly upstream: string;
  /** `user`: the signed-in user's access token (default). `service`: a client-credentials token. */
  readonly token: 'user' | 'service';
  /** Space-separated scopes: asked for at sign-in (user), or in the client-credentials request (service). */
  readonly scope?: string;
  /** Service routes: the RFC 8707 resource indicator (the API's audience) of the client-credentials request. */
  readonly audience?: string;
}

const ROUTE_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * LATCH_API_ROUTES=orders=https://api.example.com/orders,profile=https://profile.example.com/v1
 * with optional per-route LATCH_API_ROUTE_<NAME>_TOKEN (user|service), _SCOPE and _AUDIENCE.
 */
function parseApiRoutes(
  env: Env,
  fail: (variable: string, problem: string) => void,
  url: (name: string, value: string | undefined) => URL | undefined,
): ApiRoute[] {
  const raw = env['LATCH_API_ROUTES']?.trim();
  if (!raw) return [];
  const routes: ApiRoute[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const name = eq > 0 ? item.slice(0, eq).trim() : '';
    const target = eq > 0 ? item.slice(eq + 1).trim() : '';
    if (!ROUTE_NAME.test(name) || !target) {
      fail('LATCH_API_ROUTES', `"${item}" must be name=https://upstream/base, the name in lower-case letters, digits and dashes`);
      continue;
    }
    if (routes.some((r) => r.name === name)) {
      fail('LATCH_API_ROUTES', `names "${name}" twice`);
      continue;
    }
    const upstream = url('LATCH_API_ROUTES', target);
    if (!upstream) continue;
    if (upstream.search || upstream.hash || upstream.username || upstream.password || target.includes('?') || target.includes('#')) {
      fail('LATCH_API_ROUTES', `"${name}" must be a base URL without query, fragment or credentials`);
      continue;
    }
    const prefix = `LATCH_API_ROUTE_${name.toUpperCase().replaceAll('-', '_')}_`;
    const opt = (suffix: string) => env[prefix + suffix]?.trim() || undefined;
    const token = opt('TOKEN') ?? 'user';
    if (token !== 'user' && token !== 'service') {
      fail(`${prefix}TOKEN`, `must be user or service, got "${token}"`);
      continue;
    }
    const scope = opt('SCOPE')?.split(/\s+/).join(' ');
    const audience = opt('AUDIENCE');
    if (audience !== undefined) {
      if (token === 'user') {
        fail(`${prefix}AUDIENCE`, 'applies to service routes only: a user token carries the audience it gets at sign-in (a default at the authorization server, or LATCH_AUTHORIZE_PARAMS=audience=… / resource=…)');
        continue;
      }
      try {
        new URL(audience);
      } catch {
        fail(`${prefix}AUDIENCE`, `must be an absolute URI (an RFC 8707 resource indicator), got "${audience}"`);
        continue;
      }
    }
    routes.push({
      name,
      upstream: upstream.href.replace(/\/+$/, ''),
      token,
      ...(scope ? { scope } : {}),
      ...(audience ? { audience } : {}),
    });
  }
  return routes;
}

/**
 * LATCH_TRUST_PROXY: false (default), true (one proxy in front), or the number of proxies in front.
 * Each proxy appends the address it saw to X-Forwarded-For, so the client is the N-th from the right;
 * anything further left was written by the client and is never believed.
 */
function trustProxyConfig(raw: string | undefined, fail: (variable: string, problem: string) => void): Pick<BffConfig, 'trustProxy' | 'trustedProxyHops'> {
  if (raw === undefined || raw === 'false' || raw === '0') return { trustProxy: false, trustedProxyHops: 0 };
  if (raw === 'true') return { trustProxy: true, trustedProxyHops: 1 };
  if (/^[1-9]$/.test(raw)) return { trustProxy: true, trustedProxyHops: Number(raw) };
  fail('LATCH_TRUST_PROXY', `must be false, true (one proxy in front) or the number of proxies in front (1-9), got "${raw}"`);
  return { trustProxy: false, trustedProxyHops: 0 };
}

/** LATCH_SESSION_STORE, LATCH_REDIS_URL, LATCH_REDIS_PREFIX, LATCH_REDIS_TIMEOUT_MS. */
function sessionStoreConfig(
  str: (name: string) => string | undefined,
  int: (name: string, fallback: number, min: number, max: number) => number,
  fail: (variable: string, problem: string) => void,
): Pick<BffConfig, 'sessionStore' | 'redisUrl' | 'redisPrefix' | 'redisTimeoutMs'> {
  const store = str('LATCH_SESSION_STORE') ?? 'cookie';
  if (store !== 'cookie' && store !== 'memory' && store !== 'redis') fail('LATCH_SESSION_STORE', `must be cookie, memory or redis, got "${store}"`);
  const redisUrl = str('LATCH_REDIS_URL');
  if (redisUrl !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(redisUrl);
    } catch {
      parsed = undefined;
    }
    // Never echo the value: it may carry a password.
    if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) fail('LATCH_REDIS_URL', 'must be a redis:// or rediss:// URL');
  }
  if (store === 'redis' && redisUrl === undefined) fail('LATCH_REDIS_URL', 'is required when LATCH_SESSION_STORE=redis');
  return {
    sessionStore: store === 'memory' || store === 'redis' ? store : 'cookie',
    ...(redisUrl ? { redisUrl } : {}),
    redisPrefix: str('LATCH_REDIS_PREFIX') ?? 'latch:',
    redisTimeoutMs: int('LATCH_REDIS_TIMEOUT_MS', 1000, 50, 60_000),
  };
}

/** LATCH_SITES_FILE: the same JSON as LATCH_SITES, from a file (a ConfigMap, a file in the Lambda zip). */
function readSitesFile(path: string, fail: (variable: string, problem: string) => void): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    fail('LATCH_SITES_FILE', `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): ${path}`);
    return undefined;
  }
}

/**
 * LATCH_SITES: a JSON array of sites, each
 * `{ "baseUrl": "https://auth.shop-a.example", "allowedOrigins": ["https://shop-a.example"], "postLogoutRedirectUri"?: "…" }`.
 * `allowedOrigins` may also be a comma-separated string. Every problem names the site by its index.
 */
function parseSites(
  raw: string,
  fail: (variable: string, problem: string) => void,
  url: (name: string, value: string | undefined) => URL | undefined,
  origins: (variable: string, items: readonly string[]) => string[],
  siteOf: (at: URL, allowed: string[], postLogoutUri?: string) => SiteConfig,
): SiteConfig[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    fail('LATCH_SITES', 'is not JSON: give an array such as [{"baseUrl":"https://auth.shop-a.example","allowedOrigins":["https://shop-a.example"]}]');
    return [];
  }
  if (!Array.isArray(parsed)) {
    fail('LATCH_SITES', 'must be a JSON array of sites');
    return [];
  }
  const sites: SiteConfig[] = [];
  parsed.forEach((item: unknown, i) => {
    const name = `LATCH_SITES[${i}]`;
    const entry = (item ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(entry).filter((key) => !['baseUrl', 'allowedOrigins', 'postLogoutRedirectUri'].includes(key));
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return fail(name, 'must be an object with baseUrl and allowedOrigins');
    if (unknown.length) return fail(name, `has unknown keys: ${unknown.join(', ')}`);
    if (typeof entry['baseUrl'] !== 'string') return fail(`${name}.baseUrl`, 'is required (a URL string)');
    const at = url(`${name}.baseUrl`, entry['baseUrl']);
    if (!at) return;
    if (at.search || at.hash || at.username || at.password) return fail(`${name}.baseUrl`, 'must not carry a query, fragment or credentials');
    const list = entry['allowedOrigins'];
    const items = typeof list === 'string' ? list.split(',').map((s) => s.trim()).filter(Boolean)
      : Array.isArray(list) && list.every((o) => typeof o === 'string') ? (list as string[]) : undefined;
    if (!items || items.length === 0) return fail(`${name}.allowedOrigins`, 'is required: a non-empty array of origins');
    const allowed = origins(`${name}.allowedOrigins`, items);
    if (allowed.length !== items.length) return;
    const post = entry['postLogoutRedirectUri'];
    if (post !== undefined && typeof post !== 'string') return fail(`${name}.postLogoutRedirectUri`, 'must be a URL string');
    const postUrl = url(`${name}.postLogoutRedirectUri`, post);
    if (postUrl && !allowed.includes(postUrl.origin)) return fail(`${name}.postLogoutRedirectUri`, 'must lie on one of its allowedOrigins');
    sites.push(siteOf(new URL(at.href.replace(/\/+$/, '')), allowed, postUrl?.href));
  });
  return sites;
}
