import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { ErrorBody, LatchErrorCode } from '../contract.ts';
import { ClientTransferError, describeError, ERRORS, LatchError } from '../errors.ts';
import { errorPage } from '../pages.ts';

/**
 * Answers a failure with a coded answer: known errors keep their status; anything else is logged with
 * its stack and answered 500 LATCH_INTERNAL without detail. Never a stack trace on the wire. Headers
 * set before the failure (security headers, CORS) stay. A client that went away mid-body is logged at
 * debug, and its answer goes nowhere (Koa writes nothing to a closed connection). `page`: a browser
 * navigated here (a GET of a route that declares `navigation`), so the answer is a friendly HTML page
 * with the same status and code.
 */
export function answerError(ctx: Context, raw: unknown, logger: Logger, page = false): void {
  const err = normalize(raw);
  const level = levelOf(err);
  // The log line's message is the failure's own reason when it has one: the answer gets the code's.
  logger[level]({ code: err.code, status: err.status, path: ctx.path, method: ctx.method, cause: describeCause(raw) }, err.detail ?? err.message);
  ctx.status = err.status;
  for (const [name, value] of Object.entries(err.headers)) ctx.set(name, value);
  if (page) {
    const pageOut = errorPage(err.code, err.message);
    ctx.set('Content-Security-Policy', pageOut.csp);
    ctx.type = 'html';
    ctx.body = pageOut.html;
  } else {
    const body: ErrorBody = { ...err.body, error: { code: err.code, message: err.message } };
    ctx.body = body;
  }
}

/**
 * Answers that are no one's fault, at debug: on a real site they are most of the errors. A signed-out
 * visitor's `/me` (401 LATCH_UNAUTHENTICATED) is how every page learns it is signed out (19 of 25 lines
 * of the demo's log were these); a scanner's probes are 404s and 405s.
 */
const ROUTINE = new Set<LatchErrorCode>(['LATCH_UNAUTHENTICATED', 'LATCH_NOT_FOUND', 'LATCH_METHOD_NOT_ALLOWED']);

/**
 * The log level of an answered error. Routine answers (above) at debug; a session that ended (401
 * LATCH_SESSION_EXPIRED: its idle or absolute end, or a refresh the server refused, which the audit
 * line `refresh_failed` explains) at info; the session store's 503 at debug, because the store logs
 * its outage itself, once when it starts, a count every few seconds and once when it ends
 * (session/stores/redis.ts), where per-request lines buried everything else. Other refusals (CSRF,
 * state mismatch, rate limit, sizes...) at warn; other faults (5xx) at error.
 */
function levelOf(err: LatchError): 'debug' | 'info' | 'warn' | 'error' {
  if (err instanceof ClientTransferError || ROUTINE.has(err.code) || err.code === 'LATCH_STORE_UNAVAILABLE') return 'debug';
  if (err.code === 'LATCH_SESSION_EXPIRED') return 'info';
  return err.status >= 500 ? 'error' : 'warn';
}

/**
 * A client error from Koa or a package (http-errors: bad JSON, bad URI...) by its status: the code that
 * has it; any other 4xx is 400 LATCH_BAD_REQUEST, since each code has one status (bff/errors.ts).
 */
const BY_STATUS = new Map<number, LatchErrorCode>(
  (['LATCH_NOT_FOUND', 'LATCH_METHOD_NOT_ALLOWED', 'LATCH_REQUEST_TIMEOUT', 'LATCH_BODY_TOO_LARGE', 'LATCH_UNSUPPORTED_MEDIA_TYPE', 'LATCH_HEADERS_TOO_LARGE'] as const)
    .map((code) => [ERRORS[code].status, code]),
);

function normalize(raw: unknown): LatchError {
  if (raw instanceof LatchError) return raw;
  const status = (raw as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new LatchError(BY_STATUS.get(status) ?? 'LATCH_BAD_REQUEST', { cause: raw });
  }
  return new LatchError('LATCH_INTERNAL', { cause: raw });
}

/** The cause chain for the log: names and messages (a LatchError's detail), never request data. */
function describeCause(raw: unknown): unknown {
  const chain: string[] = [];
  let current: unknown = raw;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    chain.push(describeError(current));
    current = current.cause;
  }
  return chain.length ? chain : undefined;
}
