import { Redis } from 'ioredis';
import { storeUnavailable, type KeyValueStore } from '../store.ts';

export interface RedisStoreOptions {
  /** redis:// or rediss:// URL (credentials and db number included). */
  url: string;
  /** Prefix of every key, so several deployments can share one Redis. default 'latch:' */
  prefix?: string;
  /** How long one command may take, connection included, before it fails with 503. default 1000 */
  timeoutMs?: number;
  /** Outages: one line when one starts, a count at most every `summaryMs`, one when it ends (OutageLog). */
  logger?: OutageLogger;
  /** How often, at most, an outage's count of failed commands is logged. default 5000 */
  summaryMs?: number;
}

type OutageLogger = { error(obj: object, msg: string): void; info(obj: object, msg: string): void };

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
 * A store outage, logged the way an operator can read it. Without it every request of an outage wrote
 * its own error line (the edge's 503): hundreds a second, burying the rest. Now:
 *
 * - one error line when it starts: the first failed command, or the connection lost, whichever comes
 *   first (a Redis that hangs, SIGSTOP or a full network buffer, fails commands by timeout without any
 *   connection error);
 * - while it lasts, at most one error line every `summaryMs` (5 s), with the commands that failed since
 *   the last line: the size of the outage, and that it is still going on;
 * - one info line when it ends (the first command that succeeds, or the connection ready again), with
 *   its length and the commands that failed in all.
 *
 * Each refused request fails one command (its first: the session read), so the counts are close to the
 * requests answered 503 LATCH_STORE_UNAVAILABLE, which the edge logs at debug only.
 */
export class OutageLog {
  readonly #logger: OutageLogger | undefined;
  readonly #summaryMs: number;
  readonly #now: () => number;
  /** When the outage started, or undefined while the store serves. */
  #since: number | undefined;
  #lastLine = 0;
  #total = 0;
  #unreported = 0;

  constructor(logger: OutageLogger | undefined, options: { summaryMs?: number; now?: () => number } = {}) {
    this.#logger = logger;
    this.#summaryMs = options.summaryMs ?? 5000;
    this.#now = options.now ?? Date.now;
  }

  get down(): boolean {
    return this.#since !== undefined;
  }

  /** A command failed (`command`), or the connection reported an error (no command counted). */
  failed(cause: unknown, command = true): void {
    const now = this.#now();
    if (command) {
      this.#total++;
      this.#unreported++;
    }
    if (this.#since === undefined) {
      this.#since = this.#lastLine = now;
      this.#unreported = 0;
      this.#logger?.error(
        { store: 'redis', event: 'store-outage', cause: causeOf(cause) },
        'session store unavailable: requests that need it are answered 503 LATCH_STORE_UNAVAILABLE',
      );
      return;
    }
    if (this.#unreported > 0 && now - this.#lastLine >= this.#summaryMs) {
      this.#logger?.error(
        { store: 'redis', event: 'store-outage', failed: this.#unreported, seconds: Math.round((now - this.#lastLine) / 1000), downSeconds: Math.round((now - this.#since) / 1000), cause: causeOf(cause) },
        `session store still unavailable: ${this.#unreported} commands failed in the last ${Math.round((now - this.#lastLine) / 1000)} s`,
      );
      this.#lastLine = now;
      this.#unreported = 0;
    }
  }

  /** The store served a command (or reconnected): ends the outage, if there was one. */
  ok(): void {
    if (this.#since === undefined) return;
    const downMs = this.#now() - this.#since;
    this.#logger?.info(
      { store: 'redis', event: 'store-recovered', downMs, failed: this.#total },
      `session store available again after ${(downMs / 1000).toFixed(1)} s; ${this.#total} commands failed meanwhile`,
    );
    this.#since = undefined;
    this.#total = this.#unreported = 0;
  }
}

const causeOf = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

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
  /** The key prefix (the session index and the event bus put theirs after it). */
  get prefix(): string {
    return this.#prefix;
  }
  readonly #outage: OutageLog;

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
    this.#outage = new OutageLog(options.logger, options.summaryMs === undefined ? {} : { summaryMs: options.summaryMs });
    this.client.on('error', (err: Error) => this.#outage.failed(err, false));
    this.client.on('ready', () => this.#outage.ok());
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await work();
    } catch (err) {
      this.#outage.failed(err);
      throw storeUnavailable(err);
    }
    if (this.#outage.down) this.#outage.ok();
    return result;
  }

  /** Runs a command of someone else's on this connection (session/index-store.ts RedisAccess): failures as the store's own. */
  command<T>(work: () => Promise<T>): Promise<T> {
    return this.#run(work);
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
