import type Router from '@koa/router';
import type { LogoutResponse } from '../contract.ts';
import { requireCsrf } from '../middleware/security.ts';
import { safeRedirect } from '../redirects.ts';
import type { RouteDeps } from './deps.ts';

/**
 * POST /logout (CSRF-protected): clears the session cookie whatever else
 * happens, revokes what the server lets us revoke, and answers where the
 * browser should go to end the session at the server too.
 */
export function logoutRoute(router: Router, deps: RouteDeps) {
  router.post('/logout', requireCsrf(deps.config.allowedOrigins), async (ctx) => {
    const read = await deps.sessions.read(ctx.get('Cookie'));
    ctx.append('Set-Cookie', deps.sessions.clear());
    let logoutUrl: string | null = null;
    if (read) {
      const { session } = read;
      await deps.provider.revoke({ accessToken: session.at, ...(session.rt ? { refreshToken: session.rt } : {}) });
      const postLogout = deps.config.postLogoutRedirectUri ?? safeRedirect(`${ctx.get('Origin')}/`, deps.config.allowedOrigins);
      logoutUrl = await deps.provider.logoutUrl({ accessToken: session.at, ...(session.idt ? { idToken: session.idt } : {}) }, postLogout);
      deps.logger.info({ event: 'logout', sid: session.sid }, 'signed out');
    }
    const body: LogoutResponse = { logoutUrl };
    ctx.body = body;
  });
}
