/**
 * Real Redis topologies on loopback, from Debian's redis-server: a Redis Cluster (3 masters + 3
 * replicas, `redis-cli --cluster create`) and a Sentinel set (1 master + 1 replica + 3 sentinels,
 * `redis-server <conf> --sentinel`). Each server runs in its own folder under one temp dir, on a free
 * port, binds 127.0.0.1 only, and is stopped by its handle (and killed at process exit if forgotten:
 * net.ts's startRedis does the same for one server).
 *
 * Timings are short so a failover takes seconds, not the production default's tens: a node is
 * considered down after `nodeTimeoutMs` (cluster-node-timeout; Sentinel's down-after-milliseconds).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, redisPing, redisServerPath, redisSuiteOptions, toolSuiteOptions } from './net.ts';

const LOOPBACK = '127.0.0.1';

/** redis-cli, beside redis-server (Debian ships both in redis-tools / redis-server). */
export function redisCliPath(): string | undefined {
  const server = redisServerPath();
  if (!server) return undefined;
  const cli = join(dirname(server), 'redis-cli');
  return existsSync(cli) ? cli : undefined;
}

/** A describe's options for these topologies: redis-server and redis-cli (skipped locally without them; with CI=true, failed). */
export function clusterSuiteOptions(): { skip?: string } {
  const server = redisSuiteOptions();
  return server.skip ? server : toolSuiteOptions('redis-cli', redisCliPath() !== undefined, 'apt-get install redis-tools (Debian\'s redis-server depends on it)');
}

/** Runs one redis-cli command against `port`; its output, trimmed. Rejects on a non-zero exit. */
export function cli(port: number, ...args: string[]): Promise<string> {
  const bin = redisCliPath();
  if (!bin) return Promise.reject(new Error('redis-cli not found beside redis-server'));
  return new Promise((resolve, reject) => {
    execFile(bin, ['-h', LOOPBACK, '-p', String(port), ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli -p ${port} ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout.trim());
    });
  });
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** One redis-server process (a cluster node, a master, a replica or a sentinel). */
export interface ServerHandle {
  port: number;
  /** SIGKILL now (a crash); the process is gone when it resolves. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server hangs with its connections open, then answers. */
  pause(): void;
  resume(): void;
  readonly alive: boolean;
}

/**
 * Starts a server on `port`, or, if it cannot bind there (freePort() then bind is racy: another
 * process may take the port in between), on another free port: `spawnAt(port)` gives the folder and
 * arguments for a port. Up to three attempts.
 */
async function startServerOnFreePort(spawnAt: (port: number) => Promise<{ dir: string; args: string[] }>, port?: number): Promise<ServerHandle & { stop(): Promise<void> }> {
  for (let attempt = 1; ; attempt++) {
    const p = port ?? (await freePort());
    const { dir, args } = await spawnAt(p);
    try {
      return await startServer(dir, args, p);
    } catch (err) {
      if (attempt >= 3) throw err;
      port = undefined;
    }
  }
}

async function startServer(dir: string, args: string[], port: number): Promise<ServerHandle & { stop(): Promise<void> }> {
  const bin = redisServerPath();
  if (!bin) throw new Error('redis-server not found (apt-get install redis-server, or set LATCH_REDIS_SERVER)');
  await mkdir(dir, { recursive: true });
  const logFile = join(dir, 'redis.log');
  const out = openSync(logFile, 'a');
  const proc = spawn(bin, args, { cwd: dir, stdio: ['ignore', out, out] });
  closeSync(out);
  proc.unref();
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  const exited = () => proc.exitCode !== null || proc.signalCode !== null;
  const waitExit = () => (exited() ? Promise.resolve() : new Promise<void>((resolve) => proc.once('exit', () => resolve())));
  const deadline = Date.now() + 15_000;
  // Our process must be the one answering: if another took the port first, ours exits (cannot bind).
  while (!(await redisPing(port, 250)) || exited()) {
    if (exited() || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`redis-server did not start on ${port}:\n${safeRead(logFile).slice(-2000)}`);
    }
    await sleep(25);
  }
  return {
    port,
    get alive() {
      return !exited();
    },
    async kill() {
      proc.kill('SIGKILL');
      await waitExit();
    },
    pause: () => proc.kill('SIGSTOP'),
    resume: () => proc.kill('SIGCONT'),
    async stop() {
      if (exited()) return;
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await waitExit();
      clearTimeout(timer);
    },
  };
}

const safeRead = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it is true, or fails naming `what`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

const BASE_ARGS = (port: number, dir: string) => [
  '--port', String(port), '--bind', LOOPBACK, '--dir', dir, '--save', '', '--appendonly', 'no', '--loglevel', 'warning',
  // A new replica's first sync starts at once: the default waits 5 s for more replicas to share it,
  // and a master killed meanwhile takes with it everything its replica has not received.
  '--repl-diskless-sync-delay', '0',
];

// ---------------------------------------------------------------------------------------------
// Redis Cluster

export interface ClusterNode extends ServerHandle {
  /** The node's cluster id. */
  id: string;
}

export interface RedisClusterHandle {
  /** `127.0.0.1:<port>,…` of every node: LATCH_REDIS_CLUSTER_NODES. */
  seeds: string;
  nodes: ClusterNode[];
  /** The slot of `key` (CLUSTER KEYSLOT, asked of a live node). */
  slotOf(key: string): Promise<number>;
  /** The live node serving `slot` as master, by the live nodes' view. */
  masterOf(slot: number): Promise<ClusterNode>;
  /** A live replica of `master`. */
  replicaOf(master: ClusterNode): Promise<ClusterNode>;
  /** CLUSTER INFO's cluster_state, asked of a live node. */
  state(node?: ClusterNode): Promise<string>;
  /**
   * Moves `slot` to master `to` the way `redis-cli --cluster reshard` does: IMPORTING / MIGRATING, its
   * keys MIGRATEd a few at a time (`pauseMs` between batches: clients meet ASK meanwhile), then
   * SETSLOT NODE everywhere (MOVED from then on).
   */
  moveSlot(slot: number, to: ClusterNode, pauseMs?: number): Promise<void>;
  /** Waits until every live node says cluster_state:ok and agrees `slot` is served by a live master. */
  settled(slot?: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** cluster-node-timeout, ms. default 1000 */
  nodeTimeoutMs?: number;
}

/** Six nodes, three masters with one replica each, every slot covered, `cluster_state:ok` everywhere. */
export async function startRedisCluster(options: ClusterOptions = {}): Promise<RedisClusterHandle> {
  const root = await mkdtemp(join(tmpdir(), 'latch-redis-cluster-'));
  dirs.add(root);
  const servers: Array<ServerHandle & { stop(): Promise<void> }> = [];
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(root, { recursive: true, force: true });
    dirs.delete(root);
  };
  try {
    for (let i = 0; i < 6; i++) {
      servers.push(await startServerOnFreePort(async (port) => {
        const dir = join(root, String(port));
        return {
          dir,
          args: [
            ...BASE_ARGS(port, dir),
            '--cluster-enabled', 'yes',
            '--cluster-config-file', 'nodes.conf',
            '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
            // A replica under load may lag behind its master's last ping; let it be elected all the same.
            '--cluster-replica-validity-factor', '0',
          ],
        };
      }));
    }
    const ports = servers.map((s) => s.port);
    await cli(ports[0]!, '--cluster', 'create', ...ports.map((p) => `${LOOPBACK}:${p}`), '--cluster-replicas', '1', '--cluster-yes');
    const ids = await Promise.all(ports.map((p) => cli(p, 'CLUSTER', 'MYID')));
    const nodes: ClusterNode[] = servers.map((s, i) => Object.assign(s, { id: ids[i]! }));
    const alive = () => nodes.filter((n) => n.alive);
    const anyLive = () => {
      const n = alive()[0];
      if (!n) throw new Error('no live node');
      return n;
    };
    /** CLUSTER NODES as one node sees it. */
    const view = async (from: ClusterNode) =>
      (await cli(from.port, 'CLUSTER', 'NODES')).split('\n').map((line) => {
        const [id, , flags, masterId, , , , , ...slots] = line.trim().split(' ');
        return { id: id!, flags: flags!.split(','), masterId: masterId!, slots };
      });
    const serves = (slots: string[], slot: number) =>
      slots.some((range) => {
        if (range.startsWith('[')) return false;
        const [a, b] = range.split('-').map(Number);
        return slot >= a! && slot <= (b ?? a!);
      });
    const handle: RedisClusterHandle = {
      seeds: ports.map((p) => `${LOOPBACK}:${p}`).join(','),
      nodes,
      slotOf: async (key) => Number(await cli(anyLive().port, 'CLUSTER', 'KEYSLOT', key)),
      async masterOf(slot) {
        for (const from of alive()) {
          const entry = (await view(from)).find((e) => e.flags.includes('master') && !e.flags.includes('fail') && serves(e.slots, slot));
          const node = entry && nodes.find((n) => n.id === entry.id && n.alive);
          if (node) return node;
        }
        throw new Error(`no live master serves slot ${slot}`);
      },
      async replicaOf(master) {
        const entry = (await view(anyLive())).find((e) => e.flags.includes('slave') && e.masterId === master.id && nodes.find((n) => n.id === e.id)?.alive);
        if (!entry) throw new Error(`no live replica of ${master.port}`);
        return nodes.find((n) => n.id === entry.id)!;
      },
      async moveSlot(slot, to, pauseMs = 50) {
        const from = await handle.masterOf(slot);
        if (from === to) throw new Error('moveSlot: already there');
        await cli(to.port, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id);
        await cli(from.port, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id);
        for (;;) {
          const keys = (await cli(from.port, 'CLUSTER', 'GETKEYSINSLOT', String(slot), '2')).split('\n').filter(Boolean);
          if (keys.length === 0) break;
          await cli(from.port, 'MIGRATE', LOOPBACK, String(to.port), '', '0', '5000', 'KEYS', ...keys);
          await sleep(pauseMs);
        }
        for (const n of [to, from, ...alive().filter((x) => x !== to && x !== from)]) {
          await cli(n.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id).catch(() => undefined); // a replica refuses: it learns by gossip
        }
      },
      state: async (node = anyLive()) => /cluster_state:(\w+)/.exec(await cli(node.port, 'CLUSTER', 'INFO'))?.[1] ?? 'unknown',
      async settled(slot, timeoutMs = 30_000) {
        await until('cluster_state:ok on every live node, every replica in sync', async () => {
          for (const n of alive()) if ((await handle.state(n)) !== 'ok') return false;
          for (const n of alive()) {
            const info = await cli(n.port, 'INFO', 'replication');
            if (/role:slave/.test(info) && !/master_link_status:up/.test(info)) return false;
          }
          if (slot === undefined) return true;
          // Every live node names the same live master for the slot (the failover has propagated).
          const owners = new Set<string>();
          for (const from of alive()) {
            const entry = (await view(from)).find((e) => e.flags.includes('master') && !e.flags.includes('fail') && serves(e.slots, slot));
            if (!entry || !nodes.find((n) => n.id === entry.id)?.alive) return false;
            owners.add(entry.id);
          }
          return owners.size === 1;
        }, timeoutMs);
      },
      stop: stopAll,
    };
    await handle.settled();
    return handle;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Sentinel

export interface SentinelHandle {
  /** `redis+sentinel://127.0.0.1:<s1>,127.0.0.1:<s2>,127.0.0.1:<s3>/<name>`: LATCH_REDIS_URL. */
  url: string;
  name: string;
  servers: ServerHandle[];
  sentinels: ServerHandle[];
  /** The master the sentinels name now. */
  master(): Promise<ServerHandle>;
  /** SENTINEL FAILOVER, then waits until every sentinel names the other server and it says role:master. */
  failover(timeoutMs?: number): Promise<ServerHandle>;
  stop(): Promise<void>;
}

/** A master, its replica, and three sentinels watching them (quorum 2). */
export async function startRedisSentinel(options: { downAfterMs?: number } = {}): Promise<SentinelHandle> {
  const root = await mkdtemp(join(tmpdir(), 'latch-redis-sentinel-'));
  dirs.add(root);
  const name = 'latchmaster';
  const all: Array<ServerHandle & { stop(): Promise<void> }> = [];
  const stopAll = async () => {
    await Promise.all(all.map((s) => s.stop()));
    await rm(root, { recursive: true, force: true });
    dirs.delete(root);
  };
  try {
    const master = await startServerOnFreePort(async (p) => ({ dir: join(root, String(p)), args: BASE_ARGS(p, join(root, String(p))) }));
    all.push(master);
    const mPort = master.port;
    const replica = await startServerOnFreePort(async (p) => ({ dir: join(root, String(p)), args: [...BASE_ARGS(p, join(root, String(p))), '--replicaof', LOOPBACK, String(mPort)] }));
    all.push(replica);
    await until('the replica in sync', async () => /master_link_status:up/.test(await cli(replica.port, 'INFO', 'replication')));
    const sentinels: ServerHandle[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await startServerOnFreePort(async (port) => {
        const dir = join(root, String(port));
        await mkdir(dir, { recursive: true });
        // Sentinel rewrites its configuration file as it learns: it must be its own, writable.
        const conf = join(dir, 'sentinel.conf');
        await writeFile(conf, [
          `port ${port}`, `bind ${LOOPBACK}`, `dir ${dir}`,
          `sentinel monitor ${name} ${LOOPBACK} ${mPort} 2`,
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'));
        return { dir, args: [conf, '--sentinel', '--loglevel', 'warning'] };
      });
      all.push(s);
      sentinels.push(s);
    }
    const sPorts = sentinels.map((s) => s.port);
    const servers = [master, replica];
    const masterPort = async (sentinel: ServerHandle) => Number((await cli(sentinel.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)).split('\n')[1]);
    // Ready for a failover: every sentinel knows the replica and the other sentinels.
    await until('the sentinels to know the replica and each other', async () => {
      for (const s of sentinels) {
        const info = await cli(s.port, 'SENTINEL', 'MASTER', name);
        const field = (k: string) => Number(info.split('\n')[info.split('\n').indexOf(k) + 1]);
        if (field('num-slaves') < 1 || field('num-other-sentinels') < 2) return false;
      }
      return true;
    });
    const handle: SentinelHandle = {
      url: `redis+sentinel://${sPorts.map((p) => `${LOOPBACK}:${p}`).join(',')}/${name}`,
      name,
      servers,
      sentinels,
      async master() {
        const live = sentinels.find((s) => s.alive)!;
        const port = await masterPort(live);
        return servers.find((s) => s.port === port)!;
      },
      async failover(timeoutMs = 30_000) {
        const before = await handle.master();
        const next = servers.find((s) => s !== before)!;
        await until('SENTINEL FAILOVER to be accepted', async () => (await cli(sentinels[0]!.port, 'SENTINEL', 'FAILOVER', name)) === 'OK', 10_000, 250);
        await until('every sentinel to name the new master, and it to be one', async () => {
          for (const s of sentinels) if ((await masterPort(s)) !== next.port) return false;
          return /role:master/.test(await cli(next.port, 'INFO', 'replication'));
        }, timeoutMs);
        return next;
      },
      stop: stopAll,
    };
    return handle;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
