import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { LatchError } from '../errors.ts';
import { answerError } from './errors.ts';

/**
 * One check of the edge: throws a LatchError to refuse the request (the edge answers it), returns
 * true when it answered the request itself (a CORS preflight), and otherwise lets it go on.
 */
export type EdgeCheck = (ctx: Context) => boolean | void;

export interface EdgeOptions {
  /** True while the server drains (bff/server.ts on SIGTERM): every answer then carries `Connection: close`. */
  closing?: () => boolean;
  /** Whether the request's route is a page a browser navigates to (its errors are HTML pages). default: none is */
  navigation?: (ctx: Context) => boolean;
}

/**
 * The BFF's outermost middleware (after metrics): runs `checks` in order, then the routes, and turns
 * every failure, theirs or the routes', into a coded JSON answer, or an error page on the routes
 * `navigation` names (errors.ts). A route that answers nothing is 404 LATCH_NOT_FOUND. While
 * `closing()` says so (bff/server.ts draining on SIGTERM), every answer carries `Connection: close`.
 *
 * The checks are plain functions run in one frame rather than one Koa middleware each: on a warm /me
 * the layers themselves (a promise and a closure per layer per request) cost more than their work
 * (docs/bench.md).
 */
export function edge(logger: Logger, checks: readonly EdgeCheck[], options: EdgeOptions = {}) {
  const { closing, navigation } = options;
  return async function latchEdge(ctx: Context, next: Next): Promise<void> {
    try {
      for (const check of checks) if (check(ctx) === true) return;
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new LatchError('LATCH_NOT_FOUND');
    } catch (raw) {
      answerError(ctx, raw, logger, ctx.method === 'GET' && navigation?.(ctx) === true);
    } finally {
      // A graceful shutdown: this connection is not kept alive past this answer.
      if (closing?.() && !ctx.headerSent) ctx.set('Connection', 'close');
    }
  };
}
