import { publicId } from './index-store.ts';
import { storeKeys } from './store-keys.ts';
import type { KeyValueStore } from './store.ts';

/**
 * Ends stateless (cookie) sessions before their time. Three kinds of entry:
 *
 * - `deny:sid:{<our session id>}`: that one session (logout, replayed cookie after
 *   logout). Kept until the session's absolute end.
 * - `deny:pid:<public id>`: that one session too, known by its public id only (`DELETE
 *   /sessions/<id>`, index-store.ts `publicId`). Kept until the session's absolute end.
 * - `deny:psid:<digest(provider sid)>` = T: sessions created from that provider session
 *   at or before T (back-channel logout with a `sid`).
 * - `deny:sub:{<digest(subject)>}` = T: every session of the user created at or before T
 *   (back-channel logout with only `sub`, "sign out everywhere"). A sign-in
 *   after T is not affected.
 *
 * Time-bound entries live as long as a session created just before T could
 * (the absolute lifetime), then expire on their own. T is compared with the
 * session's creation time plus `skewMs`, so instances whose clocks differ by up
 * to a second still deny what they must.
 */
export interface SessionIdentity {
  sid: string;
  sub: string;
  psid?: string | undefined;
  /** Created, epoch ms. */
  iat: number;
}

export const DENY_CLOCK_SKEW_MS = 1000;

export class DenyList {
  readonly #store: KeyValueStore;
  readonly #retentionMs: number;
  readonly #skewMs: number;

  constructor(store: KeyValueStore, options: { retentionMs: number; skewMs?: number }) {
    this.#store = store;
    this.#retentionMs = options.retentionMs;
    this.#skewMs = options.skewMs ?? DENY_CLOCK_SKEW_MS;
  }

  // The keys and their hash tags: store-keys.ts.
  static sidKey = storeKeys.deniedSession;
  static psidKey = storeKeys.deniedProviderSession;
  static subKey = storeKeys.deniedUser;
  // A key of its own (no tag): DELETE /sessions/<id> knows the public id only, not the session id.
  static pidKey = (id: string) => `deny:pid:${id}`;

  /** Ends one session until `untilMs` (its absolute end). */
  async denySession(sid: string, untilMs: number, now = Date.now()): Promise<void> {
    await this.#store.set(DenyList.sidKey(sid), '1', Math.max(1000, untilMs - now + this.#skewMs));
  }

  /** Ends one session known by its public id until `untilMs` (its absolute end). */
  async denyPublicId(id: string, untilMs: number, now = Date.now()): Promise<void> {
    await this.#store.set(DenyList.pidKey(id), '1', Math.max(1000, untilMs - now + this.#skewMs));
  }

  /** Ends every session from this provider session created at or before `at`. */
  async denyProviderSession(psid: string, at = Date.now()): Promise<void> {
    await this.#store.setMax(DenyList.psidKey(psid), at, this.#retentionMs + this.#skewMs);
  }

  /** Ends every session of the user created at or before `at`. */
  async denySubject(sub: string, at = Date.now()): Promise<void> {
    await this.#store.setMax(DenyList.subKey(sub), at, this.#retentionMs + this.#skewMs);
  }

  /**
   * The store keys a session's check reads, remembered per `owner` object: Sessions.open() passes the
   * session itself, the same frozen object for the same cookie (session/sessions.ts, fast paths), so its
   * subject is hashed once, not on every request.
   */
  #keys = new WeakMap<object, string[]>();

  keysOf(session: SessionIdentity, owner: object = session): string[] {
    let keys = this.#keys.get(owner);
    if (!keys) {
      keys = [DenyList.sidKey(session.sid), DenyList.subKey(session.sub), DenyList.pidKey(publicId(session.sid))];
      if (session.psid) keys.push(DenyList.psidKey(session.psid));
      this.#keys.set(owner, keys);
    }
    return keys;
  }

  /**
   * One round trip (on a cluster, one per node holding a key: the keys are in different slots). Rejects (503) when the store cannot answer: a deny-list that cannot be read fails
   * closed. `owner`: an object that stands for this session for as long as it lives (see keysOf).
   */
  async isDenied(session: SessionIdentity, owner?: object): Promise<boolean> {
    return this.#denied(session, await this.#store.mget(this.keysOf(session, owner)));
  }

  /**
   * isDenied() answered at once, or undefined when the store cannot answer without a round trip
   * (Redis): then call isDenied(). The fast-path family's twin (session/sessions.ts).
   */
  isDeniedNow(session: SessionIdentity, owner?: object): boolean | undefined {
    const values = this.#store.mgetNow?.(this.keysOf(session, owner));
    return values && this.#denied(session, values);
  }

  #denied(session: SessionIdentity, [sid, sub, pid, psid]: ReadonlyArray<string | null | undefined>): boolean {
    if ((sid !== null && sid !== undefined) || (pid !== null && pid !== undefined)) return true;
    const before = (value: string | null | undefined) => {
      if (value === null || value === undefined) return false;
      const at = Number(value);
      return Number.isFinite(at) && session.iat <= at + this.#skewMs;
    };
    return before(sub) || before(psid);
  }
}
