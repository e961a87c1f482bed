import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '../audit.ts';
import { LatchError, sessionExpired } from '../errors.ts';
import { SingleFlight } from '../oauth/singleflight.ts';
import { RefreshKeptTokens, type Provider } from '../providers/provider.ts';
import type { Sealer } from './sealer.ts';
import { accessTokenStale, tokenFields, type Session } from './session.ts';
import { MemoryStore } from './stores/memory.ts';
import { digest, type KeyValueStore } from './store.ts';

export interface RefresherOptions {
  /** Shared with the session manager: locks and results live here (Redis: across instances). */
  store?: KeyValueStore;
  /** Seals refresh results before they go to the store (they hold tokens). */
  sealer?: Sealer;
  /** Refresh this long before the access token expires, or at half its lifetime if that is later. default 30 s */
  skewMs?: number;
  /** How long the lock holder may take before another instance takes over. default 15 s */
  lockTtlMs?: number;
  /** How long a waiter waits for the holder's result before giving up (504). default lockTtlMs + 2 s */
  waitMs?: number;
  /** How often a waiter looks for the result. default 25 ms */
  pollMs?: number;
  audit?: (event: AuditEvent) => void;
}

/** What the lock holder leaves for the others: the refreshed session, or the failure that ended it. */
type RefreshOutcome = { ok: Session } | { ended: string };

const FAILURE_TTL_MS = 30_000;
const MIN_RESULT_TTL_MS = 10_000;
const MAX_RESULT_TTL_MS = 15 * 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Keeps a session's access token fresh, with one refresh per session and
 * refresh token across every instance:
 *
 * 1. In process, concurrent callers share one promise (SingleFlight).
 * 2. Across instances, the caller first looks for a result another instance
 *    stored (`refresh:<sid>:<hash(rt)>:result`); else it takes the lock
 *    (`…:lock`, SET NX PX with a random owner id), refreshes, stores the
 *    result (sealed) for the others and releases the lock (compare-and-delete).
 *    The others poll for the result; if the holder dies, its lock expires and
 *    one of them takes over.
 *
 * The result stays in the store for about the new access token's lifetime,
 * so a request that still carries the old cookie (rotated refresh token
 * already spent) gets the new tokens instead of ending the session.
 */
export class SessionRefresher {
  readonly #provider: Provider;
  readonly #flights = new SingleFlight<{ session: Session; stored: boolean }>();
  readonly #store: KeyValueStore;
  readonly #sealer: Sealer | undefined;
  readonly #skewMs: number;
  readonly #lockTtlMs: number;
  readonly #waitMs: number;
  readonly #pollMs: number;
  readonly #audit: ((event: AuditEvent) => void) | undefined;

  constructor(provider: Provider, options: RefresherOptions | number = {}) {
    const opts = typeof options === 'number' ? { skewMs: options } : options;
    this.#provider = provider;
    this.#store = opts.store ?? new MemoryStore();
    this.#sealer = opts.sealer;
    this.#skewMs = opts.skewMs ?? 30_000;
    this.#lockTtlMs = opts.lockTtlMs ?? 15_000;
    this.#waitMs = opts.waitMs ?? this.#lockTtlMs + 2000;
    this.#pollMs = opts.pollMs ?? 25;
    this.#audit = opts.audit;
  }

  /**
   * Returns the session unchanged when its access token is still good, or a
   * refreshed copy. `invalid_grant` and friends end the session
   * (LATCH_SESSION_EXPIRED); an unreachable server is a 502/504 and the
   * session survives; an unreachable store is a 503.
   */
  ensureFresh(session: Session, force = false): Promise<{ session: Session; refreshed: boolean }> {
    // The common case (a good token) without a second async frame: this runs on every /me and API call.
    if (!force && !accessTokenStale(session, this.#skewMs)) return Promise.resolve({ session, refreshed: false });
    return this.#ensureFresh(session, force, 0);
  }

  async #ensureFresh(session: Session, force: boolean, depth: number): Promise<{ session: Session; refreshed: boolean }> {
    if (!force && !accessTokenStale(session, this.#skewMs)) return { session, refreshed: false };
    const rt = session.rt;
    if (!rt) throw sessionExpired(new Error('access token expired and no refresh token'));
    const key = `refresh:${session.sid}:${digest(rt)}`;
    const { session: next, stored } = await this.#flights.run(key, () => this.#coordinated(key, session, rt));
    // A result another request stored a while ago may hold an access token that has expired since:
    // refresh onwards from it, with its (rotated) refresh token. Never more than once in a row, and
    // never for a result of our own (a server whose tokens live less than the margin would loop).
    if (stored && depth < 1 && next.atExp <= Date.now() && next.rt && next.rt !== rt) {
      return this.#ensureFresh(next, true, depth + 1);
    }
    return { session: next, refreshed: true };
  }

  async #coordinated(key: string, session: Session, rt: string): Promise<{ session: Session; stored: boolean }> {
    const resultKey = `${key}:result`;
    const lockKey = `${key}:lock`;
    const deadline = Date.now() + this.#waitMs;
    for (;;) {
      const done = await this.#outcome(resultKey);
      if (done) return { session: this.#settle(done), stored: true };
      const owner = randomUUID();
      if (await this.#store.setIfAbsent(lockKey, owner, this.#lockTtlMs)) {
        try {
          // Someone may have finished between our look and our lock.
          const raced = await this.#outcome(resultKey);
          if (raced) return { session: this.#settle(raced), stored: true };
          return { session: await this.#refresh(session, rt, resultKey), stored: false };
        } finally {
          await this.#store.delIfEquals(lockKey, owner).catch(() => undefined);
        }
      }
      if (Date.now() >= deadline) {
        throw new LatchError('LATCH_UPSTREAM_TIMEOUT', 504, 'The session could not be refreshed in time. Try again.', {
          cause: new Error('waited for another instance to refresh the session'),
        });
      }
      await sleep(this.#pollMs);
    }
  }

  async #refresh(session: Session, rt: string, resultKey: string): Promise<Session> {
    let next: Session;
    try {
      const result = await this.#provider.refresh(rt, session.user.sub);
      next = {
        ...session,
        ...tokenFields(result.tokens),
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
        const kept: Session = { ...session, ...tokenFields(err.tokens), ...(session.idt ? { idt: session.idt } : {}) };
        await this.#publish(resultKey, { ok: kept }, this.#resultTtl(kept));
        throw err;
      }
      if (err instanceof LatchError && err.status < 500 && (err.code === 'LATCH_REFRESH_FAILED' || err.code === 'LATCH_ID_TOKEN_INVALID')) {
        await this.#publish(resultKey, { ended: err.code }, FAILURE_TTL_MS);
        throw sessionExpired(err);
      }
      throw err;
    }
    await this.#publish(resultKey, { ok: next }, this.#resultTtl(next));
    return next;
  }

  /** About the new access token's useful life, within bounds. */
  #resultTtl(next: Session): number {
    return Math.min(MAX_RESULT_TTL_MS, Math.max(MIN_RESULT_TTL_MS, next.atExp - this.#skewMs - Date.now()));
  }

  /** Best effort: the refresh already happened; failing to share it must not fail this request. */
  async #publish(resultKey: string, outcome: RefreshOutcome, ttlMs: number): Promise<void> {
    try {
      const value = this.#sealer ? await this.#sealer.seal(outcome, Math.ceil(ttlMs / 1000)) : JSON.stringify(outcome);
      await this.#store.set(resultKey, value, ttlMs);
    } catch {
      // The others will wait for the lock to go and refresh themselves.
    }
  }

  async #outcome(resultKey: string): Promise<RefreshOutcome | null> {
    const value = await this.#store.get(resultKey);
    if (!value) return null;
    if (this.#sealer) return this.#sealer.unseal<RefreshOutcome>(value, MAX_RESULT_TTL_MS / 1000);
    try {
      return JSON.parse(value) as RefreshOutcome;
    } catch {
      return null;
    }
  }

  #settle(outcome: RefreshOutcome): Session {
    if ('ok' in outcome) return outcome.ok;
    throw sessionExpired(new Error(`refresh failed on another request (${outcome.ended})`));
  }
}
