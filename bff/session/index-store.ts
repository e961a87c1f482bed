/**
 * The index of sessions per user, for `GET /sessions` and `DELETE /sessions/<id>` (routes/sessions.ts).
 * A cookie session lives in its cookie only: without an index nobody could list a user's sessions or
 * end one of them but the one whose cookie the request carries.
 *
 * What an entry holds: the session's public id (`publicId(sid)`, a digest of the secret session id:
 * the id a page sees, which cannot be turned back into the session id or a cookie), when it was
 * created and last written back (`seen`), its absolute end, the provider, a device label computed once
 * at sign-in from the User-Agent (`deviceLabel`), and a digest of the provider's session id (so that a
 * back-channel logout by `sid` drops it). Never a token, never the session id itself, in cookie mode
 * as in server-side mode.
 *
 * Bounded: MAX_SESSIONS_PER_USER per user, the oldest dropped beyond (it stays a live session, only
 * unlisted: "sign out everywhere" still ends it); an entry goes with its session's absolute end.
 *
 * Two kinds, as the store: `MemorySessionIndex` (one process) and `RedisSessionIndex` (one hash per
 * user, `idx:{<digest(sub)>}`, on the Redis store's own connection; one Lua script a write, so a
 * bound and an expiry are kept whatever the instances do at once). No Koa.
 */
import type { Cluster, Redis } from 'ioredis';
import { digest } from './store.ts';

/** A user's sessions listed at most; a new sign-in beyond it drops the oldest entry. */
export const MAX_SESSIONS_PER_USER = 20;
/** Users held by the memory index at most (about 300 B an entry): beyond it, the least recent user is dropped. */
export const MAX_INDEXED_USERS = 100_000;

export interface IndexEntry {
  /** The public id (`publicId(sid)`). */
  id: string;
  /** Created, last written back, absolute end: epoch ms. */
  createdAt: number;
  lastSeenAt: number;
  exp: number;
  provider: string;
  device: string;
  /** digest(provider sid), when the provider named one. */
  psid?: string;
}

export interface SessionIndex {
  readonly kind: 'memory' | 'redis';
  add(sub: string, entry: IndexEntry): Promise<void>;
  /** The user's live entries (past their absolute end left out), oldest first. */
  list(sub: string, now?: number): Promise<IndexEntry[]>;
  /** The entry's last-seen time, if the entry is still there. */
  seen(sub: string, id: string, at: number): Promise<void>;
  /** Drops the entry; true when the user had it. */
  remove(sub: string, id: string): Promise<boolean>;
  /** Drops the user's entries created until `at`, or those of one provider session (digest) when given. */
  removeAll(sub: string, at: number, psid?: string): Promise<void>;
}

/**
 * The public id of a session: what `GET /sessions` shows and `DELETE /sessions/<id>` takes, and the
 * deny-list key that ends a session known by it only (denylist.ts). A digest: it never gives back the
 * session id (which with the cookie secret would be a session).
 */
export function publicId(sid: string): string {
  return digest(`pid:${sid}`);
}

/**
 * "Firefox on Linux" from a User-Agent, computed once at sign-in. A small table of our own, not a
 * parser package: the label is for a person to recognise a device in a list, not for decisions, and
 * the few families below cover what the sign-in pages see. Order matters: Edge and Opera say Chrome
 * too, Chrome says Safari, Android says Linux, iOS says Mac OS X.
 */
export function deviceLabel(userAgent: string | undefined): string {
  const ua = (userAgent ?? '').slice(0, 512);
  if (ua === '') return 'Unknown device';
  const browser = /Edg(e|A|iOS)?\//.test(ua) ? 'Edge'
    : /OPR\/|Opera/.test(ua) ? 'Opera'
    : /SamsungBrowser\//.test(ua) ? 'Samsung Internet'
    : /Firefox\/|FxiOS\//.test(ua) ? 'Firefox'
    : /Chrome\/|CriOS\/|Chromium\//.test(ua) ? 'Chrome'
    : /Safari\//.test(ua) && /Version\//.test(ua) ? 'Safari'
    : /^curl\//.test(ua) ? 'curl'
    : undefined;
  const os = /iPhone|iPad|iPod/.test(ua) ? 'iOS'
    : /Android/.test(ua) ? 'Android'
    : /CrOS/.test(ua) ? 'ChromeOS'
    : /Windows/.test(ua) ? 'Windows'
    : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
    : /Linux|X11/.test(ua) ? 'Linux'
    : undefined;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? 'Unknown device';
}

const live = (entries: Iterable<IndexEntry>, now: number) => [...entries].filter((e) => e.exp > now).sort((a, b) => a.createdAt - b.createdAt);

/** One process: a Map per user, in a Map whose insertion order is the users' last write (the oldest dropped first). */
export class MemorySessionIndex implements SessionIndex {
  readonly kind = 'memory' as const;
  readonly #users = new Map<string, Map<string, IndexEntry>>();
  readonly #maxUsers: number;

  constructor(options: { maxUsers?: number } = {}) {
    this.#maxUsers = options.maxUsers ?? MAX_INDEXED_USERS;
  }

  async add(sub: string, entry: IndexEntry): Promise<void> {
    const now = Date.now();
    const entries = this.#users.get(sub) ?? new Map<string, IndexEntry>();
    this.#users.delete(sub);
    for (const [id, e] of entries) if (e.exp <= now) entries.delete(id);
    entries.set(entry.id, { ...entry });
    while (entries.size > MAX_SESSIONS_PER_USER) {
      const oldest = live(entries.values(), -Infinity)[0]!;
      entries.delete(oldest.id);
    }
    this.#users.set(sub, entries);
    while (this.#users.size > this.#maxUsers) this.#users.delete(this.#users.keys().next().value!);
  }

  async list(sub: string, now = Date.now()): Promise<IndexEntry[]> {
    const entries = this.#users.get(sub);
    return entries ? live(entries.values(), now).map((e) => ({ ...e })) : [];
  }

  async seen(sub: string, id: string, at: number): Promise<void> {
    const entry = this.#users.get(sub)?.get(id);
    if (entry && at > entry.lastSeenAt) entry.lastSeenAt = at;
  }

  async remove(sub: string, id: string): Promise<boolean> {
    const entries = this.#users.get(sub);
    const had = entries?.delete(id) ?? false;
    if (entries?.size === 0) this.#users.delete(sub);
    return had;
  }

  async removeAll(sub: string, at: number, psid?: string): Promise<void> {
    const entries = this.#users.get(sub);
    if (!entries) return;
    for (const [id, e] of entries) if (psid === undefined ? e.createdAt <= at : e.psid === psid) entries.delete(id);
    if (entries.size === 0) this.#users.delete(sub);
  }
}

/**
 * KEYS[1] the user's hash; ARGV: id, entry (JSON), now, max. Adds the entry, drops the expired ones and
 * the oldest beyond max, and keeps the hash as long as its longest-lived entry.
 */
const ADD = `redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local now = tonumber(ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
local kept = {}
local last = 0
for i = 1, #all, 2 do
  local ok, e = pcall(cjson.decode, all[i + 1])
  if not ok or type(e) ~= 'table' or tonumber(e.exp) == nil or tonumber(e.exp) <= now then
    redis.call('HDEL', KEYS[1], all[i])
  else
    table.insert(kept, { all[i], tonumber(e.createdAt) or 0 })
    if tonumber(e.exp) > last then last = tonumber(e.exp) end
  end
end
table.sort(kept, function(a, b) return a[2] < b[2] end)
for i = 1, #kept - tonumber(ARGV[4]) do redis.call('HDEL', KEYS[1], kept[i][1]) end
if last > now then redis.call('PEXPIRE', KEYS[1], last - now) end
return 1`;

/** KEYS[1] the user's hash; ARGV: id, time. Moves the entry's lastSeenAt forward, if the entry is there. */
const SEEN = `local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local e = cjson.decode(v)
if (tonumber(e.lastSeenAt) or 0) >= tonumber(ARGV[2]) then return 0 end
e.lastSeenAt = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(e))
return 1`;

type Scripted = Redis & {
  latchIndexAdd(key: string, id: string, entry: string, now: string, max: string): Promise<number>;
  latchIndexSeen(key: string, id: string, at: string): Promise<number>;
};

/** What the Redis store lends the index and the bus (stores/redis.ts): its connection, key prefix and failure handling. */
export interface RedisAccess {
  /** One Redis (or Sentinel's master), or a Redis Cluster (LATCH_REDIS_CLUSTER_NODES). */
  readonly client: Redis | Cluster;
  readonly prefix: string;
  /** Runs a command as the store runs its own: a failure is 503 LATCH_STORE_UNAVAILABLE, and counted in the outage log. */
  command<T>(work: () => Promise<T>): Promise<T>;
}

/**
 * Several instances: one hash per user on the Redis store's connection, its key hash-tagged
 * (`idx:{…}`) so that a cluster keeps it on one node. Failures reject as the store's do (503
 * LATCH_STORE_UNAVAILABLE).
 */
export class RedisSessionIndex implements SessionIndex {
  readonly kind = 'redis' as const;
  readonly #access: Promise<RedisAccess>;

  constructor(access: Promise<RedisAccess>) {
    this.#access = access.then((a) => {
      a.client.defineCommand('latchIndexAdd', { numberOfKeys: 1, lua: ADD });
      a.client.defineCommand('latchIndexSeen', { numberOfKeys: 1, lua: SEEN });
      return a;
    });
    this.#access.catch(() => undefined);
  }

  async #do<T>(work: (client: Scripted) => Promise<T>): Promise<T> {
    const a = await this.#access;
    return a.command(() => work(a.client as Scripted));
  }

  /** The key without the store's prefix, which ioredis's keyPrefix does not add: added here. */
  async #key(sub: string): Promise<string> {
    return `${(await this.#access).prefix}idx:{${digest(sub)}}`;
  }

  async add(sub: string, entry: IndexEntry): Promise<void> {
    const key = await this.#key(sub);
    await this.#do((c) => c.latchIndexAdd(key, entry.id, JSON.stringify(entry), String(Date.now()), String(MAX_SESSIONS_PER_USER)));
  }

  async list(sub: string, now = Date.now()): Promise<IndexEntry[]> {
    const key = await this.#key(sub);
    const all = await this.#do((c) => c.hgetall(key));
    const entries: IndexEntry[] = [];
    for (const value of Object.values(all)) {
      try {
        const e = JSON.parse(value) as IndexEntry;
        if (typeof e.id === 'string' && typeof e.exp === 'number') entries.push(e);
      } catch {
        // not ours: left out
      }
    }
    return live(entries, now);
  }

  async seen(sub: string, id: string, at: number): Promise<void> {
    const key = await this.#key(sub);
    await this.#do((c) => c.latchIndexSeen(key, id, String(at)));
  }

  async remove(sub: string, id: string): Promise<boolean> {
    const key = await this.#key(sub);
    return (await this.#do((c) => c.hdel(key, id))) === 1;
  }

  async removeAll(sub: string, at: number, psid?: string): Promise<void> {
    const gone = (await this.list(sub, -Infinity)).filter((e) => (psid === undefined ? e.createdAt <= at : e.psid === psid)).map((e) => e.id);
    if (gone.length === 0) return;
    const key = await this.#key(sub);
    await this.#do((c) => c.hdel(key, ...gone));
  }
}
