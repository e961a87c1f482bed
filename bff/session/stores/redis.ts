import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisTarget, isRedisProblem, type RedisTarget } from '../../config/redis.ts';
import { untagged } from '../store-keys.ts';
import { storeUnavailable, type KeyValueStore } from '../store.ts';

export interface RedisStoreOptions {
  /**
   * Where: one Redis (redis://, rediss://), a Sentinel-managed master (redis+sentinel://), or a cluster
   * (config/redis.ts). A string is LATCH_REDIS_URL's form.
   */
  url: string | RedisTarget;
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

type Scripted = (Redis | Cluster) & {
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
 * The shared store for several instances, on ioredis: one Redis, a Sentinel-managed master, or a
 * Redis Cluster. Fails fast: a command that cannot complete within `timeoutMs` (Redis down,
 * partitioned, restarting, a master being replaced) rejects with 503 LATCH_STORE_UNAVAILABLE; the
 * client keeps reconnecting (following Sentinel's or the cluster's new master) in the background and
 * serves again as soon as Redis answers. Nothing here ever throws an unhandled 'error' event.
 *
 * Keys: the session layer builds them with hash tags (store-keys.ts). A cluster keeps the tags, so a
 * session's keys share a slot; one Redis and Sentinel drop the braces, and their keys stay the names
 * earlier versions wrote.
 */
export class RedisStore implements KeyValueStore {
  readonly kind = 'redis' as const;
  readonly client: Redis | Cluster;
  readonly mode: RedisTarget['mode'];
  readonly #prefix: string;
  /** The key prefix (the session index and the event bus put theirs after it). */
  get prefix(): string {
    return this.#prefix;
  }
  readonly #outage: OutageLog;
  readonly #timeoutMs: number;

  constructor(options: RedisStoreOptions) {
    const timeoutMs = (this.#timeoutMs = options.timeoutMs ?? 1000);
    this.#prefix = options.prefix ?? 'latch:';
    const target = typeof options.url === 'string' ? parseRedisTarget(options.url, undefined) : options.url;
    if (!target || isRedisProblem(target)) throw new Error(`RedisStore: ${target ? target.problem : 'no URL'}`);
    this.mode = target.mode;
    // One node's connection, whatever the mode.
    const node: RedisOptions = {
      // Commands issued while (re)connecting wait in the offline queue, bounded by commandTimeout.
      enableOfflineQueue: true,
      commandTimeout: timeoutMs,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(50 * times, 1000),
      lazyConnect: false,
    };
    this.client = target.mode === 'cluster' ? clusterClient(target, node, timeoutMs) : target.mode === 'sentinel' ? sentinelClient(target, node) : new Redis(target.url, node);
    this.client.defineCommand('latchSetMax', { numberOfKeys: 1, lua: SET_MAX });
    this.client.defineCommand('latchDelIfEquals', { numberOfKeys: 1, lua: DEL_IF_EQUALS });
    this.#outage = new OutageLog(options.logger, options.summaryMs === undefined ? {} : { summaryMs: options.summaryMs });
    this.client.on('error', (err: Error) => this.#outage.failed(err, false));
    // A cluster reports a node's trouble apart ('node error'); the 'error' above is its own (slots refresh).
    if (this.mode === 'cluster') this.client.on('node error', (err: Error) => this.#outage.failed(err, false));
    this.client.on('ready', () => this.#outage.ok());
  }

  #key(key: string): string {
    return this.#prefix + (this.mode === 'cluster' ? key : untagged(key));
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      if (this.mode === 'cluster') {
        // A cluster client with no live connection queues commands until it has one, with no time
        // limit, and keeps them past our deadline: during a long outage the queue would grow by every
        // request. Once an outage is known and the client is not ready, refuse at once instead.
        if (this.#outage.down && this.client.status !== 'ready') throw new Error(`cluster client ${this.client.status}`);
        result = await withDeadline(work(), this.#timeoutMs);
      } else {
        result = await work();
      }
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
    // A cluster refuses MGET over several slots (CROSSSLOT), and the deny-list's keys are in several
    // (a session's, its user's, its provider session's: store-keys.ts). One GET a key instead, all sent
    // at once (each to its slot's master, in parallel: one round trip's wait, not three).
    if (this.mode === 'cluster') return this.#run(() => Promise.all(keys.map((k) => this.client.get(this.#key(k)))));
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

  /**
   * One Redis, Sentinel: it answers PING. A cluster: every master the client knows answers PING, and
   * the cluster says `cluster_state:ok` (each of the 16,384 slots served: a master lost for good with
   * no replica to take over makes it `fail`, and the slots it held refuse every command).
   */
  async ready(): Promise<void> {
    const client = this.client;
    if (!(client instanceof Cluster)) {
      await this.#run(() => client.ping());
      return;
    }
    await this.#run(async () => {
      const info = String(await client.cluster('INFO'));
      if (!/^cluster_state:ok\r?$/m.test(info)) throw new Error('the cluster is not ok (cluster_state)');
      const masters = client.nodes('master');
      if (masters.length === 0) throw new Error('no master known yet');
      await Promise.all(masters.map((m) => m.ping()));
    });
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      // unreachable: nothing to say goodbye to
    }
    // After quit() too: a Sentinel client's connector (and a cluster's node connections still
    // reconnecting) let go only on disconnect().
    this.client.disconnect();
  }
}

/**
 * A Redis Cluster client. Failover: a command to a master that went away fails its connection, the
 * client refreshes the slot map and sends it again (`retryDelayOnFailover`), as it does on MOVED, ASK,
 * TRYAGAIN and CLUSTERDOWN; all of that within the store's deadline (`withDeadline`), since a cluster
 * client queues without a time limit of its own while it has no slot map.
 */
function clusterClient(target: Extract<RedisTarget, { mode: 'cluster' }>, node: RedisOptions, timeoutMs: number): Cluster {
  const options: ClusterOptions = {
    enableOfflineQueue: true,
    // No auto-pipelining: ioredis 5 batches a node's commands into one pipeline by the slot map of the
    // moment, and a pipeline that meets a moved slot fails whole (`MOVED …`, or "All keys in the pipeline
    // should belong to the same slots allocation group") instead of following the redirect: every
    // request in that batch got a 503 while a slot migrated (redis-cluster.test.ts). Commands sent one by
    // one still go out together (ioredis writes without waiting for the previous answer).
    enableAutoPipelining: false,
    scaleReads: 'master',
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: timeoutMs,
    clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
    redisOptions: {
      ...node,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
    // The nodes announce themselves by IP; over TLS the certificate names the configuration endpoint's
    // host (ElastiCache), so connect by the name given, as ioredis's README advises for ElastiCache.
    ...(target.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
  };
  return new Cluster(target.nodes, options);
}

/** A client of the master Sentinel names; it asks the sentinels again when the master changes. */
function sentinelClient(target: Extract<RedisTarget, { mode: 'sentinel' }>, node: RedisOptions): Redis {
  return new Redis({
    ...node,
    sentinels: target.sentinels,
    name: target.name,
    db: target.db,
    role: 'master',
    // No failoverDetector: Sentinel closes the old master's client connections when it demotes it
    // (CLIENT KILL TYPE normal), and the client asks the sentinels again on reconnecting. The detector's
    // own sentinel connections have no 'error' listener in ioredis 5 (each failed reconnect is printed),
    // and outlive quit().
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
    // A write that reached the old master after it was demoted: reconnect (to the new one) and resend.
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.sentinelUsername ? { sentinelUsername: target.sentinelUsername } : {}),
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    ...(target.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
  });
}

/** `work`, or a rejection once `ms` have passed (the command may still complete later: nothing waits for it). */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the cluster within ${ms} ms`)), ms);
  });
  work.catch(() => undefined); // a late failure is nobody's business
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
