import type { RouteTable } from './table.ts';
import type { Context } from 'koa';
import type { LatchPopupMessage } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { popupResultPage } from '../pages.ts';
import { CallbackError } from '../providers/oidc.ts';
import type { LoginTransaction } from '../providers/provider.ts';
import { siteOf } from '../sites.ts';
import type { RouteDeps } from './deps.ts';
import { signIn } from './flows.ts';

/**
 * GET /callback: the authorization server sends the browser here.
 * Without a matching transaction cookie it is forged or stale: 400, no cookie.
 * With one, the provider checks state/iss, exchanges the code and verifies
 * the tokens; then the session cookie is set and the browser goes back.
 * Everything happens on the request's site (its redirect URI and cookies).
 *
 * A sign-in asked with `proof=1` hands the page a one-time proof of it (`latch_proof=` on the way
 * back, or `proof` in the popup's message). A hand-off sign-in (`handoff=`) sets no session cookie:
 * the session waits, for 60 s and one redemption, behind a code posted to the opener's exact origin.
 */
export function callbackRoute(router: RouteTable, deps: RouteDeps) {
  router.get('/callback', { navigation: true, rateLimited: true, signIn: true }, async (ctx) => {
    const site = siteOf(ctx);
    const cookies = site.cookies;
    const callbackUrl = new URL(ctx.originalUrl, site.redirectUri);
    const states = callbackUrl.searchParams.getAll('state');
    if (states.length !== 1 || !states[0]) {
      throw new LatchError('LATCH_CALLBACK_INVALID', { detail: 'The sign-in response has no single state.' });
    }
    // Servers that wrap the state (SCAYLE) say which transaction the callback claims.
    const state = deps.provider.callbackState ? (deps.provider.callbackState(callbackUrl) ?? '') : states[0];
    const tx = await cookies.readTransaction(ctx.get('Cookie'), state);
    if (!tx) {
      throw new LatchError('LATCH_STATE_MISMATCH', { detail: 'No transaction cookie for this state: another browser\'s, or expired.' });
    }
    // The transaction is single use, whatever happens next.
    ctx.append('Set-Cookie', cookies.clearTransaction(ctx.get('Cookie'), state));

    let result;
    try {
      result = await deps.provider.handleCallback(callbackUrl, tx);
    } catch (err) {
      if (err instanceof CallbackError) {
        // The server refused (access_denied, login_required...): back to the page, which shows it.
        deps.logger.info({ reason: err.reason }, 'sign-in refused by the authorization server');
        return finish(ctx, tx, { type: 'latch:login', ok: false, error: err.reason });
      }
      throw err;
    }
    const { code, proof } = await signIn(ctx, deps, result, {
      ...(tx.proof ? { proof: true } : {}),
      ...(tx.handoff ? { handoff: { challenge: tx.handoff, origin: new URL(tx.returnTo).origin, host: site.host } } : {}),
    });
    const message: LatchPopupMessage = { type: 'latch:login', ok: true, ...(code ? { code } : {}), ...(proof ? { proof } : {}) };
    return finish(ctx, tx, message);
  });
}

/** Back to the page: a redirect, or for popups a page that messages the opener's exact origin. */
function finish(ctx: Context, tx: LoginTransaction, message: LatchPopupMessage) {
  const target = new URL(tx.returnTo);
  if (!message.ok && message.error) target.searchParams.set('latch_error', message.error);
  // The proof may travel in the address (the page removes it); a hand-off code never does.
  if (message.proof) target.searchParams.set('latch_proof', message.proof);
  if (tx.mode === 'popup') {
    const page = popupResultPage(message, new URL(tx.returnTo).origin, target.href);
    ctx.set('Content-Security-Policy', page.csp);
    ctx.type = 'html';
    ctx.body = page.html;
    return;
  }
  ctx.redirect(target.href);
}
