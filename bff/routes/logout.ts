import type { RouteTable } from './table.ts';
import type { LogoutResponse } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { safeRedirect } from '../redirects.ts';
import { issueLogoutHandle } from '../session/logout-handle.ts';
import type { SessionCookies } from '../session/session-cookies.ts';
import type { ReadSession } from '../session/sessions.ts';
import { siteOf } from '../sites.ts';
import type { RouteDeps } from './deps.ts';

/**
 * POST /logout (CSRF-protected): clears the session cookie (every chunk)
 * whatever else happens, puts the session id on the deny-list so a copy of
 * the cookie is refused on every instance, revokes what the server lets us
 * revoke, and answers where the browser should go to end the session at the
 * server too (`?returnTo=` on an allowed origin, else the calling page's origin).
 *
 * That address is the BFF's own `GET /logout/end?handle=…` (routes/logout-end.ts), never the
 * provider's logout URL: this answer is readable by the calling page through CORS, and the provider's
 * URL carries the ID token as `id_token_hint`. The handle is that URL sealed for 60 s
 * (session/logout-handle.ts); the browser's navigation to it is redirected to the provider.
 *
 * POST /logout?everywhere=1 ("sign out everywhere") also ends every other
 * session of the user, on every browser and instance. It needs the store:
 * when the store is down it answers 503 and keeps the session, so the user
 * can try again.
 *
 * On the request's site: its cookies (the partitioned hand-off cookie too, cleared with its own
 * attributes), its allowed origins and post-logout target. Every session whose cookie the request
 * carries by name ends: the site cookie's and the partitioned cookie's.
 */
export function logoutRoute(router: RouteTable, deps: RouteDeps) {
  router.post('/logout', { csrf: true }, async (ctx) => {
    const site = siteOf(ctx);
    const cookie = ctx.get('Cookie');
    const query = new URLSearchParams(ctx.querystring);
    const everywhere = query.get('everywhere') === '1' || query.get('everywhere') === 'true';
    // The session the rest of the request's routes use first (its ID token names the provider session).
    const primary = site.cookiesFor(cookie);
    const present = site.cookiesIn(cookie).sort((a, b) => Number(b === primary) - Number(a === primary));
    const reads: ReadSession[] = [];
    for (const cookies of present) {
      const read = await readForLogout(cookies, cookie, everywhere);
      if (read) reads.push(read);
    }
    for (const read of reads) if (everywhere) await deps.sessions.endAllFor(read.session.user.sub);
    ctx.append('Set-Cookie', site.cookies.clear(cookie));
    if (site.partitioned) ctx.append('Set-Cookie', site.partitioned.clear(cookie));
    let logoutUrl: string | null = null;
    for (const { session } of reads) {
      try {
        await deps.sessions.end(session);
      } catch (err) {
        // The cookie is cleared anyway; only a stolen copy outlives the logout while the store is down.
        deps.logger.warn({ event: 'logout', sid: session.sid, cause: err instanceof Error ? err.message : String(err) }, 'could not deny-list the session');
      }
      deps.audit?.({ type: 'logout', sid: session.sid, sub: session.user.sub, everywhere, time: Date.now() });
      // Its open streams and sockets (and with everywhere, those of the user's other sessions) are told.
      await deps.live?.ended(session, everywhere ? 'everywhere' : 'logout');
      await deps.providers.forSessionOrNull(session)?.revoke({ accessToken: session.at, ...(session.rt ? { refreshToken: session.rt } : {}) });
      deps.logger.info({ event: 'logout', sid: session.sid }, 'signed out');
    }
    const first = reads[0]?.session;
    if (first) {
      const returnTo = query.get('returnTo');
      const postLogout = site.postLogoutRedirectUri ??
        safeRedirect(returnTo ?? `${ctx.get('Origin')}/`, site.allowedOrigins);
      const providerUrl = await deps.providers.forSessionOrNull(first)?.logoutUrl({ accessToken: first.at, ...(first.idt ? { idToken: first.idt } : {}) }, postLogout);
      if (providerUrl) {
        const handle = await issueLogoutHandle(deps.sessions, providerUrl, site.host);
        logoutUrl = `${site.baseUrl.href.replace(/\/$/, '')}/logout/end?handle=${encodeURIComponent(handle)}`;
      }
    }
    const body: LogoutResponse = { logoutUrl };
    ctx.body = body;
  });
}

/** The session a logout ends; with the store down, a plain logout still reads it (to clear it), sign-out everywhere waits (503). */
async function readForLogout(cookies: SessionCookies, cookie: string, everywhere: boolean): Promise<ReadSession | null> {
  try {
    return await cookies.read(cookie);
  } catch (err) {
    if (everywhere || !(err instanceof LatchError && err.code === 'LATCH_STORE_UNAVAILABLE')) throw err;
    return cookies.read(cookie, Date.now(), { denyList: false }).catch(() => null);
  }
}
