import { LatchError } from '../errors.ts';
import type { SessionRefresher } from './refresh.ts';
import type { SessionCookies } from './session-cookies.ts';
import type { ReadSession } from './sessions.ts';
import { audienceTokenStale, type Session } from './session.ts';

/** Where a request's Set-Cookie values go: its answer (routes/flows.ts appends them to Koa's). */
export type SetCookie = (values: string[]) => void;

const DONE: Promise<void> = Promise.resolve();

/**
 * One request's session, from its cookie to its answer: what `/me` and the API proxy both do. Read
 * (by `SessionCookies.read`), its access token refreshed when due or when an upstream refused it
 * (`fresh()`), its cookies cleared when it has ended, and written back once before the answer when
 * it changed (`save()`). No Koa: Set-Cookie values go to `setCookie`.
 */
export class RequestSession {
  readonly #cookies: SessionCookies;
  readonly #refresher: SessionRefresher;
  readonly #cookieHeader: string | undefined;
  readonly #setCookie: SetCookie;
  readonly #onWrite: ((session: Session, refreshed: boolean) => void) | undefined;
  #session: Session;
  /** Write it back: sealed with an older key, due for idle renewal, or refreshed. */
  #dirty: boolean;
  #refreshed = false;

  /** `onWrite`: told of each write-back (session/live.ts `written`: last seen, and `session-updated` after a refresh). */
  constructor(read: ReadSession, cookies: SessionCookies, refresher: SessionRefresher, cookieHeader: string | undefined, setCookie: SetCookie, onWrite?: (session: Session, refreshed: boolean) => void) {
    this.#session = read.session;
    this.#dirty = read.stale;
    this.#cookies = cookies;
    this.#refresher = refresher;
    this.#cookieHeader = cookieHeader;
    this.#setCookie = setCookie;
    this.#onWrite = onWrite;
  }

  get session(): Session {
    return this.#session;
  }

  /**
   * Nothing to do before the answer: no refresh due (fresh() would give the session as it is) and
   * nothing to write back (save() would do nothing). A warm /me then answers with no promise at all.
   */
  get settled(): boolean {
    return !this.#dirty && !this.#refresher.due(this.#session);
  }

  /** Whether fresh() has refreshed the tokens: an upstream 401 after that is not worth another refresh. */
  get refreshed(): boolean {
    return this.#refreshed;
  }

  /**
   * The session with a usable access token: refreshed first when it has expired or will within the
   * margin, or when `force`d (an upstream refused the token). A session the refresh ended (401
   * LATCH_SESSION_EXPIRED) has its cookies cleared, and the error goes on; any other failure (the
   * server unreachable: 502/504, the store: 503) keeps the session and its cookies.
   */
  fresh(force = false): Promise<Session> {
    // A good token (nearly every request) without an async frame of its own: this runs on every /me.
    if (!force && !this.#refresher.due(this.#session)) return Promise.resolve(this.#session);
    return this.#refresh(force);
  }

  /**
   * The session with a usable token for one API (Session.au, oauth/audience.ts): from an RFC 8707
   * refresh-token grant, which spends the refresh token as a refresh does (SessionRefresher.ensureAudience),
   * when it is missing or due, or `force`d. Failures as fresh().
   */
  audience(audience: string, force = false): Promise<Session> {
    if (!force && !audienceTokenStale(this.#session, audience)) return Promise.resolve(this.#session);
    return this.#change(() => this.#refresher.ensureAudience(this.#session, audience, force));
  }

  /** Puts a session with new tokens in place (an exchanged API token: oauth/audience.ts); save() writes it back. */
  replace(session: Session): void {
    this.#session = session;
    this.#dirty = true;
  }

  #refresh(force: boolean): Promise<Session> {
    return this.#change(() => this.#refresher.ensureFresh(this.#session, force));
  }

  async #change(step: () => Promise<{ session: Session; refreshed: boolean }>): Promise<Session> {
    try {
      const fresh = await step();
      if (fresh.refreshed) {
        this.#session = fresh.session;
        this.#dirty = true;
        this.#refreshed = true;
      }
    } catch (err) {
      if (err instanceof LatchError && err.code === 'LATCH_SESSION_EXPIRED') this.#setCookie(this.#cookies.clear(this.#cookieHeader));
      throw err;
    }
    return this.#session;
  }

  /**
   * Writes the session back when it changed (refreshed, sealed with an older key, or due for idle
   * renewal), its idle window renewed now; the session is then a new object. Nothing to do otherwise.
   */
  save(): Promise<void> {
    return this.#dirty ? this.#write() : DONE;
  }

  async #write(): Promise<void> {
    const now = Date.now();
    this.#session = this.#cookies.sessions.touch(this.#session, now);
    this.#dirty = false;
    this.#setCookie(await this.#cookies.write(this.#session, { now, cookieHeader: this.#cookieHeader }));
    this.#onWrite?.(this.#session, this.#refreshed);
  }
}
