/**
 * Test helpers for servers: free ports, a listening HTTP(S) server with a handle to close it,
 * and a throwaway redis-server. Everything binds to 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const LOOPBACK = '127.0.0.1';

/** True when CI=true (or 1): a missing external tool then fails the run instead of skipping. */
export function isCI(): boolean {
  return /^(true|1)$/i.test(process.env.CI ?? '');
}

const warned = new Set<string>();

/**
 * Options for a node:test `describe` that needs an external tool (a browser, redis-server).
 * Present: `{}`. Missing locally: `{ skip }` plus one loud warning per process.
 * Missing under CI: throws, so the test file — and the run — fails.
 */
export function toolSuiteOptions(tool: string, available: boolean, hint: string): { skip?: string } {
  if (available) return {};
  const message = `${tool} is not available (${hint})`;
  if (isCI()) throw new Error(`CI=true and ${message}: failing instead of skipping.`);
  if (!warned.has(tool)) {
    warned.add(tool);
    const bar = '!'.repeat(78);
    console.warn(`\n${bar}\n!! SKIPPED: ${message}.\n!! Suites that need it do not run here; with CI=true they fail.\n${bar}\n`);
  }
  return { skip: message };
}

// ---------------------------------------------------------------------------------------------
// Ports and servers

const handedOut = new Set<number>();

/**
 * Ports handed out by freePort(): below Linux's ephemeral range (32768-60999), so no outgoing
 * connection of any process (each one takes a source port from that range) can take a port between
 * freePort() and the listen() that follows, sometimes seconds later (a provider registering the
 * BFF's redirect URI starts first). Within it, a random pick: two test runs side by side (CI runs
 * the suite on Node 20 and Node 24 at once) rarely want the same port, where the kernel's own
 * choice of a free port, bind(0), hands them out in order.
 */
const PORT_RANGE = { from: 20_000, to: 32_000 } as const;

function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, LOOPBACK, () => server.close(() => resolve(true)));
  });
}

/** A port that was free on 127.0.0.1 a moment ago, never the same one twice in this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (handedOut.has(port) || !(await probe(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`freePort: no free port found in ${PORT_RANGE.from}-${PORT_RANGE.to}`);
}

export interface Listening {
  server: http.Server | https.Server;
  port: number;
  /** `http(s)://<host>:<port>` with the host the server listens on (127.0.0.1 unless told). */
  url: string;
  /** The same server under another host name, e.g. `urlFor('auth.latch.test')` for a browser. */
  urlFor(hostname: string): string;
  /** Stops listening and drops every open connection (keep-alive included). Idempotent. */
  close(): Promise<void>;
}

/** Serves `handler` (anything `http.createServer` takes, e.g. a Koa `app.callback()`). */
export async function listen(
  handler: http.RequestListener,
  opts: { host?: string; port?: number; tls?: { key: string | Buffer; cert: string | Buffer } } = {},
): Promise<Listening> {
  const host = opts.host ?? LOOPBACK;
  const server = opts.tls ? https.createServer(opts.tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('listen: no address');
  const port = address.port;
  const scheme = opts.tls ? 'https' : 'http';
  const urlFor = (hostname: string) => `${scheme}://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    url: urlFor(host),
    urlFor,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Slow clients

export interface Trickle {
  /** Resolves with the milliseconds from the first byte to the server closing the connection. */
  closed: Promise<number>;
  /** What the server sent so far (latin1). */
  answer(): string;
  /** Stops sending and drops the connection. */
  stop(): void;
}

/**
 * A slow client on a raw socket: writes `head`, then `drip()`'s bytes every `everyMs` (never idle long
 * enough for an idle timeout, never done) until the server closes the connection or `stop()`.
 */
export async function trickle(port: number, head: string | Buffer, drip: () => string | Buffer, everyMs = 100): Promise<Trickle> {
  const socket = net.connect({ host: LOOPBACK, port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  const started = performance.now();
  socket.write(head);
  const timer = setInterval(() => socket.writable && socket.write(drip()), everyMs);
  const closed = new Promise<number>((resolve) => socket.once('close', () => {
    clearInterval(timer);
    resolve(performance.now() - started);
  }));
  return {
    closed,
    answer: () => answer,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// redis-server

/** Path of redis-server: $LATCH_REDIS_SERVER, else the first one on $PATH; undefined if none. */
export function redisServerPath(): string | undefined {
  const candidates = process.env.LATCH_REDIS_SERVER
    ? [process.env.LATCH_REDIS_SERVER]
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'redis-server'));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

export function redisAvailable(): boolean {
  return redisServerPath() !== undefined;
}

export function redisSuiteOptions(): { skip?: string } {
  return toolSuiteOptions('redis-server', redisAvailable(), 'apt-get install redis-server, or set LATCH_REDIS_SERVER');
}

export interface RedisHandle {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** SIGTERM, wait for exit, remove the temp dir. Idempotent; call it even after kill(). */
  stop(): Promise<void>;
  /** SIGKILL now, without waiting (simulates a crash). restart() brings it back on the same port. */
  kill(): void;
  /**
   * Stops the server if running and starts it again on the same port: empty, or with `persist` with
   * every write it acknowledged (the append-only file, fsynced at each write).
   */
  restart(): Promise<void>;
  /** SIGSTOP: the server hangs, its connections stay open and commands wait (a stall, not a crash). */
  pause(): void;
  /** SIGCONT after pause(): it answers what it received meanwhile. */
  resume(): void;
}

export interface RedisOptions {
  /** Keep data across kill() + restart(): `appendonly yes`, `appendfsync always`. default false */
  persist?: boolean;
}

/** A redis-server someone forgot to stop() is killed, and its temp dir removed, at process exit. */
const liveRedis = new Set<ChildProcess>();
const redisDirs = new Set<string>();
process.once('exit', () => {
  for (const child of liveRedis) child.kill('SIGKILL');
  for (const dir of redisDirs) rmSync(dir, { recursive: true, force: true });
});

/** Resolves once something on the port answers PING with +PONG (raw RESP, no client library). */
export function redisPing(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisHandle> {
  const bin = redisServerPath();
  if (!bin) throw new Error('startRedis: redis-server not found (apt-get install redis-server, or set LATCH_REDIS_SERVER)');
  const dir = await mkdtemp(join(tmpdir(), 'latch-redis-'));
  redisDirs.add(dir);
  const removeDir = async () => {
    await rm(dir, { recursive: true, force: true });
    redisDirs.delete(dir);
  };
  const logFile = join(dir, 'redis.log');
  let child: ChildProcess | undefined;
  let port = 0;

  const spawnOn = async (p: number): Promise<void> => {
    // Output goes to a file, not a pipe: nothing to drain, and a forgotten server cannot
    // keep the test process alive (the child is unref'd; the exit hook kills it).
    const out = openSync(logFile, 'a');
    const proc = spawn(
      bin,
      ['--port', String(p), '--bind', LOOPBACK, '--save', '', ...(options.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']), '--dir', dir, '--loglevel', 'warning'],
      { cwd: dir, stdio: ['ignore', out, out] },
    );
    closeSync(out);
    proc.unref();
    liveRedis.add(proc);
    proc.once('exit', () => liveRedis.delete(proc));
    child = proc;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) break;
      if (await redisPing(p, 250)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    proc.kill('SIGKILL');
    let log = '';
    try {
      log = readFileSync(logFile, 'utf8').slice(-2000);
    } catch {
      // no log
    }
    throw new Error(`startRedis: redis-server did not answer PING on ${LOOPBACK}:${p}\n${log}`);
  };

  const halt = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc) return;
    proc.kill('SIGTERM');
    proc.kill('SIGCONT'); // a paused server takes its SIGTERM only once it runs again
    if (!(await waitForExit(proc, 5000))) {
      proc.kill('SIGKILL');
      await waitForExit(proc, 5000);
    }
  };

  // freePort() then bind is racy; another process may take the port in between. Retry.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await spawnOn(port);
      break;
    } catch (err) {
      if (attempt >= 3) {
        await removeDir();
        throw err;
      }
    }
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `redis://${LOOPBACK}:${port}`,
    port,
    stop() {
      stopped ??= halt().then(removeDir);
      return stopped;
    },
    kill() {
      child?.kill('SIGKILL');
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async restart() {
      if (stopped) throw new Error('startRedis: restart() after stop()');
      await halt();
      await spawnOn(port);
    },
  };
}

/** A TCP relay to Redis that can be cut (every connection dropped, new ones refused) and healed. */
export async function startRelay(target: number): Promise<{ url: string; cut(): void; heal(): void; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    heal() {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
