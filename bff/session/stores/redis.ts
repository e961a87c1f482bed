import { Redis } from 'ioredis';
import { storeUnavailable, type KeyValueStore } from '../store.ts';

export interface RedisStoreOptions {
  /** redis:// or rediss:// URL (credentials and db number included). */
  url: string;
  /** Prefix of every key, so several deployments can share one Redis. default 'latch:' */
  prefix?: string;
  /** How long one command may take, connection included, before it fails with 503. default 1000 */
  timeoutMs?: number;
  /** Connection state changes (down, back up): one line each, never one per failed command. */
  logger?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

const SET_MAX = `local c = tonumber(redis.call('GET', KEYS[1]))
if c == nil or c < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1`;

const DEL_IF_EQUALS = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type Scripted = Redis & {
  latchSetMax(key: string, value: string, ttlMs: string): Promise<number>;
  latchDelIfEquals(key: string, value: string): Promise<number>;
};

/**
 * The shared store for several instances, on ioredis. Fails fast: a command
 * that cannot complete within `timeoutMs` (Redis down, partitioned,
 * restarting) rejects with 503 LATCH_STORE_UNAVAILABLE; the client keeps
 * reconnecting in the background and serves again as soon as Redis answers.
 * Nothing here ever throws an unhandled 'error' event.
 */
export class RedisStore implements KeyValueStore {
  readonly kind = 'redis' as const;
  readonly client: Redis;
  readonly #prefix: string;
  #down = false;

  constructor(options: RedisStoreOptions) {
    const timeoutMs = options.timeoutMs ?? 1000;
    this.#prefix = options.prefix ?? 'latch:';
    this.client = new Redis(options.url, {
      // Commands issued while (re)connecting wait in the offline queue, bounded by commandTimeout.
      enableOfflineQueue: true,
      commandTimeout: timeoutMs,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(50 * times, 1000),
      lazyConnect: false,
    });
    this.client.defineCommand('latchSetMax', { numberOfKeys: 1, lua: SET_MAX });
    this.client.defineCommand('latchDelIfEquals', { numberOfKeys: 1, lua: DEL_IF_EQUALS });
    const logger = options.logger;
    this.client.on('error', (err: Error) => {
      if (this.#down) return;
      this.#down = true;
      logger?.warn({ store: 'redis', cause: `${err.name}: ${err.message}` }, 'session store unreachable');
    });
    this.client.on('ready', () => {
      if (!this.#down) return;
      this.#down = false;
      logger?.info({ store: 'redis' }, 'session store reachable again');
    });
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw storeUnavailable(err);
    }
  }

  get(key: string): Promise<string | null> {
    return this.#run(() => this.client.get(this.#key(key)));
  }

  mget(keys: readonly string[]): Promise<Array<string | null>> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.#run(() => this.client.mget(keys.map((k) => this.#key(k))));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#run(() => this.client.set(this.#key(key), value, 'PX', Math.max(1, Math.ceil(ttlMs))));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const reply = await this.#run(() => this.client.set(this.#key(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'));
    return reply === 'OK';
  }

  async setMax(key: string, value: number, ttlMs: number): Promise<void> {
    await this.#run(() => (this.client as Scripted).latchSetMax(this.#key(key), String(value), String(Math.max(1, Math.ceil(ttlMs)))));
  }

  async del(key: string): Promise<void> {
    await this.#run(() => this.client.del(this.#key(key)));
  }

  async delIfEquals(key: string, value: string): Promise<boolean> {
    const n = await this.#run(() => (this.client as Scripted).latchDelIfEquals(this.#key(key), value));
    return n === 1;
  }

  async ready(): Promise<void> {
    await this.#run(() => this.client.ping());
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
