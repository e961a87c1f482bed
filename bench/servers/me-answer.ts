/**
 * What the BFF's GET /me answers, for the library servers (Koa with iron-session, with koa-session):
 * the session's user and end, or 401 when there is no live session.
 */
import type { Context } from 'koa';

export function answerMe(ctx: Context, session: { user?: object; exp?: number } | null | undefined): void {
  if (!session?.user || !session.exp || session.exp <= Date.now()) {
    ctx.status = 401;
    ctx.body = { error: { code: 'LATCH_UNAUTHENTICATED', message: 'Not signed in.' } };
    return;
  }
  ctx.body = { user: session.user, expiresAt: session.exp, sameSite: null };
}
