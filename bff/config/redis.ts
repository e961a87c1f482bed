/**
 * Where the shared store is: one Redis, a Sentinel-managed master, or a Redis Cluster. Read from two
 * variables (README: "Sessions"; docs/deploy.md has the ElastiCache and Sentinel setups):
 *
 * - `LATCH_REDIS_URL=redis[s]://[user:pass@]host:port[/db]`: one Redis (unchanged);
 * - `LATCH_REDIS_URL=redis[s]+sentinel://[user:pass@]host:port[,host:port…]/<master name>[?db=N]`: the
 *   master Sentinel names. The sentinels are the hosts; the credentials are the data nodes' (master
 *   and replicas). Sentinels that have a password of their own take `sentinelPassword=…` (and
 *   `sentinelUsername=…`) in the query. `rediss+sentinel` speaks TLS to the sentinels and the nodes.
 *   A URL rather than more variables: it is one secret, set the way the single-Redis URL is;
 * - `LATCH_REDIS_CLUSTER_NODES=host:port[,host:port…]`: a Redis Cluster, from these seeds (the client
 *   learns the rest of the cluster from them: one seed, ElastiCache's configuration endpoint, is
 *   enough). TLS and credentials: write the seeds as URLs, `rediss://[user:pass@]host:port`, all with
 *   the same scheme and credentials. A cluster has database 0 only.
 *
 * Pure: no ioredis here (the config stays light for `--check-config`; the store loads ioredis lazily).
 * The parse is the same for the start-up check (config/sessions.ts) and the store (session/setup.ts).
 */

export interface HostPort {
  host: string;
  port: number;
}

/** What the data nodes (and, over TLS, the sentinels) are reached with. */
export interface RedisAuth {
  tls: boolean;
  username?: string;
  password?: string;
}

export type RedisTarget =
  | { mode: 'single'; url: string }
  | ({ mode: 'sentinel'; sentinels: HostPort[]; name: string; db: number; sentinelUsername?: string; sentinelPassword?: string } & RedisAuth)
  | ({ mode: 'cluster'; nodes: HostPort[] } & RedisAuth);

/** One thing wrong, and the variable it is in. Never the value: it may carry a password. */
export interface RedisProblem {
  variable: 'LATCH_REDIS_URL' | 'LATCH_REDIS_CLUSTER_NODES';
  problem: string;
}

const URL_VAR = 'LATCH_REDIS_URL';
const NODES_VAR = 'LATCH_REDIS_CLUSTER_NODES';

/** The store's place from the two settings, undefined when neither is set, or the first problem found. */
export function parseRedisTarget(url: string | undefined, clusterNodes: readonly string[] | undefined): RedisTarget | RedisProblem | undefined {
  const nodes = clusterNodes && clusterNodes.length > 0 ? clusterNodes : undefined;
  if (url !== undefined && nodes) return { variable: NODES_VAR, problem: `set either ${URL_VAR} (one Redis, or Sentinel) or ${NODES_VAR} (a cluster), not both` };
  if (nodes) return parseCluster(nodes);
  if (url === undefined) return undefined;
  let parsed: URL;
  if (/^rediss?\+sentinel:\/\//i.test(url)) return parseSentinel(url);
  try {
    parsed = new URL(url);
  } catch {
    return { variable: URL_VAR, problem: MUST_BE };
  }
  if (parsed.protocol === 'redis:' || parsed.protocol === 'rediss:') return { mode: 'single', url };
  return { variable: URL_VAR, problem: MUST_BE };
}

export const isRedisProblem = (value: RedisTarget | RedisProblem | undefined): value is RedisProblem => !!value && 'problem' in value;

/** Word for word what earlier versions said (test/bff/config/check-config.golden.json); the Sentinel form has its own messages. */
const MUST_BE = 'must be a redis:// or rediss:// URL';

function parseSentinel(url: string): RedisTarget | RedisProblem {
  // WHATWG URL takes one host only: the list sits between `//` (and the credentials) and the path.
  // Parse the URL with the list replaced by one placeholder host, and the list on its own.
  const start = url.indexOf('//') + 2;
  const authorityEnd = url.slice(start).search(/[/?#]/);
  const end = authorityEnd < 0 ? url.length : start + authorityEnd;
  const at = url.lastIndexOf('@', end);
  const hostsStart = at >= start ? at + 1 : start;
  const sentinels = hostPorts(url.slice(hostsStart, end).split(','), 26379);
  if (!sentinels) return { variable: URL_VAR, problem: 'lists a sentinel that is not host:port' };
  let parsed: URL;
  try {
    parsed = new URL(`${url.slice(0, hostsStart)}sentinels${url.slice(end)}`);
  } catch {
    return { variable: URL_VAR, problem: 'must be redis+sentinel://[user:pass@]host:port[,host:port…]/<master name>' };
  }
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!name || name.includes('/')) return { variable: URL_VAR, problem: 'must name the master after the hosts: redis+sentinel://host:port[,host:port…]/<master name>' };
  const params = parsed.searchParams;
  for (const key of params.keys()) {
    if (!['db', 'sentinelUsername', 'sentinelPassword'].includes(key)) return { variable: URL_VAR, problem: `takes db, sentinelUsername and sentinelPassword in its query, not "${key.slice(0, 40)}"` };
  }
  const db = Number(params.get('db') ?? '0');
  if (!Number.isInteger(db) || db < 0 || db > 15) return { variable: URL_VAR, problem: 'db must be a whole number from 0 to 15' };
  return {
    mode: 'sentinel',
    sentinels,
    name,
    db,
    ...auth(parsed, parsed.protocol === 'rediss+sentinel:'),
    ...(params.get('sentinelUsername') ? { sentinelUsername: params.get('sentinelUsername')! } : {}),
    ...(params.get('sentinelPassword') ? { sentinelPassword: params.get('sentinelPassword')! } : {}),
  };
}

function parseCluster(items: readonly string[]): RedisTarget | RedisProblem {
  const asUrls = items.map((item) => (/^[a-z+]+:\/\//i.test(item) ? item : undefined));
  if (asUrls.every((u) => u === undefined)) {
    const nodes = hostPorts(items, 6379);
    return nodes ? { mode: 'cluster', nodes, tls: false } : { variable: NODES_VAR, problem: 'must list host:port seeds, comma-separated (or rediss://[user:pass@]host:port URLs)' };
  }
  if (asUrls.some((u) => u === undefined)) return { variable: NODES_VAR, problem: 'mixes host:port and URL seeds: write them all one way' };
  const parsed: URL[] = [];
  for (const item of items) {
    try {
      parsed.push(new URL(item));
    } catch {
      return { variable: NODES_VAR, problem: 'has a seed that is not a URL' };
    }
  }
  const first = parsed[0]!;
  for (const u of parsed) {
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return { variable: NODES_VAR, problem: 'takes redis:// or rediss:// seeds' };
    if (u.protocol !== first.protocol || u.username !== first.username || u.password !== first.password) {
      return { variable: NODES_VAR, problem: 'seeds must share one scheme and one set of credentials (the cluster has one)' };
    }
    if (u.pathname !== '' && u.pathname !== '/' && u.pathname !== '/0') return { variable: NODES_VAR, problem: 'a cluster has database 0 only: leave the /db out' };
    if (!u.hostname) return { variable: NODES_VAR, problem: 'has a seed without a host' };
  }
  return {
    mode: 'cluster',
    nodes: parsed.map((u) => ({ host: unbracket(u.hostname), port: u.port ? Number(u.port) : 6379 })),
    ...auth(first, first.protocol === 'rediss:'),
  };
}

function auth(u: URL, tls: boolean): RedisAuth {
  return {
    tls,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

/** `host:port` items (IPv6 in brackets), or undefined if one is not. */
function hostPorts(items: readonly string[], defaultPort: number): HostPort[] | undefined {
  const out: HostPort[] = [];
  for (const raw of items) {
    const item = raw.trim();
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(item);
    if (!m) return undefined;
    const port = m[2] === undefined ? defaultPort : Number(m[2]);
    if (port < 1 || port > 65535) return undefined;
    out.push({ host: unbracket(m[1]!), port });
  }
  return out.length > 0 ? out : undefined;
}

const unbracket = (host: string) => (host.startsWith('[') ? host.slice(1, -1) : host);
