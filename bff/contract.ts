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
  /**
   * The provider the session signed in with (`default` for the single-provider variables). Optional
   * here only while the BFF's side of wave 3 lands: the contract has it on every 200, and the widget
   * takes a missing one as null (a BFF of before wave 3).
   */
  provider?: string;
  /** The ID token's `acr` (the authentication context class the provider reports), when it has one. */
  acr?: string;
  /** The ID token's `auth_time`: when the user last authenticated at the provider, epoch seconds. */
  authTime?: number;
}

/** One provider a site offers, in `GET /providers`. */
export interface LatchProvider {
  name: string;
  label: string;
  /** An https or data: URL. */
  icon?: string;
}

/** Body of `GET /providers` (200): the providers this site offers, in configured order. */
export interface ProvidersResponse {
  providers: LatchProvider[];
}

/** What a request needs beyond the session it has: the body's `stepUp` of 401 LATCH_STEP_UP_REQUIRED. */
export interface StepUpRequirement {
  /** Acceptable `acr` values (any one of them). */
  acr?: string[];
  /** The longest acceptable time since `auth_time`, in seconds. */
  maxAge?: number;
}

/** Body of 401 LATCH_STEP_UP_REQUIRED (with `WWW-Authenticate: Bearer error="insufficient_user_authentication", ...`). */
export interface StepUpErrorBody extends ErrorBody {
  stepUp: StepUpRequirement;
}

/** One of the signed-in user's sessions, in `GET /sessions`. Times are epoch milliseconds. */
export interface LatchSessionInfo {
  /** An opaque public id (not the session's secret id): `DELETE /sessions/<id>` ends it. */
  id: string;
  createdAt: number;
  lastSeenAt: number;
  provider: string;
  /** A device label from the User-Agent, computed once at sign-in ("Firefox on Linux"). */
  device: string;
  /** Whether this is the session of the request. */
  current: boolean;
}

/** Body of `GET /sessions` (200). */
export interface SessionsResponse {
  sessions: LatchSessionInfo[];
}

/** Why a session ended, in `GET /events`' `session-ended`. */
export type SessionEndReason = 'logout' | 'backchannel' | 'revoked' | 'expired' | 'everywhere';

/** `data` of `GET /events`' `event: session-ended` (the server then closes the stream). */
export interface SessionEndedEvent {
  reason: SessionEndReason;
}

/** `data` of `GET /events`' `event: session-updated` (refreshed claims). */
export interface SessionUpdatedEvent {
  user: LatchUser;
  expiresAt: number;
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
  | 'LATCH_PROVIDER_UNKNOWN'
  | 'LATCH_STEP_UP_FAILED'
  | string;

/**
 * The message the popup callback page posts to its opener; with `/login?mode=silent` (a hidden
 * iframe), the same message to its parent, `error` being `login_required`, `interaction_required` or
 * `consent_required` when the provider has no session to use.
 */
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
