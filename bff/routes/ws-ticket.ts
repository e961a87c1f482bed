import type { RouteTable } from './table.ts';
import type { WsTicketResponse } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { issueWsTicket, TICKET_TTL_S } from '../session/ws-ticket.ts';
import type { RouteDeps } from './deps.ts';
import { requestSession } from './flows.ts';

/**
 * POST /ws-ticket (CSRF-protected like /logout; credentialed): a one-time ticket for the session's next
 * WebSocket upgrade through the proxy, `{ ticket, expiresIn }` (seconds). Required (as
 * `?latch_ticket=<ticket>` on the upgrade's URL) in the hand-off mode (LATCH_HANDOFF), where the
 * session cookie is sent in a page of another site; accepted and ignored otherwise. Generic, not one
 * per API: the ticket opens one upgrade of this session, to any `/api/<name>/…` it may reach
 * (routes/proxy-ws.ts). 401 LATCH_UNAUTHENTICATED without a session.
 */
export function wsTicketRoute(router: RouteTable, deps: RouteDeps) {
  router.post('/ws-ticket', { csrf: true }, async (ctx) => {
    const request = await requestSession(ctx, deps);
    if (!request) throw new LatchError('LATCH_UNAUTHENTICATED');
    const body: WsTicketResponse = { ticket: await issueWsTicket(deps.sessions, request.session.sid), expiresIn: TICKET_TTL_S };
    await request.save();
    ctx.body = body;
  });
}
