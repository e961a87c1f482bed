/**
 * The application's sessions: one `Sessions` per app, whatever its sites and cookies. It owns the
 * sealer (and its cache of opened seals), the store (deny-list, one-time markers, server-side
 * records), the lifetimes, and ending sessions. Cookies are not its business: each site (and its
 * partitioned hand-off cookie) has a `SessionCookies` (session-cookies.ts) that joins a session's
 * chunks into one sealed value and opens it here.
 *
 * Fast paths. A warm read (a cookie seen before) runs without a promise of its own wherever the
 * answer is in this process: each async read that has such a fast path has a synchronous twin named
 * after it with `Now` (`Sealer.unsealCachedNow`, `DenyList.isDeniedNow`, `KeyValueStore.mgetNow`),
 * which gives the same answer when it can give one at once and `undefined` otherwise (then call the
 * async one). They rest on one rule, kept by `open()`: **the same cookie opens to the same frozen
 * object** (the one the sealer's cache holds), for as long as the cache keeps it. So anything worked
 * out from a session can be remembered against the object: the deny-list's keys (denylist.ts
 * `keysOf`), `/me`'s serialised answer (routes/me.ts). A session that changes (touched, refreshed)
 * is a new object, and so is worked out again.
 */
import type { SignInResult } from '../providers/provider.ts';
import { DenyList } from './denylist.ts';
import { Sealer } from './sealer.ts';
import { storeKeys } from './store-keys.ts';
import { createSession, isSession, sessionEnd, type Session } from './session.ts';
import { MemoryStore } from './stores/memory.ts';
import type { KeyValueStore } from './store.ts';

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

export interface SessionsOptions {
  secrets: readonly string[];
  /** Absolute session lifetime, seconds. */
  maxAge: number;
  /** Idle lifetime, seconds. default DEFAULT_IDLE_TIMEOUT_S */
  idleTimeout?: number;
  /** Deny-list, one-time markers and (server-side mode) session records. default: a MemoryStore */
  store?: KeyValueStore;
  /** Keep the session (tokens included) in the store; the cookie holds only a sealed reference. default false */
  serverSide?: boolean;
}

export interface ReadSession {
  /** The session: for the same cookie, the same frozen object (see the fast paths above). */
  session: Session;
  /**
   * Write it back on the way out: sealed with an older key (resealed with the
   * newest), or a meaningful part of the idle window has passed (renewed).
   */
  stale: boolean;
}

/** What a cookie holds in server-side mode (and for a partitioned session too large for one cookie). */
interface SessionRef {
  v: 1;
  ref: string;
}

const isRef = (value: unknown): value is SessionRef =>
  !!value && typeof value === 'object' && (value as SessionRef).v === 1 && typeof (value as SessionRef).ref === 'string';

/** What `open()` may skip: `denyList: false` only for logout while the store is down (it ends the session anyway). */
export interface OpenOptions {
  denyList?: boolean;
}

/** What the deny-list checks a session by. */
const identityOf = (session: Session) => ({ sid: session.sid, sub: session.user.sub, psid: session.psid, iat: session.iat });

/** The store key of a session's record (its hash tag: store-keys.ts). */
const recordKey = storeKeys.session;

/**
 * Opens sealed sessions into live ones and seals them again, enforcing the absolute and idle
 * lifetimes and the deny-list on every open. A session is sealed whole into its cookie, or (in
 * server-side mode, or when the cookie has less room than its seal needs) kept in the store as a
 * sealed record, the cookie holding a sealed reference to it. No Koa, no cookies.
 */
export class Sessions {
  readonly sealer: Sealer;
  readonly store: KeyValueStore;
  readonly #denyList: DenyList;
  readonly serverSide: boolean;
  readonly #maxAgeS: number;
  readonly #idleMs: number;

  constructor(options: SessionsOptions) {
    this.sealer = new Sealer(options.secrets);
    this.#maxAgeS = options.maxAge;
    this.#idleMs = (options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_S) * 1000;
    this.store = options.store ?? new MemoryStore();
    this.serverSide = options.serverSide ?? false;
    this.#denyList = new DenyList(this.store, { retentionMs: options.maxAge * 1000 });
  }

  /** A new session for a completed sign-in, with the configured absolute lifetime. */
  create(result: SignInResult, now = Date.now()): Session {
    return createSession(result, this.#maxAgeS, now);
  }

  /**
   * The live session a sealed value stands for, or null for anything that is not one: tampered,
   * truncated, sealed with an unknown key, past its absolute or idle end, or ended early (logout,
   * back-channel logout, sign out everywhere). Rejects with 503 LATCH_STORE_UNAVAILABLE only when
   * the store cannot say. The same sealed value gives the same frozen session object (above).
   */
  open(sealed: string, now = Date.now(), options: OpenOptions = {}): Promise<ReadSession | null> {
    const known = this.openNow(sealed, now, options);
    return known === undefined ? this.#open(sealed, now, options) : Promise.resolve(known);
  }

  /**
   * open()'s synchronous twin (the fast paths above): its answer when this process has it at once (a
   * cookie-mode seal opened before, the deny-list answered from memory), undefined otherwise (then
   * call open()). A warm /me runs on it with no promise of its own.
   */
  openNow(sealed: string, now = Date.now(), options: OpenOptions = {}): ReadSession | null | undefined {
    if (this.serverSide) return undefined;
    const data = this.sealer.unsealCachedNow<object>(sealed);
    if (data === undefined || isRef(data)) return undefined;
    const session = this.#live(data, now);
    if (!session) return null;
    const denied = options.denyList === false ? false : this.#denyList.isDeniedNow(identityOf(session), session);
    if (denied === undefined) return undefined;
    return denied ? null : this.#read(session, this.sealer.isStale(sealed), now);
  }

  async #open(sealed: string, now: number, options: OpenOptions): Promise<ReadSession | null> {
    let stale = this.sealer.isStale(sealed);
    let data: unknown = await this.sealer.unsealCached<object>(sealed);
    // A reference to the session's record: always in server-side mode, and for a partitioned
    // session too long for its one cookie (session-cookies.ts) in cookie mode.
    if (this.serverSide || isRef(data)) {
      if (!isRef(data)) return null;
      const ref = data.ref;
      const record = await this.store.get(recordKey(ref));
      if (!record) return null;
      stale ||= this.sealer.isStale(record);
      data = await this.sealer.unsealCached<object>(record);
      if (isSession(data) && data.sid !== ref) return null;
    }
    const session = this.#live(data, now);
    if (!session) return null;
    // `denyList: false` only for logout while the store is down: it ends the session anyway.
    if (options.denyList !== false) {
      const identity = identityOf(session);
      if (this.#denyList.isDeniedNow(identity, session) ?? (await this.#denyList.isDenied(identity, session))) return null;
    }
    return this.#read(session, stale, now);
  }

  /** `data` when it is a session within its absolute and idle lifetimes, else null. */
  #live(data: unknown, now: number): Session | null {
    return isSession(data) && data.exp > now && sessionEnd(data, this.#idleMs) > now ? data : null;
  }

  /** The read of a live session: stale too once a meaningful part of its idle window has passed. */
  #read(session: Session, sealedStale: boolean, now: number): ReadSession {
    return { session, stale: sealedStale || now - (session.seen ?? session.iat) >= this.#idleMs * IDLE_RENEW_FRACTION };
  }

  /** The session with its idle window renewed now (what seal() seals): a new object. */
  touch(session: Session, now = Date.now()): Session {
    return { ...session, seen: now };
  }

  /** When the session ends, epoch ms: the earlier of the absolute and the idle end. */
  expiresAt(session: Session): number {
    return sessionEnd(session, this.#idleMs);
  }

  /**
   * The sealed value a cookie keeps for `session`, its idle window renewed, and how long it lives
   * (seconds: the cookie's Max-Age). In server-side mode the session goes to the store and the
   * value is a sealed reference; so it does when its seal is longer than `maxBytes` (a partitioned
   * cookie, which has room for one chunk only).
   */
  async seal(session: Session, options: { now?: number; maxBytes?: number | undefined } = {}): Promise<{ sealed: string; maxAge: number }> {
    const now = options.now ?? Date.now();
    const touched = this.touch(session, now);
    const maxAge = this.#remainingS(touched, now);
    let sealed = this.serverSide ? undefined : await this.sealer.seal(touched, maxAge);
    if (sealed === undefined || (options.maxBytes !== undefined && sealed.length > options.maxBytes)) {
      await this.#storeRecord(touched, maxAge, sealed);
      const ref: SessionRef = { v: 1, ref: session.sid };
      sealed = await this.sealer.seal(ref, maxAge);
    }
    return { sealed, maxAge };
  }

  /**
   * Server-side mode: stores the session's record (its idle window renewed), as seal() does, without
   * making a cookie: a refresh result stored again after the store came back (session/refresh.ts).
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
    await this.store.set(recordKey(touched.sid), record, remainingS * 1000);
  }

  /**
   * Ends one session everywhere: its id goes on the deny-list until its absolute end (so a copy of
   * the cookie is refused on every instance), and its record, if it has one (server-side mode, or a
   * partitioned session too long for its cookie), is deleted.
   */
  async end(session: Session, now = Date.now()): Promise<void> {
    await this.#denyList.denySession(session.sid, session.exp, now);
    await this.store.del(recordKey(session.sid));
  }

  /**
   * Ends one session known by its public id only (`DELETE /sessions/<id>`: index-store.ts), until
   * `exp`, its absolute end. A server-side record is left to expire: nothing opens it any more.
   */
  async endById(id: string, exp: number, now = Date.now()): Promise<void> {
    await this.#denyList.denyPublicId(id, exp, now);
  }

  /** Ends every session of a user created until `at` ("sign out everywhere", back-channel logout by sub). */
  async endAllFor(sub: string, at = Date.now()): Promise<void> {
    await this.#denyList.denySubject(sub, at);
  }

  /** Ends every session created from a provider session until `at` (back-channel logout by sid). */
  async endProviderSession(psid: string, at = Date.now()): Promise<void> {
    await this.#denyList.denyProviderSession(psid, at);
  }

  /** A one-time marker: true the first time `key` is claimed within `ttlMs` (replay checks). */
  claimOnce(key: string, ttlMs: number): Promise<boolean> {
    return this.store.setIfAbsent(storeKeys.once(key), '1', ttlMs);
  }
}
