import type { Context } from 'koa';
import type { BffConfig, SiteConfig } from './config.ts';
import { LatchError } from './errors.ts';
import { parseCookies } from './session/cookies.ts';
import type { SessionManager } from './session/manager.ts';

/** The partitioned hand-off cookie's name (before its prefix): `__Host-latch-p`. */
export const PARTITIONED_COOKIE = 'latch-p';

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
  readonly sessions: SessionManager;
  /** With LATCH_HANDOFF: the partitioned cookie (`__Host-latch-p; SameSite=None; Partitioned`). */
  readonly partitioned?: SessionManager;
  /** The cookies this request's session is in: the partitioned ones when the request carries a cookie of that name. */
  sessionsFor(cookieHeader: string | undefined): SessionManager;
  /** Every session cookie the request carries by name (the site's, the partitioned one), for logout. */
  sessionsIn(cookieHeader: string | undefined): SessionManager[];
}

export interface Sites {
  readonly all: readonly Site[];
  /** Without LATCH_SITES: the one site, whatever the request's host. */
  readonly single?: Site;
  readonly byHost: ReadonlyMap<string, Site>;
}

/**
 * The sites of `config`, their cookies derived from `base` (the app's session manager: one sealer
 * and store for all). The first site without a path mount uses `base` itself.
 */
export function createSites(config: BffConfig, base: SessionManager): Sites {
  const all = config.sites.map((site, i) => createSite(site, base, config.handoff, i === 0));
  return {
    all,
    ...(config.hostRouting ? {} : { single: all[0]! }),
    byHost: new Map(all.map((site) => [site.host, site])),
  };
}

function createSite(site: SiteConfig, base: SessionManager, handoff: boolean, first: boolean): Site {
  const secure = site.baseUrl.protocol === 'https:';
  const basePath = site.baseUrl.pathname.replace(/\/+$/, '');
  const path = basePath || '/';
  // `base` was made for the first site's scheme (session/setup.ts), with Path=/.
  const sessions = first && !basePath ? base : base.withCookies({ secure, path });
  // Partitioned cookies must be Secure; on plain http (development only) the browser drops them.
  const partitioned = handoff ? base.withCookies({ secure: true, path, partitioned: true }, PARTITIONED_COOKIE) : undefined;
  // By the parsed cookie name, never by a substring: any cookie's value may hold the text `__Host-latch-p=`.
  // The substring test only spares the common request (no hand-off) a second parse of its Cookie header.
  const carries = (cookieHeader: string | undefined, manager: SessionManager) =>
    cookieHeader !== undefined && cookieHeader.includes(`${manager.sessionCookie}=`) && parseCookies(cookieHeader)[manager.sessionCookie] !== undefined;
  return {
    baseUrl: site.baseUrl,
    host: site.baseUrl.host.toLowerCase(),
    basePath,
    redirectUri: site.redirectUri,
    allowedOrigins: site.allowedOrigins,
    allowed: new Set(site.allowedOrigins),
    ...(site.postLogoutRedirectUri ? { postLogoutRedirectUri: site.postLogoutRedirectUri } : {}),
    sessions,
    ...(partitioned ? { partitioned } : {}),
    sessionsFor: partitioned
      ? (cookieHeader) => (carries(cookieHeader, partitioned) ? partitioned : sessions)
      : () => sessions,
    sessionsIn: (cookieHeader) => [sessions, ...(partitioned ? [partitioned] : [])].filter((manager) => carries(cookieHeader, manager)),
  };
}

/** Routes answered on any host (probes reach a pod by its address; the provider posts back-channel logouts). */
const ANY_HOST = new Set(['/healthz', '/readyz', '/metrics', '/backchannel-logout']);

/**
 * Finds the request's site and puts it on `ctx.state.latchSite`: the one site, or with LATCH_SITES
 * the site of the request's host (`ctx.host`: Host, or X-Forwarded-Host when LATCH_TRUST_PROXY is
 * set). Another host gets 421 LATCH_UNKNOWN_SITE, except on the routes above. Then a path mount's
 * prefix is removed, when the request still carries it (a proxy may have stripped it already).
 */
export function siteResolver(sites: Sites): (ctx: Context) => void {
  return function resolveSite(ctx: Context): void {
    let site = sites.single;
    if (!site) {
      const host = ctx.host.toLowerCase();
      site = sites.byHost.get(host) ?? sites.byHost.get(host.replace(/:(443|80)$/, ''));
      if (!site) {
        if (!ANY_HOST.has(ctx.path)) {
          throw new LatchError('LATCH_UNKNOWN_SITE', 421, 'This host name is not one of this BFF\'s sites (LATCH_SITES).');
        }
        site = sites.all[0]!;
      }
    }
    (ctx.state as SiteState).latchSite = site;
    const prefix = site.basePath;
    if (prefix) {
      const path = ctx.path;
      if (path === prefix || path.startsWith(`${prefix}/`)) ctx.path = path.slice(prefix.length) || '/';
    }
  };
}

interface SiteState {
  latchSite?: Site;
}

/** The request's site (set by siteResolver, which runs before every route). */
export function siteOf(ctx: Context): Site {
  const site = (ctx.state as SiteState).latchSite;
  if (!site) throw new Error('siteOf: no site on this request (siteResolver did not run)');
  return site;
}

/** The site's origins, or undefined before siteResolver ran (an error answered earlier). */
export function siteOrigins(ctx: Context): ReadonlySet<string> | undefined {
  return (ctx.state as SiteState).latchSite?.allowed;
}

/**
 * `/me`'s `sameSite`, from the browser's own word on it (Sec-Fetch-Site): true for same-origin and
 * same-site calls, false for cross-site ones, null when the browser did not say.
 */
export function sameSiteOf(secFetchSite: string): boolean | null {
  if (secFetchSite === 'same-origin' || secFetchSite === 'same-site') return true;
  return secFetchSite === 'cross-site' ? false : null;
}
