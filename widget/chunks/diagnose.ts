/**
 * Why a call to the BFF failed, for the two failures that are the deployment's, not the user's: a
 * retry cannot help, only the site's owner can. Each is said in the console with its fix, and shown
 * with words of its own (the English ones are here; de, fr and es have theirs in their language
 * files; `latch.configure({ strings })` overrides them all).
 *
 * LATCH_THIRD_PARTY_COOKIES_BLOCKED: signed in, but the browser keeps the BFF's session cookie from
 * this page (a BFF on another site). The BFF's message names the fix (or the hand-off's, when even
 * the partitioned cookie was refused); it goes to the console as it is.
 *
 * No answer at all. A BFF that does not list the page's origin in LATCH_ALLOWED_ORIGINS answers
 * without CORS headers, and the browser hides that answer from the page: the fetch fails exactly as
 * it does when the BFF is down ("The sign-in service cannot be reached"), and the real cause shows
 * only in the console's CORS error, which names no setting. A page opened at http://127.0.0.1:8080
 * instead of http://localhost:8080 is enough. Two requests to `/healthz` (public, no session) tell
 * the two apart:
 * 1. `mode: 'no-cors'`: resolves, with an opaque answer, whenever the server answered at all;
 *    rejects when nothing answered (down, a wrong host, a certificate error, a CSP refusal);
 * 2. CORS without credentials: the BFF sends `Access-Control-Allow-Origin` to an allowed origin
 *    whatever the credentials, so this resolves only when the page's origin is allowed.
 * Answered (1) and refused (2): the BFF is up and refuses this origin. Anything else (both fine: a
 * slow or passing failure; neither: an outage) leaves the widget's LATCH_UNREACHABLE as it was.
 *
 * Not in the bundle: the build writes this module as dist/latch-diagnose.js, which the session
 * imports from beside the bundle only after such a failure. So the built file imports nothing
 * (vite.config.ts fails the build if it does): it finds the session's configuration (the BFF's URL,
 * the timeout), the English string table (to which it adds its words) and the session's `failed`
 * in the port (../port.ts).
 */
import type { LatchPort } from '../port.ts';
import type { LatchError } from '../client/bff.ts';

/**
 * Ends in the session's `failed(code, 'bff')`: LATCH_THIRD_PARTY_COOKIES_BLOCKED as it came;
 * LATCH_ORIGIN_NOT_ALLOWED when the BFF answered but refused this page's origin; else
 * LATCH_UNREACHABLE.
 */
export type Diagnose = (port: LatchPort, e: LatchError) => Promise<void>;

/** Its words in English (de, fr and es have theirs in their language files). */
export const words = {
  LATCH_ORIGIN_NOT_ALLOWED: 'This site is not allowed by the sign-in service.',
  LATCH_THIRD_PARTY_COOKIES_BLOCKED: 'Signed in, but your browser blocks the sign-in on this page. Only the site owner can fix this.',
};

const diagnose: Diagnose = async ({ config: { bff, timeout }, en, failed }, { code, message }) => {
  Object.assign(en, { ...words, ...en }); // its words where English has none yet
  if (code == 'LATCH_THIRD_PARTY_COOKIES_BLOCKED') {
    console.error('latch: ' + message);
    return failed(code, 'bff');
  }
  const answered = (init: RequestInit) =>
    fetch(bff + '/healthz', { ...init, credentials: 'omit', signal: AbortSignal.timeout(timeout) }).then(
      () => true,
      () => false,
    );
  if (!(await answered({ mode: 'no-cors' })) || (await answered({}))) return failed('LATCH_UNREACHABLE', 'bff');
  const origin = location.origin;
  console.error(
    `latch: the sign-in service at ${bff} is up, but does not allow this page's origin, ${origin}. ` +
      `Add ${origin} to LATCH_ALLOWED_ORIGINS on the BFF (with LATCH_SITES: to the site's allowedOrigins), ` +
      `or open this page at an origin it allows.`,
  );
  failed('LATCH_ORIGIN_NOT_ALLOWED', 'bff');
};

export default diagnose;
