import { LatchError, sessionExpired } from '../errors.ts';
import { SingleFlight } from '../oauth/singleflight.ts';
import type { Provider } from '../providers/provider.ts';
import { accessTokenStale, tokenFields, type Session } from './session.ts';

/**
 * Keeps a session's access token fresh. Concurrent callers for one session
 * share one refresh (single flight, keyed by session id and refresh token).
 */
export class SessionRefresher {
  readonly #provider: Provider;
  readonly #flights = new SingleFlight<Session>();
  readonly #skewMs: number;

  constructor(provider: Provider, skewMs = 30_000) {
    this.#provider = provider;
    this.#skewMs = skewMs;
  }

  /**
   * Returns the session unchanged when its access token is still good, or a
   * refreshed copy. `invalid_grant` and friends end the session
   * (LATCH_SESSION_EXPIRED); an unreachable server is a 502/504 and the
   * session survives.
   */
  async ensureFresh(session: Session, force = false): Promise<{ session: Session; refreshed: boolean }> {
    if (!force && !accessTokenStale(session, this.#skewMs)) return { session, refreshed: false };
    const rt = session.rt;
    if (!rt) throw sessionExpired(new Error('access token expired and no refresh token'));
    const next = await this.#flights.run(`${session.sid}:${rt}`, async () => {
      try {
        const result = await this.#provider.refresh(rt, session.user.sub);
        return {
          ...session,
          ...tokenFields(result.tokens),
          // Keep the old ID token for the logout hint when the server sent none.
          ...(result.tokens.idToken ? {} : session.idt ? { idt: session.idt } : {}),
          user: result.user ? { ...session.user, ...result.user } : session.user,
        };
      } catch (err) {
        if (err instanceof LatchError && err.status < 500 && (err.code === 'LATCH_REFRESH_FAILED' || err.code === 'LATCH_ID_TOKEN_INVALID')) {
          throw sessionExpired(err);
        }
        throw err;
      }
    });
    return { session: next, refreshed: true };
  }
}
