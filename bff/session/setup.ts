import type { Logger } from 'pino';
import type { AuditHook } from '../audit.ts';
import type { BffConfig } from '../config.ts';
import { isRedisProblem, parseRedisTarget } from '../config/redis.ts';
import { ConfigError } from '../errors.ts';
import type { Provider } from '../providers/provider.ts';
import { LiveSessions } from './live.ts';
import { SessionRefresher } from './refresh.ts';
import { Sessions } from './sessions.ts';
import type { Session } from './session.ts';
import { MemoryStore } from './stores/memory.ts';
import type { RedisStore, RedisStoreOptions } from './stores/redis.ts';
import type { KeyValueStore } from './store.ts';

/**
 * The store the configuration asks for: Redis when LATCH_REDIS_URL (one Redis, or Sentinel) or
 * LATCH_REDIS_CLUSTER_NODES (a cluster) is set, shared by every instance; else memory (this process only).
 */
export function storeFromConfig(config: BffConfig, logger?: Logger): KeyValueStore {
  const target = parseRedisTarget(config.redisUrl, config.redisClusterNodes);
  // loadConfig() refused this already; a configuration built by hand gets the same words.
  if (isRedisProblem(target)) throw new ConfigError([target]);
  if (target) {
    return new DeferredRedisStore({
      url: target,
      prefix: config.redisPrefix,
      timeoutMs: config.redisTimeoutMs,
      ...(logger ? { logger } : {}),
    });
  }
  return new MemoryStore();
}

/**
 * The Redis store, its module (and ioredis, the largest package in the bundle) loaded by a dynamic
 * import: evaluating ioredis costs a Lambda cold start some 30 ms (docs/bench.md), which deployments
 * without LATCH_REDIS_URL never need. The import starts at once, so the connection is opened about as
 * early as before; each call waits for it (a resolved promise after the first).
 */
class DeferredRedisStore implements KeyValueStore {
  readonly kind = 'redis' as const;
  readonly #store: Promise<RedisStore>;

  constructor(options: RedisStoreOptions) {
    this.#store = import('./stores/redis.ts').then(({ RedisStore }) => new RedisStore(options));
    // Failures reach every caller; none is left unhandled meanwhile.
    this.#store.catch(() => undefined);
  }

  /** The store once loaded: its connection for the session index and the event bus (session/live.ts). */
  get loaded(): Promise<RedisStore> {
    return this.#store;
  }

  async get(key: string) {
    return (await this.#store).get(key);
  }
  async mget(keys: readonly string[]) {
    return (await this.#store).mget(keys);
  }
  async set(key: string, value: string, ttlMs: number) {
    return (await this.#store).set(key, value, ttlMs);
  }
  async setIfAbsent(key: string, value: string, ttlMs: number) {
    return (await this.#store).setIfAbsent(key, value, ttlMs);
  }
  async setMax(key: string, value: number, ttlMs: number) {
    return (await this.#store).setMax(key, value, ttlMs);
  }
  async del(key: string) {
    return (await this.#store).del(key);
  }
  async delIfEquals(key: string, value: string) {
    return (await this.#store).delIfEquals(key, value);
  }
  async ready() {
    return (await this.#store).ready();
  }
  async close() {
    return (await this.#store).close();
  }
}

/** The app's live sessions (session/live.ts): its index and bus on the store's kind (Redis: its connection). */
export function liveFromConfig(config: BffConfig, store: KeyValueStore, sessions: Sessions, logger?: Logger): LiveSessions {
  return new LiveSessions(store, { sessions, idleTimeoutS: config.sessionIdleTimeout, maxStreams: config.maxEventStreams, logger });
}

/** The application's sessions (session/sessions.ts): one for the app, whatever its sites. */
export function sessionsFromConfig(config: BffConfig, store: KeyValueStore): Sessions {
  return new Sessions({
    secrets: config.cookieSecrets,
    maxAge: config.sessionMaxAge,
    idleTimeout: config.sessionIdleTimeout,
    store,
    serverSide: config.sessionStore !== 'cookie',
  });
}

export function refresherFromConfig(config: BffConfig, provider: Provider | ((session: Session) => Provider), sessions: Sessions, audit?: AuditHook, logger?: Logger): SessionRefresher {
  return new SessionRefresher(provider, {
    store: sessions.store,
    sealer: sessions.sealer,
    // The holder's refresh is one token request plus, at worst, a JWKS fetch.
    lockTtlMs: 2 * config.httpTimeoutMs + 2000,
    // Server-side sessions: a refresh result is stored only once the session record holds it too.
    ...(sessions.serverSide ? { save: (session) => sessions.saveRecord(session) } : {}),
    ...(audit ? { audit } : {}),
    ...(logger ? { logger } : {}),
  });
}
