import * as oauth from 'oauth4webapi';
import { errors as joseErrors } from 'jose';
import { LatchError } from '../errors.ts';
import { httpFetch } from './http-fetch.ts';
import { KeySetUnavailable } from './keys.ts';

/**
 * The steps of talking to an authorization server, each a label of the metrics (`step`) and the span
 * names (bff/tracing.ts), and what toLatchError() chooses codes by: a grant's refusal is the grant's
 * code, a JOSE failure is the userinfo's or the ID token's. A closed set, so that a step misspelled
 * is a type error rather than a failure coded as another step's. `id token`, `logout token` and
 * `userinfo` are also the verification of a JWT, against the key set fetched in `jwks`.
 */
export type OutboundStep =
  | 'discovery'
  | 'jwks'
  | 'code exchange'
  | 'password grant'
  | 'refresh'
  | 'client credentials'
  | 'id token'
  | 'logout token'
  | 'userinfo'
  | 'revocation'
  | 'pushed authorization'
  | 'token exchange';

/** Options for every request to the authorization server: a timeout, and the loud http opt-out. */
export interface OutboundOptions {
  timeoutMs: number;
  allowInsecureHttp: boolean;
  /** Called with the duration of each outbound call (metrics). */
  observe?: (what: OutboundStep, ms: number, ok: boolean) => void;
  /** Runs each outbound call inside a span (bff/tracing.ts, LATCH_TRACING=true). */
  trace?: <T>(what: OutboundStep, run: () => Promise<T>) => Promise<T>;
}

export function requestOptions(opts: OutboundOptions) {
  return {
    // node:http with the timeout built in, not Node's fetch (http-fetch.ts: ~0.3 ms less CPU a call).
    [oauth.customFetch]: fetchFor(opts),
    [oauth.allowInsecureRequests]: opts.allowInsecureHttp,
  } as const;
}

const fetchers = new WeakMap<OutboundOptions, typeof fetch>();
function fetchFor(opts: OutboundOptions): typeof fetch {
  let f = fetchers.get(opts);
  if (!f) fetchers.set(opts, (f = httpFetch(opts.timeoutMs)));
  return f;
}

/** Runs one outbound step, timing it (and tracing it) and translating failures into coded LatchErrors. */
export function outbound<T>(opts: OutboundOptions, what: OutboundStep, step: () => Promise<T>): Promise<T> {
  return opts.trace ? opts.trace(what, () => timed(opts, what, step)) : timed(opts, what, step);
}

async function timed<T>(opts: OutboundOptions, what: OutboundStep, step: () => Promise<T>): Promise<T> {
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
const ID_TOKEN_STEPS: ReadonlySet<OutboundStep> = new Set(['code exchange', 'refresh', 'password grant']);

/**
 * The code of a grant the token endpoint refused (invalid_grant and friends: about this user's grant,
 * 400). A refused refresh ends the session (session/refresh.ts); any other step's refusal (a sign-in's
 * code, a password, a client-credentials or a revocation request) is LATCH_TOKEN_EXCHANGE_FAILED.
 */
export function refusedGrant(what: OutboundStep): 'LATCH_REFRESH_FAILED' | 'LATCH_TOKEN_EXCHANGE_FAILED' {
  return what === 'refresh' ? 'LATCH_REFRESH_FAILED' : 'LATCH_TOKEN_EXCHANGE_FAILED';
}

/** Maps failures of oauth4webapi, jose and fetch onto the BFF's codes. Never loses the cause. */
export function toLatchError(err: unknown, what: OutboundStep): LatchError {
  if (err instanceof LatchError) return err;
  const cause = { cause: err };
  if (err instanceof KeySetUnavailable) {
    // The server's keys, not the token: 5xx (logged as an error), and a refresh keeps the session.
    if (err.reason === 'timeout') return new LatchError('LATCH_UPSTREAM_TIMEOUT', { detail: 'The authorization server\'s keys did not arrive in time.', ...cause });
    if (err.reason === 'unreachable') return new LatchError('LATCH_UPSTREAM_UNAVAILABLE', { detail: 'The authorization server\'s keys cannot be reached.', ...cause });
    return new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'The authorization server\'s key set is unusable.', ...cause });
  }
  if (isTimeout(err)) {
    return new LatchError('LATCH_UPSTREAM_TIMEOUT', { detail: `The authorization server did not answer the ${what} request in time.`, ...cause });
  }
  if (err instanceof oauth.UnsupportedOperationError && ID_TOKEN_STEPS.has(what)) {
    // oauth4webapi's two refusals here: a token_type other than bearer and DPoP (its cause holds the
    // response body), or an ID token header it does not support (`crit`, an unknown alg).
    if (hasBody(err.cause)) return new LatchError('LATCH_TOKEN_TYPE_UNSUPPORTED', cause);
    return new LatchError('LATCH_ID_TOKEN_INVALID', cause);
  }
  if (err instanceof oauth.ResponseBodyError) {
    // An OAuth error answer: the server works, the request was refused. invalid_client is our own
    // misconfiguration (502, and a refresh that fails so does not end the session); invalid_grant
    // and friends are about this user's grant (400); an error answered with a 5xx is the server's fault.
    const detail = `The authorization server refused the ${what} request (${err.error}).`;
    // A pushed request refused is the configuration's fault (client, redirect URI, scopes), never the user's.
    if (err.status >= 500 || what === 'pushed authorization') return new LatchError('LATCH_UPSTREAM_ERROR', { detail, ...cause });
    if (err.error === 'invalid_client') return new LatchError('LATCH_CLIENT_REFUSED', { detail, ...cause });
    // An audience the server does not know (RFC 8707/8693, LATCH_API_ROUTE_<NAME>_AUDIENCE): the
    // configuration's fault, never the user's grant's, so a session that meets it is kept.
    if (err.error === 'invalid_target') return new LatchError('LATCH_UPSTREAM_ERROR', { detail, ...cause });
    return new LatchError(refusedGrant(what), { detail, ...cause });
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError && (what === 'refresh' || what === 'code exchange')) {
    // A 401 challenge at the token endpoint: the client's credentials were refused (client_secret_basic).
    return new LatchError('LATCH_CLIENT_REFUSED', { detail: `The authorization server refused the client's credentials for the ${what} request.`, ...cause });
  }
  if (err instanceof joseErrors.JOSEError) {
    if (what === 'userinfo') return new LatchError('LATCH_USERINFO_INVALID', { detail: 'The signed userinfo answer did not verify.', ...cause });
    return new LatchError('LATCH_ID_TOKEN_INVALID', { detail: `The ${what} did not verify.`, ...cause });
  }
  if (err instanceof oauth.OperationProcessingError || err instanceof oauth.WWWAuthenticateChallengeError) {
    const code = (err as { code?: string }).code;
    if (code === oauth.INVALID_RESPONSE && ID_TOKEN_STEPS.has(what) && hasBody(err.cause)) {
      // The token response itself (access_token, token_type, expires_in...), checked before its ID token.
      return new LatchError('LATCH_TOKEN_RESPONSE_INVALID', { detail: `The ${what} answer is incomplete.`, ...cause });
    }
    if (code === oauth.JWT_CLAIM_COMPARISON || code === oauth.JWT_TIMESTAMP_CHECK || code === oauth.INVALID_RESPONSE && ID_TOKEN_STEPS.has(what)) {
      return new LatchError('LATCH_ID_TOKEN_INVALID', cause);
    }
    if (what === 'userinfo' && (code === oauth.JSON_ATTRIBUTE_COMPARISON || (code === oauth.INVALID_RESPONSE && hasObjectBody(err.cause)))) {
      // A userinfo object about someone else, or naming no one (no `sub`). A body that is not an object
      // is no userinfo answer at all: LATCH_UPSTREAM_ERROR below.
      return new LatchError('LATCH_USERINFO_INVALID', cause);
    }
    return new LatchError('LATCH_UPSTREAM_ERROR', { detail: `The authorization server gave an unusable ${what} answer.`, ...cause });
  }
  if (err instanceof TypeError && (err.message === 'fetch failed' || err.cause !== undefined)) {
    // fetch() network failure: connection refused, DNS, TLS. (oauth4webapi's own TypeErrors, for
    // malformed answers, carry no cause and fall through to LATCH_UPSTREAM_ERROR.)
    return new LatchError('LATCH_UPSTREAM_UNAVAILABLE', { detail: `The authorization server cannot be reached (${what}).`, ...cause });
  }
  return new LatchError('LATCH_UPSTREAM_ERROR', { detail: `The ${what} step failed.`, ...cause });
}

function hasBody(cause: unknown): boolean {
  return typeof cause === 'object' && cause !== null && 'body' in cause;
}

function hasObjectBody(cause: unknown): boolean {
  if (!hasBody(cause)) return false;
  const body = (cause as { body: unknown }).body;
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

/**
 * Only Bearer tokens (RFC 6750), in any case, when no DPoP proof was sent (bff/oauth/dpop.ts checks
 * the other case): a DPoP-bound token sent as Bearer would fail at best, and teach the API to accept
 * it so at worst. oauth4webapi lower-cases token_type and lets `dpop` through; we do not.
 */
export function assertBearer(response: { token_type?: unknown }): void {
  if (typeof response.token_type !== 'string' || response.token_type.toLowerCase() !== 'bearer') {
    throw new LatchError('LATCH_TOKEN_TYPE_UNSUPPORTED', { detail: `The token type is ${String(response.token_type)}.` });
  }
}
