/**
 * Types shared between the BFF and the widget. The widget may only
 * `import type` from this file: nothing here exists at run time.
 */
import type { ERRORS } from './errors.ts';

/** Claims the BFF exposes to page JavaScript. Never tokens. */
export interface LatchUser {
  sub: string;
  name?: string;
  given_name?: string;
  family_name?: string;
  preferred_username?: string;
  email?: string;
  email_verified?: boolean;
  picture?: string;
  locale?: string;
  /** Further non-sensitive claims (org_id, roles, ...). */
  [claim: string]: unknown;
}

/** Body of `GET /me` (200). */
export interface MeResponse {
  user: LatchUser;
  /** When the session ends, epoch milliseconds. The widget warns ahead of it. */
  expiresAt: number;
  /**
   * Whether the BFF considers the calling page same-site with itself, from the request's
   * `Sec-Fetch-Site`: `same-origin`/`same-site` true, `cross-site` false, absent (older browsers,
   * non-browser clients) null. A page that is not same-site needs one of docs/embedding.md's ways.
   */
  sameSite?: boolean | null;
}

/** Body of `POST /logout` (200). */
export interface LogoutResponse {
  /**
   * Where the browser should go next (a top-level navigation, within 60 s) to end the session at the
   * authorization server too, or null when it has no sign-out page. Always the BFF's own
   * `GET /logout/end?handle=<opaque>`, which redirects to the server's sign-out page and adds the ID
   * token hint there: this answer never carries a token.
   */
  logoutUrl: string | null;
}

/**
 * Stable error codes: the keys of bff/errors.ts's table, which gives each one status and one message
 * (docs/api.md lists them). The widget maps some to words; tests assert on them. A type only: the
 * widget's bundle takes nothing of errors.ts.
 */
export type LatchErrorCode = keyof typeof ERRORS;

/** Body of every JSON error the BFF answers. */
export interface ErrorBody {
  error: { code: LatchErrorCode; message: string };
  /**
   * On `GET /me`'s 401 answers: what MeResponse's `sameSite` says, so that a signed-out page learns
   * where it stands (same-site with the BFF, or in need of docs/embedding.md) without signing in.
   */
  sameSite?: boolean | null;
}

/**
 * Codes the BFF appends to `returnTo` as `?latch_error=` after a failed
 * sign-in. Authorization-server errors pass through by their RFC 6749 name.
 */
export type LatchCallbackError =
  | 'access_denied'
  | 'invalid_request'
  | 'server_error'
  | 'login_required'
  | 'temporarily_unavailable'
  | 'interaction_required'
  | 'consent_required'
  | 'LATCH_STATE_MISMATCH'
  | 'LATCH_CALLBACK_INVALID'
  | 'LATCH_TOKEN_EXCHANGE_FAILED'
  | 'LATCH_UPSTREAM_UNAVAILABLE'
  | string;

/** The message the popup callback page posts to its opener. */
export interface LatchPopupMessage {
  type: 'latch:login';
  ok: boolean;
  error?: string;
  /**
   * The partitioned hand-off (`/login?handoff=<challenge>`): the one-time code to redeem with
   * `POST /handoff` (docs/embedding.md). No session cookie was set by the callback in that case.
   */
  code?: string;
  /** With `/login?proof=1`: the one-time sign-in proof to send with the next `/me` (`?proof=`). */
  proof?: string;
}

/** Body of `POST /handoff`: the code the popup posted, and the verifier whose S256 challenge started the sign-in. */
export interface HandoffRequest {
  code: string;
  verifier: string;
}

/** Header the BFF requires on state-changing requests. */
export const CSRF_HEADER = 'latch-csrf';
