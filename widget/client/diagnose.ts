/**
 * Why a call to the BFF got no answer. A BFF that does not list the page's origin in
 * LATCH_ALLOWED_ORIGINS answers without CORS headers, and the browser hides that answer from the
 * page: the fetch fails exactly as it does when the BFF is down ("The sign-in service cannot be
 * reached"), and the real cause shows only in the console's CORS error, which names no setting.
 * A page opened at http://127.0.0.1:8080 instead of http://localhost:8080 is enough.
 *
 * Two requests to `/healthz` (public, no session) tell the two apart:
 * 1. `mode: 'no-cors'`: resolves, with an opaque answer, whenever the server answered at all;
 *    rejects when nothing answered (down, a wrong host, a certificate error, a CSP refusal);
 * 2. CORS without credentials: the BFF sends `Access-Control-Allow-Origin` to an allowed origin
 *    whatever the credentials, so this resolves only when the page's origin is allowed.
 * Answered (1) and refused (2): the BFF is up and refuses this origin. Anything else (both fine: a
 * slow or passing failure; neither: an outage) leaves the widget's LATCH_UNREACHABLE as it was.
 *
 * Not in the bundle: the build writes this module as dist/latch-diagnose.js, which the session
 * imports from beside the bundle only after a call to the BFF failed without an answer. So the
 * built file imports nothing (vite.config.ts fails the build if it does): it finds the session's
 * configuration (the BFF's URL, the timeout) and the English string table in the port
 * (../port.ts), and adds its words to that table (the language files de, fr, es carry theirs;
 * `latch.configure({ strings })` overrides them all).
 */
import type { LatchPort } from '../port.ts';

/**
 * Ends in the session's `failed(code, 'bff')`: LATCH_ORIGIN_NOT_ALLOWED when the BFF answered
 * but refused this page's origin (said in the console too), else LATCH_UNREACHABLE.
 */
export type Diagnose = (port: LatchPort) => Promise<void>;

/** Its words in English (de, fr and es have theirs in their language files). */
export const words = { LATCH_ORIGIN_NOT_ALLOWED: 'This site is not allowed by the sign-in service.' };

const diagnose: Diagnose = async ({ config: { bff, timeout }, en, failed }) => {
  const answered = (init: RequestInit) =>
    fetch(bff + '/healthz', { ...init, credentials: 'omit', signal: AbortSignal.timeout(timeout) }).then(
      () => true,
      () => false,
    );
  if (!(await answered({ mode: 'no-cors' })) || (await answered({}))) return failed('LATCH_UNREACHABLE', 'bff');
  Object.assign(en, { ...words, ...en }); // its words where English has none yet
  const origin = location.origin;
  console.error(
    `latch: the sign-in service at ${bff} is up, but does not allow this page's origin, ${origin}. ` +
      `Add ${origin} to LATCH_ALLOWED_ORIGINS on the BFF (with LATCH_SITES: to the site's allowedOrigins), ` +
      `or open this page at an origin it allows.`,
  );
  failed('LATCH_ORIGIN_NOT_ALLOWED', 'bff');
};

export default diagnose;
