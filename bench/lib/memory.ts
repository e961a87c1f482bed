/**
 * Memory of a fresh BFF process (its production bundle) as sessions pass through it, cookie mode:
 *
 * 1. its RSS at rest;
 * 2. the same cookie a few hundred times (code paths compiled, one cache entry), then the heap after
 *    full collections: the base;
 * 3. one GET /me for each of many distinct sessions (every one opened and cached): its RSS, the target,
 *    read from /proc before any forced collection; then the heap;
 * 4. distinct sessions of the largest size a session cookie can have (three chunks): the heap;
 * 5. cookies that never open: variants of a valid seal (`~2x<i>`, outside its MAC), seals with a forged
 *    MAC, and garbage, each answered 401: the heap.
 *
 * The seal cache (bff/session/sealer.ts) is bounded by the bytes it counts; the heap after steps 3–5,
 * less the base, is what that bound holds in practice, whatever the cookies. The heap figures come from
 * the probe (bench/servers/probe.ts, with --expose-gc), which is not in the RSS figure's way: nothing is
 * collected by force before it is read.
 */
import { randomBytes } from 'node:crypto';
import { startChild } from './children.ts';
import { get } from './http.ts';
import { load } from './load.ts';

export interface MemoryFigures {
  node: string;
  sessions: number;
  rssIdleBytes: number;
  rssAfterBytes: number;
  /** heapUsed after full collections, bytes. */
  heap: { base: number; afterDistinct: number; afterLarge: number; afterHostile: number };
  largeSessions: number;
  largeCookieBytes: number;
  hostileCookies: number;
}

export interface MemoryOptions {
  node: { label: string; bin: string };
  /** node arguments: the probe preload, --expose-gc, the server bundle. */
  args: string[];
  env: Record<string, string>;
  port: number;
  probePort: number;
  logDir: string;
  headers: Record<string, string>;
  warmCookie: string;
  cookies: readonly string[];
  largeCookies: readonly string[];
  hostileCookies: readonly string[];
  connections: number;
  log: (msg: string) => void;
}

export async function measureMemory(opts: MemoryOptions): Promise<MemoryFigures> {
  const server = await startChild({
    name: `bff-memory-node${opts.node.label.replace(/\D/g, '')}`, node: opts.node.bin, args: opts.args, port: opts.port,
    env: { ...opts.env, BENCH_PROBE_PORT: String(opts.probePort) }, logDir: opts.logDir, readyPath: '/healthz',
  });
  try {
    const heap = async () => {
      const answer = await get(`http://127.0.0.1:${opts.probePort}/heap`, {});
      const figures = JSON.parse(answer.text) as { collected: boolean; heapUsed: number };
      if (!figures.collected) throw new Error('memory: the probe could not collect garbage (run the server with --expose-gc)');
      return figures.heapUsed;
    };
    const run = async (what: string, cookies: readonly string[], status: number) => {
      const result = await load({ url: server.url, path: '/me', headers: opts.headers, cookies, amount: cookies.length, connections: opts.connections, maxSeconds: 300, expectStatus: status });
      if (result.ok !== cookies.length) throw new Error(`memory (${opts.node.label}), ${what}: ${result.ok} answers ${status} of ${cookies.length}`);
    };
    const rssIdleBytes = await server.rss();
    await run('warm-up', Array.from({ length: 500 }, () => opts.warmCookie), 200);
    const base = await heap();
    opts.log(`memory (${opts.node.label}): one GET /me for each of ${opts.cookies.length} distinct sessions`);
    await run('distinct sessions', opts.cookies, 200);
    const rssAfterBytes = await server.rss();
    const afterDistinct = await heap();
    await run('largest sessions', opts.largeCookies, 200);
    const afterLarge = await heap();
    await run('cookies that never open', opts.hostileCookies, 401);
    const afterHostile = await heap();
    return {
      node: opts.node.label, sessions: opts.cookies.length, rssIdleBytes, rssAfterBytes, heap: { base, afterDistinct, afterLarge, afterHostile },
      largeSessions: opts.largeCookies.length, largeCookieBytes: opts.largeCookies[0]?.length ?? 0, hostileCookies: opts.hostileCookies.length,
    };
  } finally {
    await server.stop();
  }
}

/**
 * `n` Cookie headers that never open, from one valid `latch=<seal>` cookie, in three kinds: the seal
 * with iron-session's version field varied (`~2x<i>`: outside the MAC), the seal with a forged MAC, and
 * random text of the same length.
 */
export function hostileCookies(valid: string, n: number): string[] {
  const value = valid.slice(valid.indexOf('=') + 1);
  const fields = value.split('*');
  return Array.from({ length: n }, (_, i) => {
    if (i % 3 === 0) return `latch=${value}x${i}`;
    if (i % 3 === 1) return `latch=${[...fields.slice(0, -1), `${randomBytes(32).toString('base64url')}~2`].join('*')}`;
    return `latch=${randomBytes(Math.ceil((value.length * 3) / 4)).toString('base64url').slice(0, value.length)}`;
  });
}
