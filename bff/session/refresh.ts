import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '../audit.ts';
import { LatchError } from '../errors.ts';
import { SingleFlight } from '../oauth/singleflight.ts';
import { RefreshKeptTokens, type Provider } from '../providers/provider.ts';
import type { Sealer } from './sealer.ts';
import { accessTokenStale, audienceTokenStale, REFRESH_MARGIN_MS, tokenFields, withAudienceToken, type Session } from './session.ts';
import { MemoryStore } from './stores/memory.ts';
import { storeKeys } from './store-keys.ts';
import type { KeyValueStore } from './store.ts';

export interface RefresherOptions {
  /** Shared with the sessions (session/sessions.ts): locks and results live here (Redis: across instances). */
  store?: KeyValueStore;
  /** Seals refresh results before they go to the store (they hold tokens). */
  sealer?: Sealer;
  /** How long the lock holder may take before another instance takes over. default 15 s */
  lockTtlMs?: number;
  /** How often a waiter looks for the result. default 25 ms */
  pollMs?: number;
  audit?: (event: AuditEvent) => void;
  /**
   * Writes a refreshed session where it lives when that is the store (server-side sessions: the
   * session's record, Sessions.saveRecord). Part of storing a result: retried with the shared result.
   */
  save?: (session: Session) => Promise<void>;
  /** How long to wait before trying again to store a result the store refused. default 250 ms */
  retryMs?: number;
  /** Told once when a result could not be stored within the lock's lifetime (ids only, never tokens). */
  logger?: { warn(obj: object, msg: string): void };
}

/** What the lock holder leaves for the others: the refreshed session, or the failure that ended it. */
type RefreshOutcome = { ok: Session } | { ended: string };

const FAILURE_TTL_MS = 30_000;
const MIN_RESULT_TTL_MS = 10_000;
const MAX_RESULT_TTL_MS = 15 * 60_000;
/**
 * Results not stored yet, kept in this process at most. Only refreshes in flight when the store went
 * away end up here (every other request fails at its session read first): a handful, each a few KB.
 * Beyond it the oldest is dropped, as before this list existed.
 */
const MAX_KEPT = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** A wait that does not keep the process alive (a retry in the background). */
const idle = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** A refreshed session this process holds until it is stored. */
interface Kept {
  session: Session;
  /** Epoch ms: when our lock on this refresh expires (the result is ours alone until then). */
  lockedUntil: number;
  /** Epoch ms: forgotten after this (the result's lifetime in the store, or the lock's). */
  until: number;
}

/**
 * Keeps a session's access token fresh, with one refresh per session and
 * refresh token across every instance:
 *
 * 1. In process, concurrent callers share one promise (SingleFlight).
 * 2. Across instances, the caller first looks for a result another instance
 *    stored (`refresh:{<sid>}:<hash(rt)>:result`); else it takes the lock
 *    (`…:lock`, SET NX PX with a random owner id), refreshes, stores the
 *    result (sealed) for the others and releases the lock (compare-and-delete).
 *    The others poll for the result; if the holder dies, its lock expires and
 *    one of them takes over.
 *
 * The result stays in the store for about the new access token's lifetime,
 * so a request that still carries the old cookie (rotated refresh token
 * already spent) gets the new tokens instead of ending the session.
 *
 * A result is never dropped before it is stored. The provider has already rotated the refresh token
 * when the store may refuse the write (Redis gone mid-refresh): losing the new tokens then would make
 * the next refresh spend the old one, `invalid_grant`, and most servers revoke the whole grant on
 * such a reuse, on every instance. So the holder keeps the result in memory (`#kept`, keyed like the
 * refresh), this process's later requests use it, and it stores the result and the session record
 * again every `retryMs` while it still holds the lock, releasing the lock only once both are stored.
 * The other instances, when the store is back, read the session record (old refresh token), find the
 * lock still held and wait for the result, which the holder stores within `retryMs` of the store's
 * return. Best effort beyond that: after an outage longer than what is left of the lock's lifetime,
 * the first request for the session after the store's return decides. On this process it takes the
 * lock and stores the held result; on another it spends the old token (the session ends, and this
 * process, seeing that outcome under the lock, drops its result).
 */
export class SessionRefresher {
  /** The provider to refresh a session at: the session's own (issue 17, providers/registry.ts). */
  readonly #provider: (session: Session) => Provider;
  readonly #flights = new SingleFlight<{ session: Session; stored: boolean }>();
  readonly #store: KeyValueStore;
  readonly #sealer: Sealer | undefined;
  readonly #lockTtlMs: number;
  /** How long a waiter waits for the holder's result before giving up (504): the lock's lifetime and 2 s. */
  readonly #waitMs: number;
  readonly #pollMs: number;
  readonly #audit: ((event: AuditEvent) => void) | undefined;
  readonly #save: ((session: Session) => Promise<void>) | undefined;
  readonly #retryMs: number;
  readonly #logger: RefresherOptions['logger'];
  /** Refresh results not stored yet, by refresh key (insertion order: oldest first). */
  readonly #kept = new Map<string, Kept>();

  constructor(provider: Provider | ((session: Session) => Provider), opts: RefresherOptions = {}) {
    this.#provider = typeof provider === 'function' ? provider : () => provider;
    this.#store = opts.store ?? new MemoryStore();
    this.#sealer = opts.sealer;
    this.#lockTtlMs = opts.lockTtlMs ?? 15_000;
    this.#waitMs = this.#lockTtlMs + 2000;
    this.#pollMs = opts.pollMs ?? 25;
    this.#audit = opts.audit;
    this.#save = opts.save;
    this.#retryMs = opts.retryMs ?? 250;
    this.#logger = opts.logger;
  }

  /** Refresh results held in memory because the store has not taken them yet. */
  get unstored(): number {
    return this.#kept.size;
  }

  /**
   * Returns the session unchanged when its access token is still good, or a
   * refreshed copy. `invalid_grant` and friends end the session
   * (LATCH_SESSION_EXPIRED); an unreachable server is a 502/504 and the
   * session survives; an unreachable store is a 503.
   */
  ensureFresh(session: Session, force = false): Promise<{ session: Session; refreshed: boolean }> {
    // The common case (a good token) without a second async frame: this runs on every /me and API call.
    if (!force && !this.due(session)) return Promise.resolve({ session, refreshed: false });
    return this.#ensureFresh(session, force, 0);
  }

  /** Whether the session's access token is due for a refresh (expired, or within the margin). */
  due(session: Session): boolean {
    return accessTokenStale(session);
  }

  /**
   * Returns the session unchanged when its token for `audience` (Session.au) is still good, or a copy
   * with a new one from a refresh-token grant with `resource=<audience>` (RFC 8707, oauth/audience.ts).
   * That grant spends the refresh token as a refresh does, so it is one: the same lock, the same
   * shared result, the rotated refresh token stored, the session written back; only the access
   * token it brings goes to `au` instead of `at`. A refresh and an audience grant racing for one
   * refresh token are run one after the other, the second with the first's new refresh token.
   */
  ensureAudience(session: Session, audience: string, force = false): Promise<{ session: Session; refreshed: boolean }> {
    if (!force && !audienceTokenStale(session, audience)) return Promise.resolve({ session, refreshed: false });
    return this.#ensureFresh(session, force, 0, audience);
  }

  async #ensureFresh(session: Session, force: boolean, depth: number, audience?: string): Promise<{ session: Session; refreshed: boolean }> {
    if (!force && !(audience === undefined ? accessTokenStale(session) : audienceTokenStale(session, audience))) return { session, refreshed: false };
    const rt = session.rt;
    if (!rt) throw new LatchError('LATCH_SESSION_EXPIRED', { detail: 'The access token expired, and the session has no refresh token.' });
    // In the session's hash-tag slot, with its record (store-keys.ts).
    const key = storeKeys.refresh(session.sid, rt);
    // A result this process holds but could not store yet: the same answer the store would give.
    const kept = this.#keptAt(key);
    const { session: next, stored } = kept ? { session: kept, stored: true } : await this.#flights.run(key, () => this.#coordinated(key, session, rt, audience));
    // The grant that spent this refresh token was of the other kind (a refresh when we wanted an API's
    // token, or the reverse): ours follows, with the refresh token it left.
    const unmet = audience === undefined ? next.at === session.at : next.au?.[audience]?.at === session.au?.[audience]?.at;
    if (unmet && depth < 2 && next.rt) {
      if (next.rt !== rt) return this.#ensureFresh(next, true, depth + 1, audience);
      // A server that does not rotate: the refresh token is not spent, so no lock is needed for it.
      return { session: (await this.#refresh(next, rt, `${key}:result`, audience)).next, refreshed: true };
    }
    // A result another request stored a while ago may hold an access token that has expired since:
    // refresh onwards from it, with its (rotated) refresh token. Never more than once in a row, and
    // never for a result of our own (a server whose tokens live less than the margin would loop).
    const expiresAt = audience === undefined ? next.atExp : (next.au?.[audience]?.exp ?? 0);
    if (stored && depth < 1 && expiresAt <= Date.now() && next.rt && next.rt !== rt) {
      return this.#ensureFresh(next, true, depth + 1, audience);
    }
    return { session: next, refreshed: true };
  }

  async #coordinated(key: string, session: Session, rt: string, audience?: string): Promise<{ session: Session; stored: boolean }> {
    const resultKey = `${key}:result`;
    const lockKey = `${key}:lock`;
    const deadline = Date.now() + this.#waitMs;
    for (;;) {
      const done = await this.#outcome(resultKey);
      if (done) {
        this.#kept.delete(key); // ours, stored late, or someone else's: the store's word wins
        return { session: this.#settle(done), stored: true };
      }
      const owner = randomUUID();
      const lockedUntil = Date.now() + this.#lockTtlMs;
      if (await this.#store.setIfAbsent(lockKey, owner, this.#lockTtlMs)) {
        let release = true;
        try {
          // Someone may have finished between our look and our lock.
          const raced = await this.#outcome(resultKey);
          if (raced) {
            this.#kept.delete(key);
            return { session: this.#settle(raced), stored: true };
          }
          // A result of ours whose lock ran out before the store came back is this refresh's outcome:
          // the lock is ours again and no one stored another, so it is stored now rather than the
          // provider asked again with the refresh token it has already spent.
          const held = this.#kept.get(key);
          const { next, stored } = held && held.until > Date.now()
            ? { next: held.session, stored: await this.#persist(resultKey, held.session) }
            : await this.#refresh(session, rt, resultKey, audience);
          if (stored) {
            this.#kept.delete(key);
          } else {
            // Held in memory, stored by #storeLater, which releases the lock once it has.
            release = false;
            this.#keep(key, next, lockedUntil);
            void this.#storeLater(key, resultKey, lockKey, owner, lockedUntil);
          }
          return { session: next, stored: held !== undefined };
        } finally {
          if (release) await this.#store.delIfEquals(lockKey, owner).catch(() => undefined);
        }
      }
      if (Date.now() >= deadline) {
        throw new LatchError('LATCH_UPSTREAM_TIMEOUT', {
          detail: 'The session could not be refreshed in time: another instance was refreshing it.',
        });
      }
      await sleep(this.#pollMs);
    }
  }

  /**
   * Refreshes at the provider and stores the result; `stored` false when the store refused it. With
   * `audience`, the grant asks for that resource (RFC 8707) and its access token goes to `au`.
   */
  async #refresh(session: Session, rt: string, resultKey: string, audience?: string): Promise<{ next: Session; stored: boolean }> {
    let next: Session;
    try {
      const result = await this.#provider(session).refresh(rt, session.user.sub, session.dk, audience);
      next = {
        ...session,
        ...tokenFieldsFor(session, result.tokens, audience),
        // Keep the old ID token for the logout hint when the server sent none.
        ...(result.tokens.idToken ? {} : session.idt ? { idt: session.idt } : {}),
        user: result.user ? { ...session.user, ...result.user } : session.user,
      };
    } catch (err) {
      const code = err instanceof LatchError ? err.code : 'LATCH_INTERNAL';
      this.#audit?.({ type: 'refresh_failed', sid: session.sid, sub: session.user.sub, code, time: Date.now() });
      if (err instanceof RefreshKeptTokens) {
        // Granted, but the ID token could not be checked (no keys): keep the new tokens for the next
        // request (the old refresh token may be spent), keep the claims and ID token we have, answer the 5xx.
        const kept: Session = { ...session, ...tokenFieldsFor(session, err.tokens, audience), ...(session.idt ? { idt: session.idt } : {}) };
        await this.#persist(resultKey, kept);
        throw err;
      }
      if (err instanceof LatchError && (err.code === 'LATCH_REFRESH_FAILED' || err.code === 'LATCH_ID_TOKEN_INVALID')) {
        // The grant or its ID token was refused (both 400): the session has ended. A refused client
        // (LATCH_CLIENT_REFUSED) or a server fault (5xx) keeps it. Publishing the end is best effort:
        // the others would refresh themselves and be refused the same way.
        await this.#publish(resultKey, { ended: err.code }, FAILURE_TTL_MS).catch(() => undefined);
        throw new LatchError('LATCH_SESSION_EXPIRED', { cause: err });
      }
      throw err;
    }
    return { next, stored: await this.#persist(resultKey, next) };
  }

  /**
   * The result's lifetime in the store: about the new access token's, or an API token's
   * (ensureAudience) when that lives longer: a request still carrying the cookie from before an API
   * token's grant must find the result, not spend the old refresh token.
   */
  #resultTtl(next: Session): number {
    let until = next.atExp;
    for (const token of Object.values(next.au ?? {})) until = Math.max(until, token.exp);
    return Math.min(MAX_RESULT_TTL_MS, Math.max(MIN_RESULT_TTL_MS, until - REFRESH_MARGIN_MS - Date.now()));
  }

  /** Stores a refresh result: shared for the others, and the session record where there is one. False when the store refused. */
  async #persist(resultKey: string, next: Session): Promise<boolean> {
    try {
      await this.#publish(resultKey, { ok: next }, this.#resultTtl(next));
      await this.#save?.(next);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Tries again to store a result the store refused, every `retryMs` until the lock it holds expires,
   * then releases the lock. The result stays in memory meanwhile (and after, until its lifetime ends,
   * for this process's requests).
   */
  async #storeLater(key: string, resultKey: string, lockKey: string, owner: string, lockedUntil: number): Promise<void> {
    while (Date.now() < lockedUntil) {
      await idle(this.#retryMs);
      const kept = this.#kept.get(key);
      if (!kept) return;
      if (await this.#persist(resultKey, kept.session)) {
        this.#kept.delete(key);
        await this.#store.delIfEquals(lockKey, owner).catch(() => undefined);
        return;
      }
    }
    const sid = this.#kept.get(key)?.session.sid;
    this.#logger?.warn(
      { event: 'refresh-unstored', sid },
      'a refreshed session could not be stored within the refresh lock\'s lifetime: kept in memory, stored by this instance\'s next request for it, unless another instance spends the old refresh token first (the session then ends)',
    );
  }

  #keep(key: string, session: Session, lockedUntil: number): void {
    const now = Date.now();
    for (const [oldest, kept] of this.#kept) {
      if (kept.until > now && this.#kept.size < MAX_KEPT) break;
      this.#kept.delete(oldest);
    }
    this.#kept.set(key, { session, lockedUntil, until: Math.max(lockedUntil, now + this.#resultTtl(session)) });
  }

  /**
   * A result of ours that this process's requests may use without asking the store: only while our
   * lock on it holds, so no one else can have refreshed (or failed to) meanwhile. After that it is
   * used through the lock again (#coordinated), where a result stored by another instance wins.
   */
  #keptAt(key: string): Session | undefined {
    const kept = this.#kept.get(key);
    return kept && kept.lockedUntil > Date.now() ? kept.session : undefined;
  }

  /** Puts an outcome in the store for the others (sealed); rejects when the store refuses it. */
  async #publish(resultKey: string, outcome: RefreshOutcome, ttlMs: number): Promise<void> {
    const value = this.#sealer ? await this.#sealer.seal(outcome, Math.ceil(ttlMs / 1000)) : JSON.stringify(outcome);
    await this.#store.set(resultKey, value, ttlMs);
  }

  async #outcome(resultKey: string): Promise<RefreshOutcome | null> {
    const value = await this.#store.get(resultKey);
    if (!value) return null;
    if (this.#sealer) return this.#sealer.unseal<RefreshOutcome>(value);
    try {
      return JSON.parse(value) as RefreshOutcome;
    } catch {
      return null;
    }
  }

  #settle(outcome: RefreshOutcome): Session {
    if ('ok' in outcome) return outcome.ok;
    throw new LatchError('LATCH_SESSION_EXPIRED', { detail: `The refresh failed on another request (${outcome.ended}).` });
  }
}

/** What a grant changes: the access token (`at`), or with `audience` that API's own (`au`); the refresh and ID tokens either way. */
function tokenFieldsFor(session: Session, tokens: Parameters<typeof tokenFields>[0], audience: string | undefined): Partial<Session> {
  if (audience === undefined) return tokenFields(tokens);
  const { rt, idt } = tokenFields(tokens);
  return { au: withAudienceToken(session, audience, tokens).au!, ...(rt ? { rt } : {}), ...(idt ? { idt } : {}) };
}
