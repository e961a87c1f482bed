/**
 * Silent sign-in (`<latch-login silent="true">`): when `/me` finds no session (or the session
 * expired), a sign-in with `prompt=none` that brings the user back without a click when the
 * provider still has their session, and ends quietly signed out when it has not.
 *
 * 1. In a hidden frame: `/login?prompt=none&mode=silent&returnTo=<this page>`, whose callback posts
 *    `{ type: 'latch:login', ok, error? }` to this page (accepted only from the BFF's origin and
 *    from that frame). `ok`: `/me` again, which signs in (`latch-login`, the other tabs told).
 *    `login_required`, `interaction_required`, `consent_required` (the provider has no session to
 *    use), or any other error: signed out, no error shown.
 * 2. Where the frame cannot work, the same sign-in as a top-level redirect, `/login?prompt=none&…`,
 *    which comes back signed in or with `latch_error=login_required` (signed out, no error shown):
 *    at once, back from the provider's sign-out page (../client/logout.ts); when the frame says
 *    nothing within 5 s (or the calls' `timeout`, if shorter: the BFF or the provider refuses to be
 *    framed, or the browser kept the frame's transaction cookie), or signed
 *    in but `/me` from the page still has no session (the browser keeps third-party cookies from
 *    the frame).
 *
 * At most once per page load and per 5 minutes (sessionStorage, so a redirect that comes back
 * without a session does not go again), and never after an explicit sign-out until the next sign-in
 * (localStorage, for the whole site: ../client/storage.ts). Meanwhile the session keeps its state:
 * `loading` on a page's first check, so that "Sign in" does not flash.
 *
 * A browser that keeps third-party cookies from frames (Safari, Firefox; Chrome when the user
 * blocks them) also keeps the provider's own cookie from the frame: the provider then answers
 * `login_required` as if it had no session, and the user stays signed out (docs/widget.md).
 *
 * "Stay signed in" (./expiry.ts) uses the frame alone (`asked`): never a redirect, which would
 * leave the page.
 *
 * Not in the bundle (dist/latch-silent.js): loaded when an element has `silent="true"` and `/me`
 * finds no session.
 */
import type { LatchPopupMessage } from '../../bff/contract.ts';
import { wait } from '../client/popup.ts';
import { loginUrl } from '../client/reauth.ts';
import type { LatchEndReason } from '../client/session.ts';
import { PROVIDER_SIGN_OUT, SIGNED_OUT, SILENT_AT, store } from '../client/storage.ts';
import type { LatchPort } from '../port.ts';

/**
 * How long the frame has at most to answer before the top-level variant is used (or, shorter, the
 * calls' `timeout`): a prompt=none round trip is two or three redirects, well under a second when
 * it works; a frame that is refused (X-Frame-Options, frame-ancestors) says nothing at all.
 */
export const FRAME_TIMEOUT = 5_000;
/** At most one attempt per this long, per tab. */
export const SILENT_EVERY = 5 * 60_000;

/**
 * Tries it; true when signed in. `reason`: why `/me` found no session; `el`: the element with
 * `silent="true"` (its `provider`, without the session's own). `asked`: "Stay signed in", by the
 * user: the frame only, whatever the limits.
 */
export type Silent = (port: LatchPort, reason: LatchEndReason | null, el?: Element | null, asked?: boolean) => Promise<boolean>;

/** The frame's answer, or undefined when it gave none in time. */
function frame(port: LatchPort, url: string): Promise<LatchPopupMessage | undefined> {
  const f = document.createElement('iframe');
  f.hidden = true;
  f.tabIndex = -1;
  f.setAttribute('aria-hidden', 'true');
  f.title = 'Silent sign-in';
  f.src = url;
  document.body.append(f);
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    wait(f.contentWindow!, port.config.bff),
    new Promise<undefined>((done) => (timer = setTimeout(() => done(undefined), Math.min(FRAME_TIMEOUT, port.config.timeout)))),
  ]).finally(() => {
    clearTimeout(timer);
    f.remove();
  });
}

const silent: Silent = async (port, reason, el, asked) => {
  const { state, page, io, apply, refresh } = port;
  let recent = false;
  let back = false;
  store(() => {
    const at = sessionStorage.getItem(SILENT_AT);
    back = at == PROVIDER_SIGN_OUT;
    recent = !!localStorage.getItem(SIGNED_OUT) || (!back && Date.now() - Number(at) < SILENT_EVERY);
  });
  if (!asked && (page['silent'] || recent)) {
    apply(null, false, reason);
    return false;
  }
  page['silent'] = true;
  store(() => sessionStorage.setItem(SILENT_AT, String(Date.now())));
  const params = { prompt: 'none', provider: state.provider || el?.getAttribute('provider') || undefined };
  // Back from the provider's sign-out page: straight to the top-level variant. A provider on
  // another site than the page never gets its SameSite=Lax cookie in a frame, so the frame would say
  // login_required to a user who chose "Stay signed in" there.
  const msg = back && !asked ? undefined : await frame(port, loginUrl(port, { ...params, mode: 'silent' }));
  if (msg?.ok) {
    await refresh(true);
    if (state.user) return true;
  } else if (msg) {
    // The provider has no session to use (or said no): signed out, quietly.
    if (!asked) apply(null, false, reason);
    return false;
  }
  // proof=1: back with `latch_proof`, a sign-in sends `latch-login` (see the session's start()).
  if (!asked) io.go(loginUrl(port, { ...params, proof: '1' }));
  return false;
};

export default silent;
