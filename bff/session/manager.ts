import { LatchError } from '../errors.ts';
import type { LoginTransaction } from '../providers/provider.ts';
import { clearCookie, cookieName, MAX_COOKIE_BYTES, parseCookies, serializeCookie, type CookiePolicy } from './cookies.ts';
import { Sealer } from './sealer.ts';
import { isSession, type Session } from './session.ts';

/** Login transactions live ten minutes at most. */
export const TRANSACTION_TTL_S = 600;

export interface SessionManagerOptions {
  secrets: readonly string[];
  policy: CookiePolicy;
  /** Absolute session lifetime, seconds. */
  maxAge: number;
}

export interface ReadSession {
  session: Session;
  /** Sealed with an older key: reseal on the way out. */
  stale: boolean;
}

/**
 * Reads and writes the sealed cookies: the session, and one transaction
 * cookie per sign-in attempt (named after its state, so tabs do not collide).
 * Knows nothing of Koa: it takes a Cookie header and gives Set-Cookie values.
 */
export class SessionManager {
  readonly #sealer: Sealer;
  readonly #policy: CookiePolicy;
  readonly #maxAge: number;
  readonly sessionCookie: string;
  readonly #txPrefix: string;

  constructor(options: SessionManagerOptions) {
    this.#sealer = new Sealer(options.secrets);
    this.#policy = options.policy;
    this.#maxAge = options.maxAge;
    this.sessionCookie = cookieName(options.policy, 'latch');
    this.#txPrefix = cookieName(options.policy, 'latch-tx-');
  }

  async read(cookieHeader: string | undefined, now = Date.now()): Promise<ReadSession | null> {
    const sealed = parseCookies(cookieHeader)[this.sessionCookie];
    if (!sealed) return null;
    const data = await this.#sealer.unseal<Session>(sealed, this.#maxAge);
    if (!isSession(data) || data.exp <= now) return null;
    return { session: data, stale: this.#sealer.isStale(sealed) };
  }

  /** The Set-Cookie values for a session. A session that will not fit is a coded error, never a 500. */
  async write(session: Session, now = Date.now()): Promise<string[]> {
    const remaining = Math.max(1, Math.floor((session.exp - now) / 1000));
    const sealed = await this.#sealer.seal(session, remaining);
    const header = serializeCookie(this.#policy, this.sessionCookie, sealed, remaining);
    if (Buffer.byteLength(header) > MAX_COOKIE_BYTES) {
      throw new LatchError('LATCH_SESSION_TOO_LARGE', 502, 'The session is too large to keep in a cookie.', {
        cause: new Error(`sealed session cookie is ${Buffer.byteLength(header)} bytes`),
      });
    }
    return [header];
  }

  /** The Set-Cookie values that remove the session. */
  clear(): string[] {
    return [clearCookie(this.#policy, this.sessionCookie)];
  }

  #txName(state: string): string {
    return this.#txPrefix + state.slice(0, 16);
  }

  async writeTransaction(tx: LoginTransaction): Promise<string> {
    const sealed = await this.#sealer.seal(tx, TRANSACTION_TTL_S);
    return serializeCookie(this.#policy, this.#txName(tx.state), sealed, TRANSACTION_TTL_S);
  }

  /** The transaction whose cookie matches this state exactly, or null (stale, forged, other browser). */
  async readTransaction(cookieHeader: string | undefined, state: string): Promise<LoginTransaction | null> {
    if (!state) return null;
    const sealed = parseCookies(cookieHeader)[this.#txName(state)];
    if (!sealed) return null;
    const tx = await this.#sealer.unseal<LoginTransaction>(sealed, TRANSACTION_TTL_S);
    if (!tx || tx.state !== state) return null;
    return tx;
  }

  clearTransaction(state: string): string {
    return clearCookie(this.#policy, this.#txName(state));
  }
}
