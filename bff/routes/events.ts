import { PassThrough } from 'node:stream';
import type { RouteTable } from './table.ts';
import type { SessionEndedEvent, SessionEndReason, SessionUpdatedEvent } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { rateLimited } from '../middleware/rate-limit.ts';
import { publicId } from '../session/index-store.ts';
import { siteOf } from '../sites.ts';
import type { RouteDeps } from './deps.ts';
import { requestSession } from './flows.ts';

/** What EventSource waits before reconnecting, ms (`retry:`, sent first). */
export const RETRY_MS = 5000;
/** Timers are set at most this far ahead (setTimeout's limit is 2^31 - 1 ms); a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * GET /events (credentialed; CORS as /me): the session's server-sent event stream.
 *
 *     retry: 5000
 *
 *     event: session-ended
 *     data: {"reason":"logout"|"backchannel"|"revoked"|"expired"|"everywhere"}
 *
 *     event: session-updated
 *     data: {"user":{…},"expiresAt":…}
 *
 * and a `: ping` comment every 25 s (session/live.ts PING_MS), so proxies that close idle connections
 * keep it. `session-ended` is the last event: the stream closes after it. The news comes from the
 * session bus (session/bus.ts: in process, and Redis pub/sub across instances); `expired` from the
 * stream's own timers at the session's absolute end, and at its idle end unless the index says it was
 * seen since (another request renewed it). 401 LATCH_UNAUTHENTICATED without a live session; 429
 * LATCH_RATE_LIMITED beyond STREAMS_PER_SESSION streams of one session or LATCH_EVENTS_MAX_STREAMS of
 * the instance; 403 LATCH_ORIGIN_NOT_ALLOWED for a foreign Origin (which would hold a slot it cannot
 * read). Not offered where answers cannot stream (Lambda: createBff's `streams: false`), where
 * it is 404 and the widget re-checks `/me` instead (docs/deploy.md).
 *
 * A stream holds no promise of the request's: the route returns once the head is ready, and the
 * stream's own listeners (the bus, its timers, the connection's close) end it; bff/server.ts's graceful
 * shutdown ends every one (LiveSessions.close).
 */
export function eventsRoute(router: RouteTable, deps: RouteDeps) {
  const live = deps.live;
  if (!live) return;
  const idleMs = deps.config.sessionIdleTimeout * 1000;
  router.get('/events', async (ctx) => {
    // A page of another origin could not read the stream (no CORS for it), but it would hold one of the
    // session's few slots, keeping the widget's own stream out: refused before it takes one.
    const origin = ctx.get('Origin');
    if (origin !== '' && !siteOf(ctx).allowed.has(origin)) throw new LatchError('LATCH_ORIGIN_NOT_ALLOWED', { detail: 'An event stream asked by an origin the site does not allow.' });
    const request = await requestSession(ctx, deps);
    if (!request) throw new LatchError('LATCH_UNAUTHENTICATED');
    const session = request.session;
    const id = publicId(session.sid);
    const out = new PassThrough();
    let ended = false;
    const send = (event: string, data: SessionEndedEvent | SessionUpdatedEvent) => {
      if (!ended) out.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const finish = (reason?: SessionEndReason) => {
      if (ended) return;
      if (reason) send('session-ended', { reason });
      ended = true;
      out.end();
    };
    const slot = live.openStream(id, { ping: () => !ended && out.write(': ping\n\n'), close: () => finish() });
    if (!slot) throw rateLimited(RETRY_MS / 1000);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let unwatch: (() => void) | undefined;
    out.once('close', () => {
      ended = true;
      slot.release();
      clearTimeout(timer);
      unwatch?.();
    });
    try {
      unwatch = await live.watch(session, {
        onEnded: (reason) => finish(reason),
        onUpdated: ({ user, expiresAt }) => send('session-updated', { user, expiresAt }),
      });
    } catch (err) {
      out.destroy();
      throw err;
    }
    // The session's end: absolute, or idle unless something renewed it since (the index's last seen).
    const at = (end: number) => {
      timer = setTimeout(check, Math.min(MAX_TIMER_MS, Math.max(0, end - Date.now())));
      timer.unref();
    };
    const check = async () => {
      const now = Date.now();
      if (ended) return;
      if (now >= session.exp) return finish('expired');
      const idleEnd = (await live.lastSeen(session.user.sub, id).catch(() => undefined) ?? 0) + idleMs;
      if (idleEnd <= now) return finish('expired');
      at(Math.min(session.exp, idleEnd));
    };
    at(deps.sessions.expiresAt(session));
    ctx.status = 200;
    ctx.set('Content-Type', 'text/event-stream; charset=utf-8');
    // nginx (and proxies that honour it) buffers answers unless told not to; no-store is the edge's already.
    ctx.set('X-Accel-Buffering', 'no');
    ctx.req.socket.setNoDelay(true);
    out.write(`retry: ${RETRY_MS}\n\n`);
    ctx.body = out;
  });
}
