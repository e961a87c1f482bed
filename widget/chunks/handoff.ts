/**
 * The partitioned-cookie hand-off (docs/embedding.md), for a page whose BFF is on another site and
 * cannot have a host name or a path on the page's site. `<latch-login mode="handoff">` (or
 * `latch.login({ mode: 'handoff' })`) signs in through it:
 *
 * 1. a random verifier stays in this page's memory; its S256 challenge goes to
 *    `/login?mode=popup&handoff=<challenge>` in the popup the session opened in the click;
 * 2. the popup signs in at the BFF's own origin; the callback sets no cookie, and posts a
 *    one-time code to this page's exact origin;
 * 3. the code and the verifier are redeemed with a credentialed `POST /handoff` (Latch-CSRF);
 * 4. the BFF answers like `/me`, with its session cookie `Partitioned; SameSite=None; Secure`,
 *    which the browser keeps in this site's partition and sends with the page's later calls;
 * 5. `/me`, with that cookie, confirms it: only then is the page signed in. A browser that refuses
 *    even a partitioned cookie ends in LATCH_THIRD_PARTY_COOKIES_BLOCKED, said in the console too.
 *
 * Not in the bundle: the build writes this module as dist/latch-handoff.js, which the session
 * imports from beside the bundle at the first such sign-in. So the built file imports nothing
 * (vite.config.ts fails the build if it does): what it needs of the session is in the port
 * (../port.ts).
 */
import type { HandoffRequest, MeResponse } from '../../bff/contract.ts';
import type { LatchPort } from '../port.ts';
import { CSRF_HEADER, LatchError, request } from '../client/bff.ts';
import { wait } from '../client/popup.ts';

/**
 * Runs one hand-off sign-in in `win` (null: the browser blocked the popup), the popup the session
 * opened in the click, to `url` (the BFF's `/login?...`). It ends through the port: `failed(code)`
 * (a failed sign-in, whose Retry signs in again), `fail(error)` (the BFF's answer, whose Retry asks
 * `/me`), `apply(me, true)`, or `refresh(true)` (closed: ask `/me`).
 */
export type Handoff = (port: LatchPort, win: Window | null, url: string) => Promise<void>;

/** base64url without padding. */
const b64url = (bytes: ArrayBuffer | Uint8Array): string =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

const handoff: Handoff = async ({ config, failed, fail, apply, refresh }, win, url) => {
  // Without a popup there is no hand-off (and a redirect would bring no cookie back to this page).
  if (!win) return failed('LATCH_POPUP_BLOCKED');
  let verifier: string;
  try {
    // 32 random bytes, as RFC 7636 suggests; crypto.subtle needs a secure context (https), as partitioned cookies do.
    verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
    const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    win.location.href = url + '&mode=popup&handoff=' + challenge;
  } catch {
    win.close();
    return failed('LATCH_INSECURE_CONTEXT');
  }
  const msg = await wait(win, config.bff);
  if (msg && !msg.ok) return failed(msg.error || 'server_error');
  // Closed without a code: ask /me, which finds a session only if an earlier hand-off left one.
  if (!msg?.code) return refresh(true);
  const body: HandoffRequest = { code: msg.code, verifier };
  let redeemed = false;
  try {
    await request<MeResponse>(
      config.bff + '/handoff',
      { method: 'POST', headers: { 'Content-Type': 'application/json', [CSRF_HEADER]: '1' }, body: JSON.stringify(body) },
      config.timeout,
    );
    redeemed = true;
    // Signed in only if the browser kept the cookie and sends it: ask /me with it.
    return apply(await request<MeResponse>(config.bff + '/me', {}, config.timeout), true);
  } catch (e) {
    const { code, status } = e as LatchError;
    if (!(redeemed && status == 401)) return failed(code);
    // The BFF set the cookie, and the browser does not send it back even in this site's partition:
    // the BFF's answer (source 'bff', as docs/widget.md says), whose Retry asks /me, not a new popup;
    // the diagnosis says this message in the console.
    return fail(
      new LatchError(
        'LATCH_THIRD_PARTY_COOKIES_BLOCKED',
        status,
        'signed in, but this browser refused the partitioned session cookie (Partitioned; SameSite=None; Secure), so this page cannot use the session. See docs/embedding.md.',
      ),
    );
  }
};

export default handoff;
