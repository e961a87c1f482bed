import * as oauth from 'oauth4webapi';
import { errors as joseErrors } from 'jose';
import { LatchError } from '../errors.ts';
import { KeySetUnavailable } from './keys.ts';

/** Options for every request to the authorization server: a timeout, and the loud http opt-out. */
export interface OutboundOptions {
  timeoutMs: number;
  allowInsecureHttp: boolean;
  /** Called with the duration of each outbound call (metrics). */
  observe?: (what: string, ms: number, ok: boolean) => void;
  /** Runs each outbound call inside a span (bff/tracing.ts, LATCH_TRACING=true). */
  trace?: <T>(what: string, run: () => Promise<T>) => Promise<T>;
}

export function requestOptions(opts: OutboundOptions) {
  return {
    signal: () => AbortSignal.timeout(opts.timeoutMs),
    [oauth.allowInsecureRequests]: opts.allowInsecureHttp,
  } as const;
}

/** Runs one outbound step, timing it (and tracing it) and translating failures into coded LatchErrors. */
export function outbound<T>(opts: OutboundOptions, what: string, step: () => Promise<T>): Promise<T> {
  return opts.trace ? opts.trace(what, () => timed(opts, what, step)) : timed(opts, what, step);
}

async function timed<T>(opts: OutboundOptions, what: string, step: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const value = await step();
    opts.observe?.(what, performance.now() - started, true);
    return value;
  } catch (err) {
    opts.observe?.(what, performance.now() - started, false);
    throw toLatchError(err, what);
  }
}

function isTimeout(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return true;
  return err.cause !== undefined && isTimeout(err.cause);
}

/** Steps whose answer carries an ID token (oauth4webapi checks its claims and header first). */
const ID_TOKEN_STEPS = new Set(['code exchange', 'refresh', 'password grant']);

/** Maps failures of oauth4webapi, jose and fetch onto the BFF's codes. Never loses the cause. */
export function toLatchError(err: unknown, what: string): LatchError {
  if (err instanceof LatchError) return err;
  if (err instanceof KeySetUnavailable) {
    // The server's keys, not the token: 5xx (logged as an error), and a refresh keeps the session.
    if (err.reason === 'timeout') return new LatchError('LATCH_UPSTREAM_TIMEOUT', 504, 'The authorization server\'s keys did not arrive in time.', { cause: err });
    if (err.reason === 'unreachable') return new LatchError('LATCH_UPSTREAM_UNAVAILABLE', 502, 'The authorization server\'s keys cannot be reached.', { cause: err });
    return new LatchError('LATCH_UPSTREAM_ERROR', 502, 'The authorization server\'s key set is unusable.', { cause: err });
  }
  if (isTimeout(err)) {
    return new LatchError('LATCH_UPSTREAM_TIMEOUT', 504, 'The authorization server did not answer in time.', { cause: err });
  }
  const grantCode = what === 'refresh' ? 'LATCH_REFRESH_FAILED' : 'LATCH_TOKEN_EXCHANGE_FAILED';
  if (err instanceof oauth.UnsupportedOperationError && ID_TOKEN_STEPS.has(what)) {
    // oauth4webapi's two refusals here: a token_type other than bearer and DPoP (its cause holds the
    // response body), or an ID token header it does not support (`crit`, an unknown alg).
    if (hasBody(err.cause)) return tokenTypeUnsupported(err);
    return new LatchError('LATCH_ID_TOKEN_INVALID', 400, 'The ID token did not verify.', { cause: err });
  }
  if (err instanceof oauth.ResponseBodyError) {
    // An OAuth error answer: the server works, the request was refused. invalid_client is our own
    // misconfiguration (502, and a refresh that fails so does not end the session); invalid_grant
    // and friends are about this user's grant (400).
    const status = err.status >= 500 || err.error === 'invalid_client' ? 502 : 400;
    return new LatchError(grantCode, status, `The authorization server refused the ${what} request (${err.error}).`, { cause: err });
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError && (what === 'refresh' || what === 'code exchange')) {
    // A 401 challenge at the token endpoint: the client's credentials were refused (client_secret_basic).
    return new LatchError(grantCode, 502, `The authorization server refused the client's credentials for the ${what} request.`, { cause: err });
  }
  if (err instanceof joseErrors.JOSEError) {
    if (what === 'userinfo') return new LatchError('LATCH_USERINFO_INVALID', 400, 'The signed userinfo answer did not verify.', { cause: err });
    return new LatchError('LATCH_ID_TOKEN_INVALID', 400, 'The ID token did not verify.', { cause: err });
  }
  if (err instanceof oauth.OperationProcessingError || err instanceof oauth.WWWAuthenticateChallengeError) {
    const code = (err as { code?: string }).code;
    if (code === oauth.INVALID_RESPONSE && ID_TOKEN_STEPS.has(what) && hasBody(err.cause)) {
      // The token response itself (access_token, token_type, expires_in...), checked before its ID token.
      return tokenResponseInvalid(err);
    }
    if (code === oauth.JWT_CLAIM_COMPARISON || code === oauth.JWT_TIMESTAMP_CHECK || code === oauth.INVALID_RESPONSE && ID_TOKEN_STEPS.has(what)) {
      return new LatchError('LATCH_ID_TOKEN_INVALID', 400, 'The ID token did not verify.', { cause: err });
    }
    if (what === 'userinfo' && (code === oauth.JSON_ATTRIBUTE_COMPARISON || (code === oauth.INVALID_RESPONSE && hasObjectBody(err.cause)))) {
      // A userinfo object about someone else, or naming no one (no `sub`). A body that is not an object
      // is no userinfo answer at all: LATCH_UPSTREAM_ERROR below.
      return new LatchError('LATCH_USERINFO_INVALID', 400, 'Userinfo did not identify the signed-in user.', { cause: err });
    }
    return new LatchError('LATCH_UPSTREAM_ERROR', 502, `The authorization server gave an unusable ${what} answer.`, { cause: err });
  }
  if (err instanceof TypeError && (err.message === 'fetch failed' || err.cause !== undefined)) {
    // fetch() network failure: connection refused, DNS, TLS. (oauth4webapi's own TypeErrors, for
    // malformed answers, carry no cause and fall through to LATCH_UPSTREAM_ERROR.)
    return new LatchError('LATCH_UPSTREAM_UNAVAILABLE', 502, 'The authorization server cannot be reached.', { cause: err });
  }
  return new LatchError('LATCH_UPSTREAM_ERROR', 502, `The ${what} step failed.`, { cause: err });
}

function hasBody(cause: unknown): boolean {
  return typeof cause === 'object' && cause !== null && 'body' in cause;
}

function hasObjectBody(cause: unknown): boolean {
  if (!hasBody(cause)) return false;
  const body = (cause as { body: unknown }).body;
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

/** A token response without a usable access_token or token_type: the server's answer is broken. */
function tokenResponseInvalid(cause?: unknown): LatchError {
  return new LatchError('LATCH_TOKEN_RESPONSE_INVALID', 502, 'The authorization server\'s token response is incomplete.', { cause });
}

function tokenTypeUnsupported(cause?: unknown): LatchError {
  return new LatchError('LATCH_TOKEN_TYPE_UNSUPPORTED', 502, 'The authorization server issued a token type other than Bearer.', { cause });
}

/**
 * Only Bearer tokens (RFC 6750), in any case, until sender-constrained tokens (DPoP, RFC 9449) are
 * supported: a DPoP-bound token sent as Bearer would fail at best, and teach the API to accept it so
 * at worst. oauth4webapi lower-cases token_type and lets `dpop` through; we do not.
 */
export function assertBearer(response: { token_type?: unknown }): void {
  if (typeof response.token_type !== 'string' || response.token_type.toLowerCase() !== 'bearer') {
    throw tokenTypeUnsupported(new Error(`token_type ${String(response.token_type)}`));
  }
}
