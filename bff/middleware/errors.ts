import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { ErrorBody, LatchErrorCode } from '../contract.ts';
import { ClientTransferError, LatchError } from '../errors.ts';
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
  logger[level]({ code: err.code, status: err.status, path: ctx.path, method: ctx.method, cause: describeCause(raw) }, err.message);
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
const ROUTINE = new Set<LatchErrorCode>(['LATCH_UNAUTHENTICATED', 'LATCH_NOT_FOUND']);

/**
 * The log level of an answered error. Routine answers (above) at debug; a session that ended (401
 * LATCH_SESSION_EXPIRED: its idle or absolute end, or a refresh the server refused, which the audit
 * line `refresh_failed` explains) at info; the session store's 503 at debug, because the store logs
 * its outage itself, once when it starts, a count every few seconds and once when it ends
 * (session/stores/redis.ts), where per-request lines buried everything else. Other refusals (CSRF,
 * state mismatch, rate limit, sizes...) at warn; other faults (5xx) at error.
 */
function levelOf(err: LatchError): 'debug' | 'info' | 'warn' | 'error' {
  if (err instanceof ClientTransferError || ROUTINE.has(err.code) || err.status === 405 || err.code === 'LATCH_STORE_UNAVAILABLE') return 'debug';
  if (err.code === 'LATCH_SESSION_EXPIRED') return 'info';
  return err.status >= 500 ? 'error' : 'warn';
}

export const notFound = () => new LatchError('LATCH_NOT_FOUND', 404, 'Not found.');

function normalize(raw: unknown): LatchError {
  if (raw instanceof LatchError) return raw;
  const status = (raw as { status?: unknown })?.status;
  // Koa / http-errors for malformed requests (bad JSON, bad URI...): client errors.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return new LatchError('LATCH_BODY_TOO_LARGE', 413, 'The request body is too large.', { cause: raw });
    if (status === 431) return new LatchError('LATCH_HEADERS_TOO_LARGE', 431, 'The request headers are too large.', { cause: raw });
    return new LatchError('LATCH_BAD_REQUEST', status, 'The request is malformed.', { cause: raw });
  }
  return new LatchError('LATCH_INTERNAL', 500, 'Something went wrong on our side.', { cause: raw });
}

/** The cause chain for the log: names and messages, never request data. */
function describeCause(raw: unknown): unknown {
  const chain: string[] = [];
  let current: unknown = raw;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    chain.push(`${current.name}: ${current.message}`);
    current = current.cause;
  }
  return chain.length ? chain : undefined;
}
