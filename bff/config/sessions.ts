import { GENERATE_SECRET, secretWeakness } from '../secret-strength.ts';
import type { EnvReader } from './env.ts';
import { isRedisProblem, parseRedisTarget } from './redis.ts';

/** How sessions are sealed, how long they live and where they are kept (README: "Sessions"). */
export interface SessionsSection {
  /** Cookie-sealing passwords, newest first (each passes bff/secret-strength.ts: 32+ characters, no placeholder, 128+ bits estimated). */
  readonly cookieSecrets: readonly string[];
  /** Absolute session lifetime, seconds. */
  readonly sessionMaxAge: number;
  /** LATCH_SESSION_IDLE_TIMEOUT: the session ends after this many seconds without a request. */
  readonly sessionIdleTimeout: number;
  /**
   * LATCH_SESSION_STORE: where the session (tokens included) lives. `cookie` (default): sealed into
   * the cookie. `memory` / `redis`: server-side, the cookie holding only a sealed reference.
   */
  readonly sessionStore: 'cookie' | 'memory' | 'redis';
  /**
   * LATCH_REDIS_URL: the shared store for several instances (deny-list, refresh locks, sessions): one
   * Redis (redis://, rediss://) or a Sentinel-managed master (redis+sentinel://, config/redis.ts).
   */
  readonly redisUrl?: string;
  /** LATCH_REDIS_CLUSTER_NODES: the shared store is a Redis Cluster, found from these seeds (config/redis.ts). */
  readonly redisClusterNodes?: readonly string[];
  /** LATCH_REDIS_PREFIX: prefix of every Redis key. */
  readonly redisPrefix: string;
  /** LATCH_REDIS_TIMEOUT_MS: a Redis command slower than this fails with 503 LATCH_STORE_UNAVAILABLE. */
  readonly redisTimeoutMs: number;
}

/** 400 days: the longest a browser keeps a cookie (RFC 6265bis caps Max-Age there), so a longer lifetime would mean nothing. */
const MAX_LIFETIME = 400 * 24 * 60 * 60;

/**
 * The sessions section: LATCH_COOKIE_SECRET (the rule: bff/secret-strength.ts), the lifetimes,
 * LATCH_SESSION_STORE and Redis.
 */
export function readSessions(env: EnvReader): SessionsSection {
  const cookieSecrets = env.list('LATCH_COOKIE_SECRET');
  if (cookieSecrets.length === 0) env.fail('LATCH_COOKIE_SECRET', `is required: make one with \`${GENERATE_SECRET}\``);
  // Weak or placeholder secrets stop the process. Never echoed.
  cookieSecrets.forEach((secret, i) => {
    const weakness = secretWeakness(secret);
    const which = cookieSecrets.length > 1 ? `secret ${i + 1} of ${cookieSecrets.length}` : 'the secret';
    if (weakness) env.fail('LATCH_COOKIE_SECRET', `${which} ${weakness}: make a random one with \`${GENERATE_SECRET}\``);
  });
  const sessionMaxAge = env.int('LATCH_SESSION_MAX_AGE', 8 * 60 * 60, 60, MAX_LIFETIME);
  const sessionIdleTimeout = env.int('LATCH_SESSION_IDLE_TIMEOUT', 30 * 60, 60, MAX_LIFETIME);

  const store = env.choice('LATCH_SESSION_STORE', ['cookie', 'memory', 'redis'], 'cookie');
  const redisUrl = env.str('LATCH_REDIS_URL');
  const redisClusterNodes = env.list('LATCH_REDIS_CLUSTER_NODES');
  const redisPrefix = env.str('LATCH_REDIS_PREFIX') ?? 'latch:';
  // Never echo the values: they may carry a password.
  const target = parseRedisTarget(redisUrl, redisClusterNodes);
  if (isRedisProblem(target)) env.fail(target.variable, target.problem);
  // (LATCH_REDIS_CLUSTER_NODES does instead, for a cluster: docs/deploy.md.)
  if (store === 'redis' && target === undefined) env.fail('LATCH_REDIS_URL', 'is required when LATCH_SESSION_STORE=redis');
  // A tag in the prefix would put every key in one slot: one master would hold the whole store.
  if (target && !isRedisProblem(target) && target.mode === 'cluster' && /[{}]/.test(redisPrefix)) env.fail('LATCH_REDIS_PREFIX', 'must not hold { or } with LATCH_REDIS_CLUSTER_NODES: a hash tag there puts every key in one slot');
  return {
    cookieSecrets,
    sessionMaxAge,
    sessionIdleTimeout,
    sessionStore: store ?? 'cookie',
    ...(redisUrl ? { redisUrl } : {}),
    ...(redisClusterNodes.length > 0 ? { redisClusterNodes } : {}),
    redisPrefix,
    redisTimeoutMs: env.int('LATCH_REDIS_TIMEOUT_MS', 1000, 50, 60_000),
  };
}
