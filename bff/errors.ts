import type { ErrorBody, LatchErrorCode } from './contract.ts';

/**
 * Every code the BFF answers with, its one HTTP status and its one public message: the only place
 * either is written. A page or an API client matches on the code (bff/contract.ts's LatchErrorCode is
 * this table's keys), and a person reads the message, so a message says what happened and, where
 * someone can, what to do; the specific reason of one failure goes to the log as the error's `detail`.
 * Two failures get two codes only where whoever reads the answer would act differently on them: a
 * refused grant (the user starts again) is LATCH_TOKEN_EXCHANGE_FAILED, a refused client (the operator
 * fixes the configuration) LATCH_CLIENT_REFUSED. docs/api.md lists this table (checked by
 * test/bff/errors.test.ts).
 */
export const ERRORS = {
  // The session
  LATCH_UNAUTHENTICATED: { status: 401, message: 'Not signed in.' },
  LATCH_SESSION_EXPIRED: { status: 401, message: 'The session has ended. Sign in again.' },
  LATCH_THIRD_PARTY_COOKIES_BLOCKED: {
    status: 401,
    message:
      'You signed in, but the browser does not send the BFF\'s session cookie with this page\'s requests: the page and the BFF are on different sites, and third-party cookies are blocked. ' +
      'Give the BFF a host name on the page\'s site, mount it under a path of that site, or use the partitioned hand-off: see docs/embedding.md.',
  },
  LATCH_INVALID_CREDENTIALS: { status: 401, message: 'The username or password is incorrect.' },
  LATCH_SESSION_TOO_LARGE: { status: 502, message: 'The session is too large to keep in cookies.' },
  LATCH_STORE_UNAVAILABLE: { status: 503, message: 'The session store is unavailable. Try again in a moment.' },

  // Who may call
  LATCH_CSRF: { status: 403, message: 'Missing the Latch-CSRF header.' },
  LATCH_ORIGIN_NOT_ALLOWED: { status: 403, message: 'This origin may not call the BFF.' },
  LATCH_UNKNOWN_SITE: { status: 421, message: 'This host name is not one of this BFF\'s sites (LATCH_SITES).' },
  LATCH_RATE_LIMITED: { status: 429, message: 'Too many requests. Try again shortly.' },

  // The request itself
  LATCH_BAD_REQUEST: { status: 400, message: 'The request is not valid.' },
  LATCH_NOT_FOUND: { status: 404, message: 'Not found.' },
  LATCH_METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed here.' },
  LATCH_REQUEST_TIMEOUT: { status: 408, message: 'The request body took too long to arrive.' },
  LATCH_BODY_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  LATCH_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the request body as application/json.' },
  LATCH_HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large. Clearing this site\'s cookies may help.' },

  // The sign-in
  LATCH_STATE_MISMATCH: { status: 400, message: 'This sign-in response does not belong to this browser, or it has expired. Start again.' },
  LATCH_CALLBACK_INVALID: { status: 400, message: 'The sign-in response is malformed.' },
  LATCH_ISSUER_MISMATCH: { status: 400, message: 'The sign-in response came from an unexpected issuer.' },
  LATCH_ID_TOKEN_INVALID: { status: 400, message: 'The ID token did not verify.' },
  LATCH_USERINFO_INVALID: { status: 400, message: 'Userinfo did not identify the signed-in user.' },
  LATCH_TOKEN_EXCHANGE_FAILED: { status: 400, message: 'The authorization server refused to complete the sign-in. Sign in again.' },
  LATCH_REFRESH_FAILED: { status: 400, message: 'The authorization server refused to refresh the session.' },
  LATCH_CLIENT_REFUSED: {
    status: 502,
    message: 'The authorization server refused this BFF\'s client (its ID, secret or grant type). The BFF\'s log names the setting to change.',
  },
  LATCH_SCOPE_REFUSED: { status: 502, message: 'The authorization server refused the scopes this BFF asks for. The BFF\'s log names the setting to change.' },
  LATCH_TOKEN_RESPONSE_INVALID: { status: 502, message: 'The authorization server\'s token response is not usable.' },
  LATCH_TOKEN_TYPE_UNSUPPORTED: { status: 502, message: 'The authorization server issued a token type other than Bearer.' },

  // The partitioned hand-off (docs/embedding.md)
  LATCH_HANDOFF_DISABLED: { status: 400, message: 'The partitioned hand-off is not enabled on this BFF (LATCH_HANDOFF=true).' },
  LATCH_HANDOFF_INVALID: { status: 400, message: 'This sign-in hand-off code is not valid, or has been used already. Sign in again.' },
  LATCH_HANDOFF_EXPIRED: { status: 400, message: 'This sign-in hand-off code has expired. Sign in again.' },
  LATCH_HANDOFF_ORIGIN: { status: 403, message: 'This sign-in hand-off code was issued to another page.' },
  LATCH_HANDOFF_VERIFIER: { status: 403, message: 'This sign-in hand-off code needs the verifier of the page that started the sign-in.' },

  // Several providers, and step-up (docs/providers.md)
  LATCH_PROVIDER_UNKNOWN: { status: 400, message: 'This sign-in provider is not offered here.' },
  LATCH_STEP_UP_REQUIRED: { status: 401, message: 'This needs a stronger or more recent sign-in.' },
  LATCH_STEP_UP_FAILED: { status: 400, message: 'The sign-in did not reach the level this needs.' },

  // The servers behind the BFF: the authorization server, and the APIs of /api/…
  LATCH_UPSTREAM_ERROR: { status: 502, message: 'The authorization server or API gave an unusable answer.' },
  LATCH_UPSTREAM_UNAVAILABLE: { status: 502, message: 'The authorization server or API cannot be reached.' },
  LATCH_UPSTREAM_TIMEOUT: { status: 504, message: 'The authorization server or API did not answer in time. Try again.' },

  // The BFF itself
  LATCH_ALB_MULTI_VALUE_HEADERS: {
    status: 500,
    message: 'This answer needs several cookies, which this load balancer cannot pass: turn on multi-value headers on its Lambda target group (lambda.multi_value_headers.enabled).',
  },
  LATCH_INTERNAL: { status: 500, message: 'Something went wrong on our side.' },
} as const satisfies Record<string, { status: number; message: string }>;

export interface LatchErrorOptions {
  /** The error behind this one, for the log only. */
  cause?: unknown;
  /** This failure's specific reason, for the log only (the answer carries the code's message). */
  detail?: string;
  /** Extra response headers (e.g. Retry-After, Allow). */
  headers?: Record<string, string>;
  /** Members of the JSON error body besides `error` (ErrorBody), e.g. `/me`'s `sameSite`. */
  body?: Omit<ErrorBody, 'error'>;
}

/**
 * The one error type the BFF answers with: a code of ERRORS, which gives its status and its public
 * `message`. `detail` and `cause` are for the log only. There is no way to give a status or a message
 * here: a failure that needs another one is another code.
 */
export class LatchError extends Error {
  readonly code: LatchErrorCode;
  readonly status: number;
  readonly expose = true;
  readonly detail: string | undefined;
  readonly headers: Record<string, string>;
  readonly body: Omit<ErrorBody, 'error'>;

  constructor(code: LatchErrorCode, options: LatchErrorOptions = {}) {
    const { status, message } = ERRORS[code];
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LatchError';
    this.code = code;
    this.status = status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
    this.body = options.body ?? {};
  }
}

/**
 * The client's own side of the transfer failed: it went away before its body was all there, or sent it
 * too slowly. Answered with its 4xx when anyone still listens, and logged at debug: it is not a server
 * fault, and anyone can cause it (an error line per aborted upload would page the on-call).
 */
export class ClientTransferError extends LatchError {}

/** An error for the log: its name and message, a LatchError's detail rather than its public message. */
export function describeError(err: Error): string {
  return `${err.name}: ${err instanceof LatchError ? (err.detail ?? err.message) : err.message}`;
}

/** Start-up configuration problems; each names its environment variable. */
export class ConfigError extends Error {
  readonly problems: ReadonlyArray<{ variable: string; problem: string }>;
  constructor(problems: Array<{ variable: string; problem: string }>) {
    super(
      'Invalid Latch configuration:\n' +
        problems.map((p) => `  ${p.variable}: ${p.problem}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
