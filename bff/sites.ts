import type { Context } from 'koa';
import type { BffConfig, SiteConfig } from './config.ts';
import { LatchError } from './errors.ts';
import type { RouteTable } from './routes/table.ts';
import { siteCookies, type SessionCookies } from './session/session-cookies.ts';
import type { Sessions } from './session/sessions.ts';

/**
 * One public face of the BFF (docs/embedding.md): a host name, and a path when it is mounted under
 * one on the microsite's own origin. Each site has its own redirect URI, allowed origins and
 * cookies: host-only cookies keep sites apart by themselves, and a path mount scopes them to its
 * path. Built once at start-up; a request finds its site with one Map lookup.
 */
export interface Site {
  readonly baseUrl: URL;
  /** `baseUrl.host` (lower case; with the port unless it is the scheme's default). */
  readonly host: string;
  /** The path mount without a trailing slash (`/latch`), or `''`. */
  readonly basePath: string;
  readonly redirectUri: string;
  readonly allowedOrigins: readonly string[];
  readonly allowed: ReadonlySet<string>;
  readonly postLogoutRedirectUri?: string;
  /** Session and transaction cookies (`__Host-latch`, or `__Secure-latch; Path=/latch` under a path). */
  readonly cookies: SessionCookies;
  /** With LATCH_HANDOFF: the partitioned cookie (`__Host-latch-p; SameSite=None; Partitioned`). */
  readonly partitioned?: SessionCookies;
  /** The cookies this request's session is in: the partitioned ones when the request carries a cookie of that name. */
  cookiesFor(cookieHeader: string | undefined): SessionCookies;
  /** Every session cookie the request carries by name (the site's, the partitioned one), for logout. */
  cookiesIn(cookieHeader: string | undefined): SessionCookies[];
}

export interface Sites {
  readonly all: readonly Site[];
  /** Without LATCH_SITES: the one site, whatever the request's host. */
  readonly single?: Site;
  readonly byHost: ReadonlyMap<string, Site>;
}

/** The sites of `config`, each with its own cookies for the application's one `Sessions`. */
export function createSites(config: BffConfig, sessions: Sessions): Sites {
  const all = config.sites.map((site) => createSite(site, sessions, config.handoff));
  return {
    all,
    ...(config.hostRouting ? {} : { single: all[0]! }),
    byHost: new Map(all.map((site) => [site.host, site])),
  };
}

function createSite(site: SiteConfig, sessions: Sessions, handoff: boolean): Site {
  const cookies = siteCookies(sessions, site.baseUrl);
  const partitioned = handoff ? siteCookies(sessions, site.baseUrl, { partitioned: true }) : undefined;
  return {
    baseUrl: site.baseUrl,
    host: site.baseUrl.host.toLowerCase(),
    basePath: site.baseUrl.pathname.replace(/\/+$/, ''),
    redirectUri: site.redirectUri,
    allowedOrigins: site.allowedOrigins,
    allowed: new Set(site.allowedOrigins),
    ...(site.postLogoutRedirectUri ? { postLogoutRedirectUri: site.postLogoutRedirectUri } : {}),
    cookies,
    ...(partitioned ? { partitioned } : {}),
    cookiesFor: partitioned
      ? (cookieHeader) => (partitioned.carries(cookieHeader) ? partitioned : cookies)
      : () => cookies,
    cookiesIn: (cookieHeader) => [cookies, ...(partitioned ? [partitioned] : [])].filter((jar) => jar.carries(cookieHeader)),
  };
}

/**
 * Finds the request's site and puts it on `ctx.state.latchSite`: the one site, or with LATCH_SITES
 * the site of the request's host (`ctx.host`: Host, or X-Forwarded-Host when LATCH_TRUST_PROXY is
 * set). Another host gets 421 LATCH_UNKNOWN_SITE, except on the routes that declare `anyHost` (probes,
 * the back-channel logout), which get the first site. Then a path mount's prefix is removed, when the
 * request still carries it (a proxy may have stripped it already).
 */
export function siteResolver(sites: Sites, routes: RouteTable): (ctx: Context) => void {
  return function resolveSite(ctx: Context): void {
    let site = sites.single;
    if (!site) {
      const host = ctx.host.toLowerCase();
      site = sites.byHost.get(host) ?? sites.byHost.get(host.replace(/:(443|80)$/, ''));
      if (!site) {
        if (!routes.at(ctx.path).some((route) => route.traits.anyHost)) {
          throw new LatchError('LATCH_UNKNOWN_SITE');
        }
        site = sites.all[0]!;
      }
    }
    ctx.state.latchSite = site;
    const prefix = site.basePath;
    if (prefix) {
      const path = ctx.path;
      if (path === prefix || path.startsWith(`${prefix}/`)) ctx.path = path.slice(prefix.length) || '/';
    }
  };
}

/** The request's site (set by siteResolver, which runs before every route). */
export function siteOf(ctx: Context): Site {
  const site = ctx.state.latchSite;
  if (!site) throw new Error('siteOf: no site on this request (siteResolver did not run)');
  return site;
}

/** The site's origins, or undefined before siteResolver ran (an error answered earlier). */
export function siteOrigins(ctx: Context): ReadonlySet<string> | undefined {
  return ctx.state.latchSite?.allowed;
}

/**
 * `/me`'s `sameSite`, from the browser's own word on it (Sec-Fetch-Site): true for same-origin and
 * same-site calls, false for cross-site ones, null when the browser did not say.
 */
export function sameSiteOf(secFetchSite: string): boolean | null {
  if (secFetchSite === 'same-origin' || secFetchSite === 'same-site') return true;
  return secFetchSite === 'cross-site' ? false : null;
}
