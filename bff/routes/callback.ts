import type { RouteTable } from './table.ts';
import type { Context } from 'koa';
import type { LatchPopupMessage } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { popupResultPage, silentResultPage } from '../pages.ts';
import { CallbackError } from '../providers/oidc.ts';
import type { LoginTransaction } from '../providers/provider.ts';
import { checkSignIn } from '../oauth/step-up.ts';
import type { SessionCookies } from '../session/session-cookies.ts';
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
    const found = await findTransaction(callbackUrl, states[0], ctx.get('Cookie'), cookies, deps);
    if (!found) {
      throw new LatchError('LATCH_STATE_MISMATCH', { detail: 'No transaction cookie for this state: another browser\'s, or expired.' });
    }
    const { tx, state } = found;
    // The transaction is single use, whatever happens next.
    ctx.append('Set-Cookie', cookies.clearTransaction(ctx.get('Cookie'), state));
    // The provider the sign-in was started with, and no other: its iss (RFC 9207), token endpoint and
    // keys judge this answer (the mix-up defence of RFC 9700 §4.4).
    const ref = deps.providers.refOf({ ...(tx.provider ? { pv: tx.provider } : {}), ...(tx.tenant ? { pvt: tx.tenant } : {}) });
    const provider = deps.providers.get(ref);
    // The state the callback claims must be the one this provider reads (a SCAYLE state is not another's).
    if ((provider.callbackState ? provider.callbackState(callbackUrl) ?? '' : states[0]) !== state) {
      throw new LatchError('LATCH_STATE_MISMATCH', { detail: 'The callback\'s state is not read the way its provider writes it.' });
    }

    let result;
    try {
      result = await provider.handleCallback(callbackUrl, tx);
      checkSignIn(tx, result);
    } catch (err) {
      if (err instanceof LatchError && err.code === 'LATCH_STEP_UP_FAILED') {
        // The provider signed the user in below what was asked (or ignored it): no session, and back to
        // the page, which asked and shows it. A session the browser had goes on unchanged.
        deps.logger.warn({ event: 'step-up-failed', provider: ref.name, detail: err.detail }, 'sign-in did not reach the level asked for');
        return finish(ctx, tx, { type: 'latch:login', ok: false, error: err.code });
      }
      if (err instanceof CallbackError) {
        // The server refused (access_denied, login_required...): back to the page, which shows it.
        deps.logger.info({ reason: err.reason }, 'sign-in refused by the authorization server');
        return finish(ctx, tx, { type: 'latch:login', ok: false, error: err.reason });
      }
      // A hidden iframe shows no error page: its parent hears the code (and the log has the detail).
      if (tx.mode === 'silent' && err instanceof LatchError) {
        deps.logger.warn({ code: err.code, detail: err.detail }, 'silent sign-in failed');
        return finish(ctx, tx, { type: 'latch:login', ok: false, error: err.code });
      }
      throw err;
    }
    const { code, proof } = await signIn(ctx, deps, { ...result, provider: ref }, {
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
  if (tx.mode === 'popup' || tx.mode === 'silent') {
    const origin = new URL(tx.returnTo).origin;
    const page = tx.mode === 'popup' ? popupResultPage(message, origin, target.href) : silentResultPage(message, origin, siteOf(ctx).allowedOrigins);
    // The silent page lives in the site's iframe: its CSP's frame-ancestors says by whom; X-Frame-Options
    // (DENY on every other answer) could not name them.
    if (tx.mode === 'silent') ctx.res.removeHeader('X-Frame-Options');
    ctx.set('Content-Security-Policy', page.csp);
    ctx.type = 'html';
    ctx.body = page.html;
    return;
  }
  ctx.redirect(target.href);
}

/**
 * The transaction the callback claims, and the state it is filed under: the `state` parameter, or
 * for a server that wraps it (SCAYLE) the state that server's provider reads from the callback.
 */
async function findTransaction(url: URL, plain: string, cookieHeader: string, cookies: SessionCookies, deps: RouteDeps): Promise<{ tx: LoginTransaction; state: string } | null> {
  for (const state of deps.providers.callbackStates(url, plain)) {
    const tx = await cookies.readTransaction(cookieHeader, state);
    if (tx) return { tx, state };
  }
  return null;
}
