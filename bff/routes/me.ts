import type Router from '@koa/router';
import type { MeResponse } from '../contract.ts';
import { unauthenticated } from '../errors.ts';
import type { RouteDeps } from './deps.ts';
import { LatchError } from '../errors.ts';

/** GET /me: the signed-in user's claims from the session, refreshing an expired access token first. */
export function meRoute(router: Router, deps: RouteDeps) {
  router.get('/me', async (ctx) => {
    const read = await deps.sessions.read(ctx.get('Cookie'));
    if (!read) throw unauthenticated();
    let { session } = read;
    let changed = read.stale;
    try {
      const fresh = await deps.refresher.ensureFresh(session);
      session = fresh.session;
      changed ||= fresh.refreshed;
    } catch (err) {
      if (err instanceof LatchError && err.code === 'LATCH_SESSION_EXPIRED') ctx.append('Set-Cookie', deps.sessions.clear(ctx.get('Cookie')));
      throw err;
    }
    // Written back when refreshed, sealed with an older key, or due for idle renewal (which renews it now).
    if (changed) {
      session = deps.sessions.touch(session);
      ctx.append('Set-Cookie', await deps.sessions.write(session, { cookieHeader: ctx.get('Cookie') }));
    }
    // The earlier of the absolute and the idle end.
    const body: MeResponse = { user: session.user, expiresAt: deps.sessions.expiresAt(session) };
    ctx.body = body;
  });
}
