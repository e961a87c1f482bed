import { ConfigError } from './errors.ts';

/**
 * The BFF's configuration: validated once at start-up, then frozen.
 * This module is the only reader of process.env.
 */
export interface BffConfig {
  readonly issuer: string;
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

  const issuer = required('LATCH_ISSUER');
  url('LATCH_ISSUER', issuer || undefined);
  const discoveryUrl = str('LATCH_DISCOVERY_URL');
  url('LATCH_DISCOVERY_URL', discoveryUrl);
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

  const config: BffConfig = {
    issuer,
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
