/**
 * Live sessions (issue 19): the index of a user's sessions (index-store.ts), the news of sessions
 * ending or changing (bus.ts), and the open streams that carry it to pages (`GET /events`,
 * routes/events.ts) and the proxied WebSockets that close with their session (routes/proxy-ws.ts).
 * One `LiveSessions` per app (`app.latch.live`). The routes call one method where a session begins
 * or ends:
 *
 * - `signedIn()`: completeSignIn (session/sign-in.ts), the entry of the index;
 * - `written()`: a session written back (session/request-session.ts): last seen, and after a refresh
 *   `session-updated`;
 * - `ended()`, `endedAll()`, `endedProvider()`: logout, sign out everywhere, back-channel logout;
 * - `revoke()`: `DELETE /sessions/<id>`, a session ended by its public id (Sessions.endById).
 *
 * None of them fails its caller for the index or the bus: the deny-list (Sessions) is what ends a
 * session, on every instance; what is here is the listing and the news, and a store outage there is
 * logged, not answered 503. No Koa.
 */
import type { Logger } from 'pino';
import type { SessionEndReason } from '../contract.ts';
import { DEFAULT_PROVIDER } from '../config/providers.ts';
import { channelsOf, providerSessionChannel, sessionChannel, SessionBus, userChannel, type BusMessage } from './bus.ts';
import { DENY_CLOCK_SKEW_MS } from './denylist.ts';
import { deviceLabel, MemorySessionIndex, publicId, RedisSessionIndex, type IndexEntry, type RedisAccess, type SessionIndex } from './index-store.ts';
import type { Sessions } from './sessions.ts';
import type { Session } from './session.ts';
import { digest, type KeyValueStore } from './store.ts';

/** Streams (`GET /events`) one session may hold open on one instance: a browser's six connections per host, less two for its calls. */
export const STREAMS_PER_SESSION = 4;
/** A `: ping` comment this often on every stream: under the 30 s, 60 s idle timeouts of common proxies and load balancers. */
export const PING_MS = 25_000;

export interface LiveOptions {
  sessions: Sessions;
  /** The absolute and idle lifetimes' idle part, seconds (entries idle longer are not listed). */
  idleTimeoutS: number;
  /** Streams this instance holds open at most (LATCH_EVENTS_MAX_STREAMS). */
  maxStreams: number;
  logger?: Logger | undefined;
}

/** One open stream, as the registry sees it. */
export interface StreamHandle {
  /** Gives the slot back (idempotent). */
  release(): void;
}

/** The session a hook concerns: the fields the index and the bus read. */
type SessionLike = Pick<Session, 'sid' | 'user' | 'iat' | 'exp'> & { psid?: string | undefined; seen?: number | undefined; pv?: string | undefined };

const cause = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class LiveSessions {
  readonly index: SessionIndex;
  readonly bus: SessionBus;
  readonly #sessions: Sessions;
  readonly #idleMs: number;
  readonly #logger: Logger | undefined;
  readonly #maxStreams: number;
  readonly #perSession = new Map<string, number>();
  /** Open streams' writers of the heartbeat, and their closers (shutdown). */
  readonly #streams = new Set<{ ping(): void; close(): void }>();
  #pinger: ReturnType<typeof setInterval> | undefined;

  constructor(store: KeyValueStore, options: LiveOptions) {
    this.#sessions = options.sessions;
    this.#idleMs = options.idleTimeoutS * 1000;
    this.#logger = options.logger;
    this.#maxStreams = options.maxStreams;
    const access = redisAccessOf(store);
    this.index = access ? new RedisSessionIndex(access) : new MemorySessionIndex();
    this.bus = new SessionBus({ access, logger: options.logger });
  }

  #warn(what: string, err: unknown): void {
    this.#logger?.warn({ event: 'session-index', cause: cause(err) }, `${what}: the sessions list may be out of date`);
  }

  /** A new session: its entry in the index (device label from `userAgent`, computed here once). */
  async signedIn(session: SessionLike, meta: { userAgent?: string | undefined }): Promise<void> {
    const entry: IndexEntry = {
      id: publicId(session.sid),
      createdAt: session.iat,
      lastSeenAt: session.seen ?? session.iat,
      exp: session.exp,
      provider: session.pv ?? DEFAULT_PROVIDER,
      device: deviceLabel(meta.userAgent),
      ...(session.psid ? { psid: digest(session.psid) } : {}),
    };
    await this.index.add(session.user.sub, entry).catch((err: unknown) => this.#warn('could not index a new session', err));
  }

  /** A session written back (its idle window renewed; `refreshed`: new tokens and claims). Not awaited by the request. */
  written(session: SessionLike, refreshed: boolean): void {
    const id = publicId(session.sid);
    void this.index.seen(session.user.sub, id, session.seen ?? Date.now()).catch(() => undefined);
    if (refreshed) void this.bus.publish(sessionChannel(id), { type: 'updated', user: session.user, expiresAt: this.#sessions.expiresAt(session as Session) });
  }

  /**
   * One session ended (logout; `DELETE /sessions/<current>`); with `everywhere`, every session of its
   * user created until now too (`POST /logout?everywhere=1`).
   */
  async ended(session: SessionLike, reason: SessionEndReason, at = Date.now()): Promise<void> {
    const id = publicId(session.sid);
    await this.index.remove(session.user.sub, id).catch((err: unknown) => this.#warn('could not unlist an ended session', err));
    await this.bus.publish(sessionChannel(id), { type: 'ended', reason });
    if (reason === 'everywhere') await this.endedAll(session.user.sub, reason, at);
  }

  /** A back-channel logout: by the provider's `sid` (with `sub` when the token names it), else by `sub`. */
  async backchannelLogout(token: { sub?: string | undefined; sid?: string | undefined }, at: number): Promise<void> {
    if (token.sid) await this.endedProvider(token.sid, token.sub, at);
    else if (token.sub) await this.endedAll(token.sub, 'backchannel', at);
  }

  /** Every session of the user created until `at` ended (sign out everywhere, back-channel logout by `sub`). */
  async endedAll(sub: string, reason: SessionEndReason, at: number): Promise<void> {
    await this.index.removeAll(sub, at).catch((err: unknown) => this.#warn('could not unlist ended sessions', err));
    await this.bus.publish(userChannel(sub), { type: 'ended', reason, at });
  }

  /** The sessions of a provider session ended (back-channel logout by `sid`); `sub` when the token named it. */
  async endedProvider(psid: string, sub: string | undefined, at: number): Promise<void> {
    if (sub !== undefined) await this.index.removeAll(sub, at, digest(psid)).catch((err: unknown) => this.#warn('could not unlist ended sessions', err));
    await this.bus.publish(providerSessionChannel(psid), { type: 'ended', reason: 'backchannel', at });
  }

  /** When the index last saw the user's session `id` written back (epoch ms), or undefined when it is not listed. */
  async lastSeen(sub: string, id: string): Promise<number | undefined> {
    return (await this.index.list(sub)).find((e) => e.id === id)?.lastSeenAt;
  }

  /** The user's sessions still live (past neither end), oldest first. */
  async list(sub: string, now = Date.now()): Promise<IndexEntry[]> {
    return (await this.index.list(sub, now)).filter((e) => e.lastSeenAt + this.#idleMs > now);
  }

  /**
   * Ends the user's session `id` (a public id): deny-listed on every instance, unlisted, its streams
   * told `revoked`. null when the user has no such session (another user's id included): the caller
   * answers 404. The store's failure rejects (503): this one is the user's own request to end it.
   */
  async revoke(sub: string, id: string, reason: SessionEndReason = 'revoked'): Promise<IndexEntry | null> {
    const entry = (await this.index.list(sub)).find((e) => e.id === id);
    if (!entry) return null;
    await this.#sessions.endById(id, entry.exp);
    await this.index.remove(sub, id).catch((err: unknown) => this.#warn('could not unlist an ended session', err));
    await this.bus.publish(sessionChannel(id), { type: 'ended', reason });
    return entry;
  }

  /**
   * Calls `onEnded` when `session` ends anywhere (once), `onUpdated` with refreshed claims. An end of
   * the user or the provider session counts only for sessions created until it (and DENY_CLOCK_SKEW_MS).
   */
  async watch(session: SessionLike, handlers: { onEnded(reason: SessionEndReason): void; onUpdated?(message: Extract<BusMessage, { type: 'updated' }>): void }): Promise<() => void> {
    let done = false;
    return this.bus.subscribe(channelsOf(session), (message) => {
      if (done) return;
      if (message.type === 'updated') return handlers.onUpdated?.(message);
      if (message.at !== undefined && session.iat > message.at + DENY_CLOCK_SKEW_MS) return;
      done = true;
      handlers.onEnded(message.reason);
    });
  }

  /**
   * A slot for one more stream of the session `id`, with its heartbeat (`ping`, every PING_MS) and its
   * end at shutdown (`close`); null when the session (STREAMS_PER_SESSION) or the instance
   * (LATCH_EVENTS_MAX_STREAMS) has no more: 429.
   */
  openStream(id: string, stream: { ping(): void; close(): void }): StreamHandle | null {
    const mine = this.#perSession.get(id) ?? 0;
    if (mine >= STREAMS_PER_SESSION || this.#streams.size >= this.#maxStreams) return null;
    this.#perSession.set(id, mine + 1);
    // An entry of its own: the slot is this call's, whatever object the caller passed.
    const entry = { ping: () => stream.ping(), close: () => stream.close() };
    this.#streams.add(entry);
    // One timer for every stream of the instance, not one a stream; unref'd: it never keeps the process up.
    this.#pinger ??= setInterval(() => {
      for (const s of this.#streams) s.ping();
    }, PING_MS).unref();
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#streams.delete(entry);
        const n = (this.#perSession.get(id) ?? 1) - 1;
        if (n > 0) this.#perSession.set(id, n);
        else this.#perSession.delete(id);
        if (this.#streams.size === 0 && this.#pinger) {
          clearInterval(this.#pinger);
          this.#pinger = undefined;
        }
      },
    };
  }

  /** Open streams on this instance. */
  get streams(): number {
    return this.#streams.size;
  }

  /** Ends every open stream (graceful shutdown: bff/server.ts), then the bus. */
  async close(): Promise<void> {
    for (const stream of [...this.#streams]) stream.close();
    await this.bus.close();
  }
}

/** The Redis store's connection, when `store` is one (loaded lazily: session/setup.ts), else undefined. */
function redisAccessOf(store: KeyValueStore): Promise<RedisAccess> | undefined {
  if (store.kind !== 'redis') return undefined;
  const s = store as unknown as { loaded?: Promise<RedisAccess>; client?: unknown; command?: unknown };
  if (s.loaded) return s.loaded;
  if (s.client && typeof s.command === 'function') return Promise.resolve(s as unknown as RedisAccess);
  return undefined;
}
