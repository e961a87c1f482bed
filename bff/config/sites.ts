import { readFileSync } from 'node:fs';
import { splitList, type EnvReader } from './env.ts';

/** One site: a public base URL of the BFF and the pages it serves (docs/embedding.md). */
export interface SiteConfig {
  /** Without a trailing slash. A path (`https://shop-a.example/latch`) is a path mount: it is stripped before routing and scopes the cookies. */
  readonly baseUrl: URL;
  /** `baseUrl` + `/callback`. */
  readonly redirectUri: string;
  /** Exact origins that may call this site with credentials and be returned to. */
  readonly allowedOrigins: readonly string[];
  readonly postLogoutRedirectUri?: string;
  /**
   * LATCH_SITES `provider` (one name) or `providers` (a list): the only providers this site offers,
   * in that order. Absent: every provider that needs no tenant (and, with `tenant`, those that do).
   */
  readonly providers?: readonly string[];
  /** LATCH_SITES `tenant`: fills a templated issuer (`{tenant}`) for this site; one of that provider's TENANTS. */
  readonly tenant?: string;
}

/** The BFF's public URLs and the pages they serve (README: "The BFF and its pages"). */
export interface SitesSection {
  /**
   * Every site this deployment serves, each with its own base URL (host name, and path when mounted
   * under one), redirect URI, allowed origins and cookies. LATCH_BASE_URL with LATCH_ALLOWED_ORIGINS
   * is the first when set, then LATCH_SITES (or LATCH_SITES_FILE). `baseUrl`, `redirectUri`,
   * `allowedOrigins` and `postLogoutRedirectUri` below are the first site's.
   */
  readonly sites: readonly SiteConfig[];
  readonly baseUrl: URL;
  /** `baseUrl` + `/callback`. */
  readonly redirectUri: string;
  /** Exact origins (scheme://host[:port]) allowed to call with credentials and to be returned to. */
  readonly allowedOrigins: readonly string[];
  readonly postLogoutRedirectUri?: string;
  /**
   * True with LATCH_SITES / LATCH_SITES_FILE: a request is served by the site its host names (the
   * Host header; X-Forwarded-Host only with LATCH_TRUST_PROXY), and any other host gets 421
   * LATCH_UNKNOWN_SITE. False (one site): every request is that site's, whatever its host.
   */
  readonly hostRouting: boolean;
  /** LATCH_HANDOFF: the partitioned-cookie hand-off (`/login?handoff=`, `POST /handoff`; docs/embedding.md). */
  readonly handoff: boolean;
}

/**
 * The sites section: LATCH_BASE_URL, LATCH_ALLOWED_ORIGINS and LATCH_POST_LOGOUT_REDIRECT_URI (one
 * site), LATCH_SITES or LATCH_SITES_FILE (several; read once), LATCH_HANDOFF.
 */
export function readSites(env: EnvReader): SitesSection {
  const before = env.problemCount;
  // LATCH_SITES (or a file of the same JSON) may replace LATCH_BASE_URL and LATCH_ALLOWED_ORIGINS.
  const file = env.str('LATCH_SITES_FILE');
  const inline = env.str('LATCH_SITES');
  const rawSites = file !== undefined ? readSitesFile(env, file) : inline;
  if (file !== undefined && inline !== undefined) env.fail('LATCH_SITES_FILE', 'cannot be combined with LATCH_SITES: set one');
  const multiSite = file !== undefined || inline !== undefined;
  const oneOf = (name: string) => (multiSite ? env.str(name) : env.required(name) || undefined);

  const baseUrl = env.url('LATCH_BASE_URL', oneOf('LATCH_BASE_URL'));
  if (baseUrl && (baseUrl.search || baseUrl.hash)) env.fail('LATCH_BASE_URL', 'must not carry a query or fragment');
  const base = baseUrl ? new URL(baseUrl.href.replace(/\/+$/, '')) : new URL('http://invalid');
  const rawOrigins = oneOf('LATCH_ALLOWED_ORIGINS') ?? '';
  const allowedOrigins = env.origins('LATCH_ALLOWED_ORIGINS', splitList(rawOrigins));
  if (rawOrigins && allowedOrigins.length === 0) env.fail('LATCH_ALLOWED_ORIGINS', 'lists no valid origin');
  if (multiSite && (baseUrl === undefined) !== (rawOrigins === '')) env.fail(baseUrl ? 'LATCH_ALLOWED_ORIGINS' : 'LATCH_BASE_URL', 'is required with the other (they make a site besides LATCH_SITES), or leave both out');
  const postLogout = env.url('LATCH_POST_LOGOUT_REDIRECT_URI', env.str('LATCH_POST_LOGOUT_REDIRECT_URI'));
  if (postLogout && !allowedOrigins.includes(postLogout.origin)) env.fail('LATCH_POST_LOGOUT_REDIRECT_URI', 'must lie on one of LATCH_ALLOWED_ORIGINS');

  const sites: SiteConfig[] = baseUrl ? [siteOf(base, allowedOrigins, postLogout?.href)] : [];
  if (rawSites !== undefined) sites.push(...parseSites(env, rawSites));
  const hosts = new Set<string>();
  for (const site of sites) {
    if (hosts.has(site.baseUrl.host)) env.fail(multiSite ? 'LATCH_SITES' : 'LATCH_BASE_URL', `names the host ${site.baseUrl.host} twice: one site per host name`);
    hosts.add(site.baseUrl.host);
  }
  // Sites dropped for their own problems (or a file that cannot be read) are not "no site" again.
  if (multiSite && sites.length === 0 && env.problemCount === before) env.fail('LATCH_SITES', 'lists no site');
  const handoff = env.bool('LATCH_HANDOFF');
  if (handoff && !env.allowInsecureHttp && sites.some((s) => s.baseUrl.protocol !== 'https:')) env.fail('LATCH_HANDOFF', 'needs https:// base URLs (partitioned cookies are Secure)');

  const first = sites[0];
  return {
    sites,
    baseUrl: first?.baseUrl ?? base,
    redirectUri: first?.redirectUri ?? redirectUriOf(base),
    allowedOrigins: first?.allowedOrigins ?? allowedOrigins,
    ...(first?.postLogoutRedirectUri ? { postLogoutRedirectUri: first.postLogoutRedirectUri } : {}),
    hostRouting: multiSite,
    handoff,
  };
}

const redirectUriOf = (at: URL) => `${at.href.replace(/\/$/, '')}/callback`;

function siteOf(at: URL, allowed: string[], postLogoutUri?: string): SiteConfig {
  return {
    baseUrl: at,
    redirectUri: redirectUriOf(at),
    allowedOrigins: allowed,
    ...(postLogoutUri ? { postLogoutRedirectUri: postLogoutUri } : {}),
  };
}

/** LATCH_SITES_FILE: the same JSON as LATCH_SITES, from a file (a ConfigMap, a file in the Lambda zip). */
function readSitesFile(env: EnvReader, path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    env.fail('LATCH_SITES_FILE', `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): ${path}`);
    return undefined;
  }
}

const SITE_KEYS = ['baseUrl', 'allowedOrigins', 'postLogoutRedirectUri', 'provider', 'providers', 'tenant'];

/**
 * LATCH_SITES: a JSON array of sites, each
 * `{ "baseUrl": "https://auth.shop-a.example", "allowedOrigins": ["https://shop-a.example"], "postLogoutRedirectUri"?: "…" }`.
 * `allowedOrigins` may also be a comma-separated string. Every problem names the site by its index.
 */
function parseSites(env: EnvReader, raw: string): SiteConfig[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    env.fail('LATCH_SITES', 'is not JSON: give an array such as [{"baseUrl":"https://auth.shop-a.example","allowedOrigins":["https://shop-a.example"]}]');
    return [];
  }
  if (!Array.isArray(parsed)) {
    env.fail('LATCH_SITES', 'must be a JSON array of sites');
    return [];
  }
  const sites: SiteConfig[] = [];
  parsed.forEach((item: unknown, i) => {
    const name = `LATCH_SITES[${i}]`;
    const entry = (item ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(entry).filter((key) => !SITE_KEYS.includes(key));
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return env.fail(name, 'must be an object with baseUrl and allowedOrigins');
    if (unknown.length) return env.fail(name, `has unknown keys: ${unknown.join(', ')}`);
    if (typeof entry['baseUrl'] !== 'string') return env.fail(`${name}.baseUrl`, 'is required (a URL string)');
    const at = env.url(`${name}.baseUrl`, entry['baseUrl']);
    if (!at) return;
    if (at.search || at.hash || at.username || at.password) return env.fail(`${name}.baseUrl`, 'must not carry a query, fragment or credentials');
    const list = entry['allowedOrigins'];
    const items = typeof list === 'string' ? splitList(list)
      : Array.isArray(list) && list.every((o) => typeof o === 'string') ? (list as string[]) : undefined;
    if (!items || items.length === 0) return env.fail(`${name}.allowedOrigins`, 'is required: a non-empty array of origins');
    const allowed = env.origins(`${name}.allowedOrigins`, items);
    if (allowed.length !== items.length) return;
    const post = entry['postLogoutRedirectUri'];
    if (post !== undefined && typeof post !== 'string') return env.fail(`${name}.postLogoutRedirectUri`, 'must be a URL string');
    const postUrl = env.url(`${name}.postLogoutRedirectUri`, post);
    if (postUrl && !allowed.includes(postUrl.origin)) return env.fail(`${name}.postLogoutRedirectUri`, 'must lie on one of its allowedOrigins');
    const choice = readSiteProviders(env, name, entry);
    if (!choice) return;
    sites.push({ ...siteOf(new URL(at.href.replace(/\/+$/, '')), allowed, postUrl?.href), ...choice });
  });
  return sites;
}

/** A site's `provider` or `providers` and `tenant` (their names are checked against LATCH_PROVIDERS by loadConfig). */
function readSiteProviders(env: EnvReader, name: string, entry: Record<string, unknown>): Pick<SiteConfig, 'providers' | 'tenant'> | undefined {
  const one = entry['provider'];
  const many = entry['providers'];
  const tenant = entry['tenant'];
  if (one !== undefined && many !== undefined) return void env.fail(name, 'has both provider and providers: give one');
  if (one !== undefined && typeof one !== 'string') return void env.fail(`${name}.provider`, 'must be a provider name (a string)');
  if (many !== undefined && (!Array.isArray(many) || many.length === 0 || !many.every((p) => typeof p === 'string'))) {
    return void env.fail(`${name}.providers`, 'must be a non-empty array of provider names');
  }
  if (tenant !== undefined && typeof tenant !== 'string') return void env.fail(`${name}.tenant`, 'must be a tenant name (a string)');
  const providers = typeof one === 'string' ? [one] : (many as string[] | undefined);
  return { ...(providers ? { providers } : {}), ...(typeof tenant === 'string' ? { tenant } : {}) };
}
