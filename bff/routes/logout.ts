import type { RouteTable } from './table.ts';
import type { LogoutResponse } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { requireCsrf } from '../middleware/security.ts';
import { safeRedirect } from '../redirects.ts';
import { siteOf } from '../sites.ts';
import type { RouteDeps } from './deps.ts';

/**
 * POST /logout (CSRF-protected): clears the session cookie (every chunk)
 * whatever else happens, puts the session id on the deny-list so a copy of
 * the cookie is refused on every instance, revokes what the server lets us
 * revoke, and answers where the browser should go to end the session at the
 * server too (`?returnTo=` on an allowed origin, else the calling page's origin).
 *
 * POST /logout?everywhere=1 ("sign out everywhere") also ends every other
 * session of the user, on every browser and instance. It needs the store:
 * when the store is down it answers 503 and keeps the session, so the user
 * can try again.
 *
 * On the request's site: its cookies (the partitioned hand-off cookie too, cleared with its own
 * attributes), its allowed origins and post-logout target.
 */
export function logoutRoute(router: RouteTable, deps: RouteDeps) {
  router.post('/logout', requireCsrf(deps.config.allowedOrigins), async (ctx) => {
    const site = siteOf(ctx);
    const sessions = site.sessionsFor(ctx.get('Cookie'));
    const query = new URLSearchParams(ctx.querystring);
    const everywhere = query.get('everywhere') === '1' || query.get('everywhere') === 'true';
    let read: Awaited<ReturnType<typeof deps.sessions.read>>;
    try {
      read = await sessions.read(ctx.get('Cookie'));
    } catch (err) {
      // The store is down: sign-out everywhere must wait (503), a plain logout still clears this browser.
      if (everywhere || !(err instanceof LatchError && err.code === 'LATCH_STORE_UNAVAILABLE')) throw err;
      read = await sessions.read(ctx.get('Cookie'), Date.now(), { denyList: false }).catch(() => null);
    }
    if (read && everywhere) await sessions.endAllFor(read.session.user.sub);
    ctx.append('Set-Cookie', site.sessions.clear(ctx.get('Cookie')));
    if (site.partitioned) ctx.append('Set-Cookie', site.partitioned.clear(ctx.get('Cookie')));
    let logoutUrl: string | null = null;
    if (read) {
      const { session } = read;
      try {
        await sessions.end(session);
      } catch (err) {
        // The cookie is cleared anyway; only a stolen copy outlives the logout while the store is down.
        deps.logger.warn({ event: 'logout', sid: session.sid, cause: err instanceof Error ? err.message : String(err) }, 'could not deny-list the session');
      }
      deps.audit?.({ type: 'logout', sid: session.sid, sub: session.user.sub, everywhere, time: Date.now() });
      await deps.provider.revoke({ accessToken: session.at, ...(session.rt ? { refreshToken: session.rt } : {}) });
      const returnTo = query.get('returnTo');
      const postLogout = site.postLogoutRedirectUri ??
        safeRedirect(returnTo ?? `${ctx.get('Origin')}/`, site.allowedOrigins);
      logoutUrl = await deps.provider.logoutUrl({ accessToken: session.at, ...(session.idt ? { idToken: session.idt } : {}) }, postLogout);
      deps.logger.info({ event: 'logout', sid: session.sid }, 'signed out');
    }
    const body: LogoutResponse = { logoutUrl };
    ctx.body = body;
  });
}
