import { LatchError } from '../errors.ts';
import type { LoginTransaction } from '../providers/provider.ts';
import {
  CHUNK_BYTES,
  chunkName,
  clearCookie,
  cookieName,
  joinChunks,
  MAX_CHUNKS,
  parseCookies,
  presentChunkNames,
  serializeCookie,
  splitChunks,
  type CookiePolicy,
} from './cookies.ts';
import type { OpenOptions, ReadSession, Sessions } from './sessions.ts';
import type { Session } from './session.ts';
import { digest } from './store.ts';

/** Login transactions live ten minutes at most. */
export const TRANSACTION_TTL_S = 600;

/**
 * Sign-ins in flight at once in one browser: a new one drops the oldest beyond this. Each transaction
 * cookie is up to about 2 KB (a returnTo of 1,024 characters, routes/login.ts), so three stay under
 * 6.2 KB: with a session of three chunks (11.4 KB) a request keeps under the 16 KB header limit
 * (more than that would let any page that opens /login in popups answer every route 431, issue 13).
 * Three, not one: two tabs (or a tab and a popup) signing in at once both complete.
 */
export const MAX_TRANSACTIONS = 3;

/**
 * The longest seal a partitioned cookie holds: one cookie (CHUNK_BYTES). Chromium keeps at most 10 KiB
 * of partitioned cookies (names and values) per embedded site in each partition (CHIPS), shared by
 * every host of the BFF's site; a three-chunk session of 10.5 KB lost its first chunk there, and the
 * page was told third-party cookies are blocked (issue 13). A longer session is kept in the store, the
 * partitioned cookie holding a sealed reference, as in server-side mode.
 */
export const PARTITIONED_COOKIE_BYTES = CHUNK_BYTES;

/** The partitioned hand-off cookie's name (before its prefix): `__Host-latch-p`. */
export const PARTITIONED_COOKIE = 'latch-p';

export interface WriteOptions {
  now?: number;
  /** The request's Cookie header: chunk cookies it carries that the new session no longer uses are cleared. */
  cookieHeader?: string | undefined;
}

const NO_SESSION: Promise<null> = Promise.resolve(null);

/**
 * One site's cookies (or its partitioned hand-off cookie's) for the application's sessions: the
 * session cookie (chunked when large, see cookies.ts) and one transaction cookie per sign-in attempt
 * (named after its time and state, so tabs do not collide). Takes a Cookie header and gives Set-Cookie
 * values; what a cookie holds is the business of `Sessions` (sessions.ts). No Koa.
 */
export class SessionCookies {
  readonly sessions: Sessions;
  /** The session cookie's name, prefix included (`__Host-latch`; its chunks add `.1`, `.2`). */
  readonly name: string;
  readonly #policy: CookiePolicy;
  readonly #txPrefix: string;
  /** `<name>=`: a Cookie header without it carries no session cookie of ours. */
  readonly #probe: string;
  /** A seal longer than this goes to the store behind a reference (partitioned cookies); undefined: never (chunks). */
  readonly #maxSealBytes: number | undefined;

  constructor(sessions: Sessions, policy: CookiePolicy, baseName = 'latch') {
    this.sessions = sessions;
    this.#policy = policy;
    this.name = cookieName(policy, baseName);
    this.#probe = `${this.name}=`;
    this.#txPrefix = cookieName(policy, 'latch-tx-');
    this.#maxSealBytes = policy.partitioned ? PARTITIONED_COOKIE_BYTES : undefined;
  }

  /**
   * Whether the request carries this session cookie, by its parsed name, never by a substring: any
   * cookie's value may hold the text `__Host-latch-p=`. The substring test only spares the common
   * request (no hand-off) a second parse of its Cookie header.
   */
  carries(cookieHeader: string | undefined): boolean {
    return cookieHeader !== undefined && cookieHeader.includes(this.#probe) && parseCookies(cookieHeader)[this.name] !== undefined;
  }

  /**
   * The request's session, or null for anything that is not a live session (Sessions.open): absent,
   * incomplete chunks, or a seal that does not open to one. Rejects with 503 LATCH_STORE_UNAVAILABLE
   * only when the store cannot say. Not an async function: a request without the cookie costs no promise.
   */
  read(cookieHeader: string | undefined, now?: number, options?: OpenOptions): Promise<ReadSession | null> {
    const sealed = joinChunks(parseCookies(cookieHeader), this.name);
    return sealed ? this.sessions.open(sealed, now, options) : NO_SESSION;
  }

  /** read()'s synchronous twin (Sessions.openNow): its answer when this process has it at once, else undefined. */
  readNow(cookieHeader: string | undefined): ReadSession | null | undefined {
    // Server-side sessions are read from the store: no parse here that read() would do again.
    if (this.sessions.serverSide) return undefined;
    const sealed = joinChunks(parseCookies(cookieHeader), this.name);
    return sealed ? this.sessions.openNow(sealed) : null;
  }

  /**
   * The Set-Cookie values for a session (one, or several chunks), renewing its idle window. A
   * session that will not fit is a coded error (502 LATCH_SESSION_TOO_LARGE), never a 500.
   */
  async write(session: Session, options: WriteOptions = {}): Promise<string[]> {
    const { sealed, maxAge } = await this.sessions.seal(session, { ...(options.now !== undefined ? { now: options.now } : {}), maxBytes: this.#maxSealBytes });
    const parts = splitChunks(sealed);
    if (!parts) {
      throw new LatchError('LATCH_SESSION_TOO_LARGE', {
        cause: new Error(`sealed session is ${sealed.length} bytes, more than ${MAX_CHUNKS} cookies`),
      });
    }
    const headers = parts.map((part, i) => serializeCookie(this.#policy, chunkName(this.name, i), part, maxAge));
    if (options.cookieHeader) {
      const used = new Set(parts.map((_, i) => chunkName(this.name, i)));
      for (const name of presentChunkNames(parseCookies(options.cookieHeader), this.name)) {
        if (!used.has(name)) headers.push(clearCookie(this.#policy, name));
      }
    }
    return headers;
  }

  /**
   * The Set-Cookie values that remove the session: the first cookie and every
   * chunk name a session can use, plus any other chunk the request carries.
   */
  clear(cookieHeader?: string): string[] {
    const names = new Set<string>();
    for (let i = 0; i < MAX_CHUNKS; i++) names.add(chunkName(this.name, i));
    if (cookieHeader) for (const name of presentChunkNames(parseCookies(cookieHeader), this.name)) names.add(name);
    return [...names].map((name) => clearCookie(this.#policy, name));
  }

  /**
   * A transaction cookie's name: `latch-tx-<createdAt, base36, 9 digits>-<first 16 characters of the
   * state>`. The time makes names sort oldest first without opening a seal; the state finds the cookie
   * at the callback, so tabs never overwrite each other's.
   */
  #txName(tx: Pick<LoginTransaction, 'state' | 'createdAt'>): string {
    return `${this.#txPrefix}${Math.max(0, Math.floor(tx.createdAt)).toString(36).padStart(9, '0').slice(-9)}-${tx.state.slice(0, 16)}`;
  }

  /** The transaction cookies among `cookies`, oldest first (a name without a time, from before names had one, first). */
  #txNames(cookies: Record<string, string>): string[] {
    const time = (name: string) => (/^[0-9a-z]{9}-/.test(name.slice(this.#txPrefix.length)) ? name.slice(this.#txPrefix.length, this.#txPrefix.length + 9) : '');
    return Object.keys(cookies)
      .filter((name) => name.startsWith(this.#txPrefix))
      .sort((a, b) => time(a).localeCompare(time(b)));
  }

  /** The names of the transaction cookies that belong to `state` (with or without a time). */
  #txNamesFor(cookies: Record<string, string>, state: string): string[] {
    const key = state.slice(0, 16);
    if (!key) return [];
    return this.#txNames(cookies).filter((name) => name === this.#txPrefix + key || name.endsWith(`-${key}`));
  }

  /**
   * The Set-Cookie values that start a sign-in: the transaction's own cookie, after clearing the
   * oldest of those the request carries, so that at most MAX_TRANSACTIONS remain.
   */
  async writeTransaction(tx: LoginTransaction, cookieHeader?: string): Promise<string[]> {
    const sealed = await this.sessions.sealer.seal(tx, TRANSACTION_TTL_S);
    const present = this.#txNames(parseCookies(cookieHeader));
    const dropped = present.slice(0, Math.max(0, present.length - (MAX_TRANSACTIONS - 1)));
    return [...dropped.map((name) => clearCookie(this.#policy, name)), serializeCookie(this.#policy, this.#txName(tx), sealed, TRANSACTION_TTL_S)];
  }

  /**
   * The transaction whose cookie matches this state exactly, or null (stale,
   * forged, other browser, or already used). Reading consumes it: the state is
   * marked used in the store, so a replayed callback, even with a copy of the
   * transaction cookie, is refused on every instance.
   */
  async readTransaction(cookieHeader: string | undefined, state: string): Promise<LoginTransaction | null> {
    if (!state) return null;
    const cookies = parseCookies(cookieHeader);
    let tx: LoginTransaction | null = null;
    for (const name of this.#txNamesFor(cookies, state)) {
      const opened = await this.sessions.sealer.unseal<LoginTransaction>(cookies[name]!);
      if (opened && opened.state === state) tx = opened;
    }
    if (!tx) return null;
    if (!(await this.sessions.claimOnce(`state:${digest(state)}`, TRANSACTION_TTL_S * 1000))) return null;
    return tx;
  }

  /** The Set-Cookie values that remove this state's transaction cookie (single use, whatever the outcome). */
  clearTransaction(cookieHeader: string | undefined, state: string): string[] {
    return this.#txNamesFor(parseCookies(cookieHeader), state).map((name) => clearCookie(this.#policy, name));
  }

  /** The Set-Cookie values that remove every transaction cookie the request carries (a request refused for its size). */
  clearTransactions(cookieHeader: string | undefined): string[] {
    return this.#txNames(parseCookies(cookieHeader)).map((name) => clearCookie(this.#policy, name));
  }
}

/**
 * A site's session cookies, by its public URL: `Secure` with the `__Host-` prefix on https
 * (`__Secure-` and `Path=/latch` under a path mount), plain names on http (development). With
 * `partitioned`, the hand-off's cookie (`__Host-latch-p; SameSite=None; Partitioned`), always
 * Secure: on plain http the browser drops it.
 */
export function siteCookies(sessions: Sessions, baseUrl: URL, options: { partitioned?: boolean } = {}): SessionCookies {
  const path = baseUrl.pathname.replace(/\/+$/, '') || '/';
  return options.partitioned
    ? new SessionCookies(sessions, { secure: true, path, partitioned: true }, PARTITIONED_COOKIE)
    : new SessionCookies(sessions, { secure: baseUrl.protocol === 'https:', path });
}
