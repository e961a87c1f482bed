import type { Logger } from 'pino';
import type { AuditHook } from '../audit.ts';
import type { BffConfig } from '../config.ts';
import type { Provider } from '../providers/provider.ts';
import { SessionManager } from './manager.ts';
import { SessionRefresher } from './refresh.ts';
import { MemoryStore } from './stores/memory.ts';
import { RedisStore } from './stores/redis.ts';
import type { KeyValueStore } from './store.ts';

/**
 * The store the configuration asks for: Redis when LATCH_REDIS_URL is set
 * (shared by every instance), else memory (this process only).
 */
export function storeFromConfig(config: BffConfig, logger?: Logger): KeyValueStore {
  if (config.redisUrl) {
    return new RedisStore({
      url: config.redisUrl,
      prefix: config.redisPrefix,
      timeoutMs: config.redisTimeoutMs,
      ...(logger ? { logger } : {}),
    });
  }
  return new MemoryStore();
}

export function sessionManagerFromConfig(config: BffConfig, store: KeyValueStore): SessionManager {
  return new SessionManager({
    secrets: config.cookieSecrets,
    policy: { secure: config.baseUrl.protocol === 'https:' },
    maxAge: config.sessionMaxAge,
    idleTimeout: config.sessionIdleTimeout,
    store,
    serverSide: config.sessionStore !== 'cookie',
  });
}

export function refresherFromConfig(config: BffConfig, provider: Provider, sessions: SessionManager, audit?: AuditHook): SessionRefresher {
  return new SessionRefresher(provider, {
    store: sessions.store,
    sealer: sessions.sealer,
    // The holder's refresh is one token request plus, at worst, a JWKS fetch.
    lockTtlMs: 2 * config.httpTimeoutMs + 2000,
    ...(audit ? { audit } : {}),
  });
}
