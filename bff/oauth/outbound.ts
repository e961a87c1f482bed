import * as oauth from 'oauth4webapi';
import { errors as joseErrors } from 'jose';
import { LatchError } from '../errors.ts';

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

/** Maps failures of oauth4webapi, jose and fetch onto the BFF's codes. Never loses the cause. */
export function toLatchError(err: unknown, what: string): LatchError {
  if (err instanceof LatchError) return err;
  if (isTimeout(err)) {
    return new LatchError('LATCH_UPSTREAM_TIMEOUT', 504, 'The authorization server did not answer in time.', { cause: err });
  }
  const grantCode = what === 'refresh' ? 'LATCH_REFRESH_FAILED' : 'LATCH_TOKEN_EXCHANGE_FAILED';
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
    return new LatchError('LATCH_ID_TOKEN_INVALID', 400, 'The ID token did not verify.', { cause: err });
  }
  if (err instanceof oauth.OperationProcessingError || err instanceof oauth.WWWAuthenticateChallengeError) {
    const code = (err as { code?: string }).code;
    if (code === oauth.JWT_CLAIM_COMPARISON || code === oauth.JWT_TIMESTAMP_CHECK || code === oauth.INVALID_RESPONSE && what === 'code exchange') {
      return new LatchError('LATCH_ID_TOKEN_INVALID', 400, 'The ID token did not verify.', { cause: err });
    }
    if (code === oauth.JSON_ATTRIBUTE_COMPARISON && what === 'userinfo') {
      return new LatchError('LATCH_USERINFO_INVALID', 400, 'Userinfo did not match the signed-in user.', { cause: err });
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
