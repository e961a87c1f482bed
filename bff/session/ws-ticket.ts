/**
 * One-time tickets for WebSocket upgrades through the proxy (routes/proxy-ws.ts) in the hand-off mode
 * (LATCH_HANDOFF). A browser sends no custom header with a WebSocket, so the CSRF header cannot guard
 * the upgrade; the Origin check does, and where the session cookie is a partitioned one
 * (`SameSite=None`, in a page of another site) a ticket proves too that the page could make a
 * CSRF-protected, CORS-read `POST /ws-ticket` first. Sealed (opens on any instance, like the logout
 * handle), bound to the session's public id, TICKET_TTL_S long, and single use (claimed in the store).
 * No Koa.
 */
import { randomBytes } from 'node:crypto';
import { publicId } from './index-store.ts';
import type { Sessions } from './sessions.ts';

/** How long a ticket opens, seconds: the page upgrades as soon as it has one. */
export const TICKET_TTL_S = 30;

interface WsTicket {
  t: 'ws';
  /** The session's public id. */
  p: string;
  /** The single-use marker's name. */
  n: string;
}

export function issueWsTicket(sessions: Sessions, sid: string): Promise<string> {
  const ticket: WsTicket = { t: 'ws', p: publicId(sid), n: randomBytes(16).toString('base64url') };
  return sessions.sealer.seal(ticket, TICKET_TTL_S);
}

/**
 * Whether `ticket` is a live ticket of the session `sid` not used before; using it. Rejects (503) when
 * the store cannot say whether it was used: the upgrade is then refused.
 */
export async function redeemWsTicket(sessions: Sessions, ticket: string | null, sid: string): Promise<boolean> {
  if (!ticket || ticket.length > 4096) return false;
  const data = await sessions.sealer.unseal<WsTicket>(ticket);
  if (!data || data.t !== 'ws' || data.p !== publicId(sid) || typeof data.n !== 'string') return false;
  // iron allows 60 s of clock skew past the seal's expiry: the marker outlives both.
  return sessions.claimOnce(`ws:${data.n}`, (TICKET_TTL_S + 60) * 1000);
}
