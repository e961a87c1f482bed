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
import { DenyList } from './denylist.ts';
import { Sealer } from './sealer.ts';
import { isSession, sessionEnd, type Session } from './session.ts';
import { MemoryStore } from './stores/memory.ts';
import { digest, type KeyValueStore } from './store.ts';

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

/** Default idle timeout, seconds: 30 minutes (OWASP ASVS 4 §3.3.2, level 2). */
export const DEFAULT_IDLE_TIMEOUT_S = 30 * 60;

/**
 * The idle window is renewed (the session resealed) only once this fraction
 * of it has passed since the last renewal, so an active user costs one
 * reseal per few minutes, not one per request. The idle end a user sees is
 * therefore between 90% and 100% of the configured timeout after their last
 * request.
 */
export const IDLE_RENEW_FRACTION = 0.1;

export interface SessionManagerOptions {
  secrets: readonly string[];
  policy: CookiePolicy;
  /** Absolute session lifetime, seconds. */
  maxAge: number;
  /** Idle lifetime, seconds. default DEFAULT_IDLE_TIMEOUT_S */
  idleTimeout?: number;
  /** Deny-list, one-time markers and (server-side mode) session records. default: a MemoryStore */
  store?: KeyValueStore;
  /** Keep the session (tokens included) in the store; the cookie holds only a sealed reference. default false */
  serverSide?: boolean;
  /** The session cookie's name before its prefix. default `latch` */
  cookieName?: string;
  /** Share another manager's sealer (and so its cache of opened seals). default: a new one from `secrets` */
  sealer?: Sealer;
}

export interface ReadSession {
  session: Session;
  /**
   * Write it back on the way out: sealed with an older key (resealed with the
   * newest), or a meaningful part of the idle window has passed (renewed).
   */
  stale: boolean;
}

export interface WriteOptions {
  now?: number;
  /** The request's Cookie header: chunk cookies it carries that the new session no longer uses are cleared. */
  cookieHeader?: string | undefined;
}

/**
 * The longest seal a partitioned cookie holds: one cookie (CHUNK_BYTES). Chromium keeps at most 10 KiB
 * of partitioned cookies (names and values) per embedded site in each partition (CHIPS), shared by
 * every host of the BFF's site; a three-chunk session of 10.5 KB lost its first chunk there, and the
 * page was told third-party cookies are blocked (issue 13). A longer session is kept in the store, the
 * partitioned cookie holding a sealed reference, as in server-side mode.
 */
export const PARTITIONED_COOKIE_BYTES = CHUNK_BYTES;

/** What the cookie holds in server-side mode (and for a partitioned session too large for one cookie). */
interface SessionRef {
  v: 1;
  ref: string;
}

const isRef = (value: unknown): value is SessionRef =>
  !!value && typeof value === 'object' && (value as SessionRef).v === 1 && typeof (value as SessionRef).ref === 'string';

/**
 * Reads and writes the sealed cookies: the session (chunked when large, see
 * cookies.ts), and one transaction cookie per sign-in attempt (named after
 * its state, so tabs do not collide). Enforces the absolute and idle
 * lifetimes and the deny-list on every read. Knows nothing of Koa: it takes a
 * Cookie header and gives Set-Cookie values.
 */
export class SessionManager {
  readonly sealer: Sealer;
  readonly store: KeyValueStore;
  readonly denyList: DenyList;
  readonly sessionCookie: string;
  readonly serverSide: boolean;
  readonly #policy: CookiePolicy;
  readonly #maxAgeS: number;
  readonly #idleMs: number;
  readonly #txPrefix: string;
  readonly #options: SessionManagerOptions;
  /** A seal longer than this goes to the store behind a reference (partitioned cookies); undefined: never (chunks). */
  readonly #overflowBytes: number | undefined;

  constructor(options: SessionManagerOptions) {
    this.#options = options;
    this.sealer = options.sealer ?? new Sealer(options.secrets);
    this.#policy = options.policy;
    this.#maxAgeS = options.maxAge;
    this.#idleMs = (options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_S) * 1000;
    this.store = options.store ?? new MemoryStore();
    this.serverSide = options.serverSide ?? false;
    this.denyList = new DenyList(this.store, { retentionMs: options.maxAge * 1000 });
    this.sessionCookie = cookieName(options.policy, options.cookieName ?? 'latch');
    this.#txPrefix = cookieName(options.policy, 'latch-tx-');
    this.#overflowBytes = options.policy.partitioned && !this.serverSide ? PARTITIONED_COOKIE_BYTES : undefined;
  }

  /**
   * The same sessions (sealer, store, lifetimes, deny-list) under other cookies: a site's path
   * mount, or the partitioned hand-off cookie (`cookieName`, e.g. `latch-p`). Transaction cookies
   * follow the policy too.
   */
  withCookies(policy: CookiePolicy, cookieName = this.#options.cookieName): SessionManager {
    return new SessionManager({ ...this.#options, policy, sealer: this.sealer, store: this.store, ...(cookieName ? { cookieName } : {}) });
  }

  /** Idle timeout, ms. */
  get idleTimeoutMs(): number {
    return this.#idleMs;
  }

  /**
   * The session, or null for anything that is not a live session: absent,
   * tampered, truncated, sealed with an unknown key, past its absolute or idle
   * end, or ended early (logout, back-channel logout, sign out everywhere).
   * Rejects with 503 LATCH_STORE_UNAVAILABLE only when the store cannot say.
   */
  async read(cookieHeader: string | undefined, now = Date.now(), options: { denyList?: boolean } = {}): Promise<ReadSession | null> {
    const sealed = joinChunks(parseCookies(cookieHeader), this.sessionCookie);
    if (!sealed) return null;
    let stale = this.sealer.isStale(sealed);
    let data: unknown = this.sealer.openedBefore<object>(sealed) ?? (await this.sealer.unsealCached<object>(sealed, this.#maxAgeS));
    if (this.serverSide || (this.#overflowBytes !== undefined && isRef(data))) {
      if (!isRef(data)) return null;
      const ref = data.ref;
      const record = await this.store.get(SessionManager.recordKey(ref));
      if (!record) return null;
      stale ||= this.sealer.isStale(record);
      data = await this.sealer.unsealCached<object>(record, this.#maxAgeS);
      if (isSession(data) && data.sid !== ref) return null;
    }
    if (!isSession(data)) return null;
    const session = data;
    if (session.exp <= now || sessionEnd(session, this.#idleMs) <= now) return null;
    // `denyList: false` only for logout while the store is down: it ends the session anyway.
    if (options.denyList !== false) {
      const identity = { sid: session.sid, sub: session.user.sub, psid: session.psid, iat: session.iat };
      if (this.denyList.isDeniedNow(identity, session) ?? (await this.denyList.isDenied(identity, session))) return null;
    }
    stale ||= now - (session.seen ?? session.iat) >= this.#idleMs * IDLE_RENEW_FRACTION;
    return { session, stale };
  }

  /** The session with its idle window renewed now (what write() seals). */
  touch(session: Session, now = Date.now()): Session {
    return { ...session, seen: now };
  }

  /** When the session ends, epoch ms: the earlier of the absolute and the idle end. */
  expiresAt(session: Session): number {
    return sessionEnd(session, this.#idleMs);
  }

  /**
   * The Set-Cookie values for a session (one, or several chunks), renewing
   * its idle window. In server-side mode the session goes to the store and
   * the cookie holds a sealed reference; so does a partitioned session whose
   * seal is longer than one cookie (PARTITIONED_COOKIE_BYTES). A session that
   * will not fit is a coded error (502 LATCH_SESSION_TOO_LARGE), never a 500.
   */
  async write(session: Session, options: WriteOptions = {}): Promise<string[]> {
    const now = options.now ?? Date.now();
    const touched = this.touch(session, now);
    const remaining = this.#remainingS(touched, now);
    let sealed = this.serverSide ? undefined : await this.sealer.seal(touched, remaining);
    if (sealed === undefined || (this.#overflowBytes !== undefined && sealed.length > this.#overflowBytes)) {
      await this.#storeRecord(touched, remaining, sealed);
      const ref: SessionRef = { v: 1, ref: session.sid };
      sealed = await this.sealer.seal(ref, remaining);
    }
    const parts = splitChunks(sealed);
    if (!parts) {
      throw new LatchError('LATCH_SESSION_TOO_LARGE', 502, 'The session is too large to keep in cookies.', {
        cause: new Error(`sealed session is ${sealed.length} bytes, more than ${MAX_CHUNKS} cookies`),
      });
    }
    const headers = parts.map((part, i) => serializeCookie(this.#policy, chunkName(this.sessionCookie, i), part, remaining));
    if (options.cookieHeader) {
      const used = new Set(parts.map((_, i) => chunkName(this.sessionCookie, i)));
      for (const name of presentChunkNames(parseCookies(options.cookieHeader), this.sessionCookie)) {
        if (!used.has(name)) headers.push(clearCookie(this.#policy, name));
      }
    }
    return headers;
  }

  /**
   * Server-side mode: stores the session's record (its idle window renewed), as write() does, without
   * making cookies: a refresh result stored again after the store came back (session/refresh.ts).
   * Nothing to do in cookie mode, where the cookie is the only copy.
   */
  async saveRecord(session: Session, now = Date.now()): Promise<void> {
    if (!this.serverSide) return;
    const touched = this.touch(session, now);
    await this.#storeRecord(touched, this.#remainingS(touched, now));
  }

  /** Seconds until the session ends (at least 1): the lifetime of its seal, cookie and record. */
  #remainingS(session: Session, now: number): number {
    return Math.max(1, Math.floor((sessionEnd(session, this.#idleMs) - now) / 1000));
  }

  async #storeRecord(touched: Session, remainingS: number, sealed?: string): Promise<void> {
    const record = sealed ?? (await this.sealer.seal(touched, remainingS));
    await this.store.set(SessionManager.recordKey(touched.sid), record, remainingS * 1000);
  }

  /**
   * The Set-Cookie values that remove the session: the first cookie and every
   * chunk name a session can use, plus any other chunk the request carries.
   */
  clear(cookieHeader?: string): string[] {
    const names = new Set<string>();
    for (let i = 0; i < MAX_CHUNKS; i++) names.add(chunkName(this.sessionCookie, i));
    if (cookieHeader) for (const name of presentChunkNames(parseCookies(cookieHeader), this.sessionCookie)) names.add(name);
    return [...names].map((name) => clearCookie(this.#policy, name));
  }

  /**
   * Ends one session everywhere: its id goes on the deny-list until its
   * absolute end (so a copy of the cookie is refused on every instance), and
   * its server-side record, if any, is deleted.
   */
  async end(session: Session, now = Date.now()): Promise<void> {
    await this.denyList.denySession(session.sid, session.exp, now);
    if (this.serverSide || this.#overflowBytes !== undefined) await this.store.del(SessionManager.recordKey(session.sid));
  }

  /** Ends every session of a user created until `at` ("sign out everywhere", back-channel logout by sub). */
  async endAllFor(sub: string, at = Date.now()): Promise<void> {
    await this.denyList.denySubject(sub, at);
  }

  /** Ends every session created from a provider session until `at` (back-channel logout by sid). */
  async endProviderSession(psid: string, at = Date.now()): Promise<void> {
    await this.denyList.denyProviderSession(psid, at);
  }

  /** A one-time marker: true the first time `key` is claimed within `ttlMs` (replay checks). */
  claimOnce(key: string, ttlMs: number): Promise<boolean> {
    return this.store.setIfAbsent(`once:${key}`, '1', ttlMs);
  }

  static recordKey(sid: string): string {
    return `sess:${sid}`;
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
    const sealed = await this.sealer.seal(tx, TRANSACTION_TTL_S);
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
      const opened = await this.sealer.unseal<LoginTransaction>(cookies[name]!, TRANSACTION_TTL_S);
      if (opened && opened.state === state) tx = opened;
    }
    if (!tx) return null;
    if (!(await this.claimOnce(`state:${digest(state)}`, TRANSACTION_TTL_S * 1000))) return null;
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
