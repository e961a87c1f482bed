import type { RouteTable } from './table.ts';
import type { SessionsResponse } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { publicId } from '../session/index-store.ts';
import type { LiveSessions } from '../session/live.ts';
import type { Session } from '../session/session.ts';
import { siteOf } from '../sites.ts';
import type { RouteDeps } from './deps.ts';
import { requestSession } from './flows.ts';

/** A public id as index-store.ts makes them (a digest: 32 base64url characters); anything else is no session of anyone's. */
const PUBLIC_ID = /^[A-Za-z0-9_-]{32}$/;

/**
 * GET /sessions (credentialed; CORS as /me; no CSRF: a read): the signed-in user's own sessions, from
 * the index (session/index-store.ts), oldest first: `{ sessions: [{ id, createdAt, lastSeenAt,
 * provider, device, current }] }`. `id` is the session's public id, never its session id. 401
 * LATCH_UNAUTHENTICATED without a session.
 *
 * DELETE /sessions/<id> (CSRF-protected like /logout): ends that session of the same user (deny-listed
 * by its public id on every instance; its streams and sockets told `revoked`); 204. An id the user
 * has no session under (another user's, an unknown or ended one): 404 LATCH_NOT_FOUND, the same answer
 * whichever, so an id says nothing about anyone else. Ending the current session is a logout: its
 * cookies cleared, its tokens revoked, its streams told `logout`.
 */
export function sessionsRoute(router: RouteTable, deps: RouteDeps) {
  const live = deps.live;
  if (!live) return;
  router.get('/sessions', async (ctx) => {
    const request = await requestSession(ctx, deps);
    if (!request) throw new LatchError('LATCH_UNAUTHENTICATED');
    const session = request.session;
    const current = publicId(session.sid);
    const entries = await live.list(session.user.sub);
    const body: SessionsResponse = {
      sessions: entries.map((e) => ({ id: e.id, createdAt: e.createdAt, lastSeenAt: e.lastSeenAt, provider: e.provider, device: e.device, current: e.id === current })),
    };
    await request.save();
    ctx.body = body;
  });

  router.delete(/^\/sessions\/[^/]+$/, { csrf: true }, async (ctx) => {
    const id = ctx.path.slice('/sessions/'.length);
    const request = await requestSession(ctx, deps);
    if (!request) throw new LatchError('LATCH_UNAUTHENTICATED');
    const session = request.session;
    if (!PUBLIC_ID.test(id)) throw notFound();
    if (id === publicId(session.sid)) {
      await endCurrent(deps, live, session);
      ctx.append('Set-Cookie', siteOf(ctx).cookiesFor(ctx.get('Cookie')).clear(ctx.get('Cookie')));
    } else if (!(await live.revoke(session.user.sub, id))) {
      throw notFound();
    } else {
      deps.logger.info({ event: 'session-revoked', sid: session.sid }, 'ended one of the user\'s other sessions');
    }
    ctx.status = 204;
  });
}

const notFound = () => new LatchError('LATCH_NOT_FOUND', { detail: 'The user has no session with this id.' });

/** The request's own session ended by its id: as a logout (deny-listed, unlisted, told, tokens revoked). */
async function endCurrent(deps: RouteDeps, live: LiveSessions, session: Session): Promise<void> {
  await deps.sessions.end(session);
  await live.ended(session, 'logout');
  deps.audit?.({ type: 'logout', sid: session.sid, sub: session.user.sub, everywhere: false, time: Date.now() });
  await deps.providers.forSessionOrNull(session)?.revoke({ accessToken: session.at, ...(session.rt ? { refreshToken: session.rt } : {}) });
  deps.logger.info({ event: 'logout', sid: session.sid }, 'signed out');
}
