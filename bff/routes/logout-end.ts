import type { RouteTable } from './table.ts';
import { openLogoutHandle } from '../session/logout-handle.ts';
import { siteOf } from '../sites.ts';
import type { RouteDeps } from './deps.ts';

/**
 * GET /logout/end?handle=…: the second half of RP-initiated logout (routes/logout.ts). The page
 * navigates here (top level) with the handle `POST /logout` gave it; the answer is a redirect to the
 * provider's logout URL with `id_token_hint` (or SCAYLE's signed JWT), which the handle carries
 * sealed. So the hint goes from the BFF to the browser's address bar, never through page JavaScript.
 *
 * - Its answer carries no CORS headers: a script's `fetch` of this address fails at the redirect (a
 *   CORS check applies to a redirect too), so no page can read where it leads, whatever the
 *   provider's own CORS. Only the browser's navigation follows it.
 * - A handle that is malformed, tampered, older than 60 s, issued by another site, or used before:
 *   no provider, a redirect to the site's post-logout page (LATCH_POST_LOGOUT_REDIRECT_URI, else its
 *   first allowed origin). The BFF session ended with `POST /logout` already. While the store is
 *   down a valid handle still leads to the provider (its single use cannot be checked then).
 */
export function logoutEndRoute(router: RouteTable, deps: RouteDeps) {
  router.get('/logout/end', { navigation: true }, async (ctx) => {
    const site = siteOf(ctx);
    for (const name of ['Access-Control-Allow-Origin', 'Access-Control-Allow-Credentials']) ctx.remove(name);
    const handle = new URLSearchParams(ctx.querystring).get('handle');
    const target = await openLogoutHandle(deps.sessions, handle, site.host, (err) =>
      deps.logger.warn({ event: 'logout-end', cause: err instanceof Error ? err.message : String(err) }, 'the store is down: a logout handle was opened without its single-use check'),
    );
    ctx.redirect(target ?? site.postLogoutRedirectUri ?? `${site.allowedOrigins[0]}/`);
  });
}
