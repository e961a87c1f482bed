import type { ApiRoute } from '../config.ts';
import { LatchError } from '../errors.ts';
import type { Provider, TokenSet } from '../providers/provider.ts';
import type { RequestSession } from '../session/request-session.ts';
import { audienceTokenStale, withAudienceToken } from '../session/session.ts';
import { digest } from '../session/store.ts';
import { SingleFlight } from './singleflight.ts';

/**
 * A token per API (LATCH_API_ROUTE_<NAME>_AUDIENCE on a user route; docs/api.md, "A token per
 * API"). The proxy sends such a route's upstream a token whose audience is that API alone, never the
 * session's main access token: an orders API that is handed a token also good at the reports API
 * could replay it there. Two ways to get one (LATCH_API_ROUTE_<NAME>_TOKEN_EXCHANGE):
 *
 * - `rfc8707` (default): a refresh-token grant with `resource=<audience>` (RFC 8707 §2.2). It spends
 *   the refresh token where the server rotates them, so it runs as a refresh does, under the
 *   session's refresh lock (SessionRefresher.ensureAudience), and the rotated refresh token is kept.
 *   The audience is also asked for at sign-in (`resource` on the authorization request,
 *   providers/index.ts), since a refresh may only narrow what was granted.
 * - `rfc8693`: a token exchange of the user's access token (itself refreshed first when due). It
 *   spends nothing, so no lock: concurrent requests of this process share one exchange (SingleFlight),
 *   and requests that still carry the cookie from before it get its result (`recent`, while the token
 *   is good). Two instances may each exchange once, which costs one token request and nothing else.
 *
 * The tokens are kept in the session (`au`: sealed in the cookie, or in the store server-side), by
 * audience, and got again when due (the main token's margin: 30 s or half the lifetime). With DPoP,
 * both grants carry a proof with the session's key, so the API's token is bound to it like the main
 * one, and the proxy sends it as `DPoP <token>` with a proof.
 */

/** The proxy's view of a route's token (routes/proxy.ts `Auth`). */
export interface RouteToken {
  initial(): Promise<string>;
  /** Whether an upstream 401 is worth one renewal (not when the token is brand new). */
  canRenew(): boolean;
  renew(): Promise<string>;
  /** Before the answer goes out: reseal the session cookie if the tokens changed. */
  finish(): Promise<void>;
}

/** Exchanges in flight in this process, by session, audience and the token they replace. */
const exchanges = new SingleFlight<TokenSet>();
/**
 * Exchanges done, by the same key, for requests that started before the first one's cookie came back
 * (ten calls of a page at once: one exchange, not two or three). Kept while the token is good; at
 * most RECENT_MAX (each a token of 1 to 2 KB: 2 MB at most), the oldest dropped first.
 */
const recent = new Map<string, TokenSet>();
const RECENT_MAX = 1000;

function remember(key: string, tokens: TokenSet): void {
  const now = Date.now();
  for (const [oldest, kept] of recent) {
    if (recent.size < RECENT_MAX && !stale(kept, now)) break;
    recent.delete(oldest);
  }
  recent.set(key, tokens);
}

/** As audienceTokenStale: expired, or within 30 s (or half the lifetime) of it. */
const stale = (tokens: TokenSet, now: number) => tokens.expiresAt - Math.min(30_000, ((tokens.lifetime ?? 60) * 1000) / 2) <= now;

/** The token for a user route with an audience: the session's when good, else a new one (see above). */
export function audienceAuth(live: RequestSession, route: ApiRoute, provider: () => Provider): RouteToken {
  const audience = route.audience!;
  let fresh = false;
  const get = async (force: boolean): Promise<string> => {
    const before = live.session.au?.[audience]?.at;
    const session = route.exchange === 'rfc8693' ? await exchanged(live, audience, provider, force) : await live.audience(audience, force);
    const token = session.au?.[audience]?.at;
    if (!token) throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'The authorization server issued no token for this API.' });
    if (token !== before) fresh = true;
    return token;
  };
  return {
    initial: () => get(false),
    canRenew: () => !fresh,
    renew: () => get(true),
    finish: () => live.save(),
  };
}

/** RFC 8693: the session with a token for `audience` exchanged from its (fresh) access token. */
async function exchanged(live: RequestSession, audience: string, provider: () => Provider, force: boolean) {
  if (!force && !audienceTokenStale(live.session, audience)) return live.session;
  const session = await live.fresh();
  const from = provider();
  if (!from.exchange) throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'This authorization server cannot exchange tokens (RFC 8693).' });
  const replaced = session.au?.[audience]?.at ?? '';
  const key = `${session.sid}\n${audience}\n${digest(replaced)}`;
  const known = recent.get(key);
  const tokens = known && !stale(known, Date.now()) ? known : await exchanges.run(key, async () => {
    const got = await from.exchange!(session.at, audience, session.dk);
    remember(key, got);
    return got;
  });
  // Merged into the request's session as it is now (a refresh may have run meanwhile).
  live.replace(withAudienceToken(live.session, audience, tokens));
  return live.session;
}
