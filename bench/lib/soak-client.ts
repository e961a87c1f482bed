/**
 * The soak's clients: browsers with a cookie jar (test/helpers/http.ts's HttpClient, so the same
 * sign-in and logout walks the integration tests use), whose connections all go through one pool the
 * soak owns and closes; plain requests that bypass the jar (for the bad input: a tampered cookie must
 * not replace the good one); raw sockets (for what fetch cannot send: broken framing, a body cut
 * short, a client that leaves mid-request). Every answer from the BFF is counted in a Tally, by the
 * kind of request and its status, and checked against the statuses that kind may get.
 */
import { connect } from 'node:net';
import { HttpClient, type HttpInit, type HttpResult } from '../../test/helpers/http.ts';

// ---------------------------------------------------------------------------------------------------------
// Connection pools (undici's, the one Node's fetch uses)

interface Dispatcher {
  close(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * Node's fetch keeps its global connection pool under this name (undici shares it across its copies
 * by this symbol). oidc-provider sends its back-channel logout tokens with the global fetch.
 */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');
type WithDispatcher = typeof globalThis & { [GLOBAL_DISPATCHER]?: Dispatcher };

/** A new undici Agent (the class of Node's own global pool: undici is not a dependency of its own here). */
export async function newPool(): Promise<Dispatcher> {
  const g = globalThis as WithDispatcher;
  // The global pool exists once fetch has been called; a refused connection is enough to make it.
  if (!g[GLOBAL_DISPATCHER]) await fetch('http://127.0.0.1:1/').catch(() => undefined);
  const Agent = g[GLOBAL_DISPATCHER]?.constructor as (new (options?: object) => Dispatcher) | undefined;
  if (!Agent) throw new Error('soak: could not find the fetch connection pool (undici global dispatcher)');
  return new Agent({ connections: 64 });
}

/** Closes a pool's connections: gracefully, then by force after `graceMs`. */
export async function closePool(pool: Dispatcher, graceMs = 2000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => void pool.destroy().catch(() => undefined).then(resolve), graceMs);
  });
  await Promise.race([pool.close().catch(() => undefined), forced]);
  clearTimeout(timer);
}

/**
 * Replaces this process's global fetch pool with a new one and closes the old. The dev provider's
 * back-channel logout requests go through it, and keep their connections to the BFF open as long as
 * the BFF's `Keep-Alive: timeout=65` allows: a client's choice, which the soak ends before it counts
 * what the BFF holds open.
 */
export async function renewGlobalPool(): Promise<void> {
  const g = globalThis as WithDispatcher;
  const old = g[GLOBAL_DISPATCHER];
  g[GLOBAL_DISPATCHER] = await newPool();
  if (old) await closePool(old);
}

// ---------------------------------------------------------------------------------------------------------
// Counting answers

export interface KindTally {
  /** Answers by status (`'error'`: no answer where one was due; `'done'`: a step that is not one answer, completed). */
  statuses: Record<string, number>;
  /** Requests sent whose answer was not waited for (raw-socket cases that leave). */
  unanswered: number;
}

export interface Unexpected {
  kind: string;
  status: number | 'error';
  detail: string;
  atMs: number;
}

export class Tally {
  readonly kinds = new Map<string, KindTally>();
  /** 5xx answers from the BFF, seen by the clients. */
  bff5xx = 0;
  /** Answers from the BFF. */
  bffAnswers = 0;
  unexpectedCount = 0;
  /** The first few unexpected answers, for the report. */
  readonly unexpected: Unexpected[] = [];
  readonly #started = performance.now();

  #kind(kind: string): KindTally {
    let k = this.kinds.get(kind);
    if (!k) this.kinds.set(kind, (k = { statuses: {}, unanswered: 0 }));
    return k;
  }

  /** One answer from the BFF (or `'error'`): counted, and checked against `expected` when given. */
  answer(kind: string, status: number | 'error', expected?: readonly number[], detail = ''): void {
    const k = this.#kind(kind);
    k.statuses[String(status)] = (k.statuses[String(status)] ?? 0) + 1;
    if (status !== 'error') {
      this.bffAnswers++;
      if (status >= 500) this.bff5xx++;
    }
    if (status === 'error' || status >= 500 || (expected && !expected.includes(status))) this.wrong(kind, status, detail);
  }

  /** Something that should not have happened (a wrong status, a walk that broke). */
  wrong(kind: string, status: number | 'error', detail: string): void {
    this.unexpectedCount++;
    if (this.unexpected.length < 20) this.unexpected.push({ kind, status, detail: detail.slice(0, 300), atMs: Math.round(performance.now() - this.#started) });
  }

  unanswered(kind: string): void {
    this.#kind(kind).unanswered++;
  }

  /** A step that completed without being one answer of the BFF's (a sign-in walk, a sign-out at the provider). */
  done(kind: string): void {
    const k = this.#kind(kind);
    k.statuses['done'] = (k.statuses['done'] ?? 0) + 1;
  }

  count(kind: string, status?: number): number {
    const k = this.kinds.get(kind);
    if (!k) return 0;
    if (status !== undefined) return k.statuses[String(status)] ?? 0;
    return Object.values(k.statuses).reduce((a, b) => a + b, 0) + k.unanswered;
  }
}

// ---------------------------------------------------------------------------------------------------------
// A browser

export interface ClientContext {
  bffUrl: string;
  pool: Dispatcher;
  tally: Tally;
  /** Per request, ms. */
  timeoutMs: number;
}

/**
 * A browser: a cookie jar, all its connections in the soak's pool, the client address a load balancer
 * in front would add (`X-Forwarded-For`; the BFF trusts one proxy, so each simulated user has an
 * address of its own and the per-address sign-in rate limit applies per user, as in production).
 * Every answer from the BFF is counted under `kind`, which the caller sets before each step.
 */
export class SoakClient extends HttpClient {
  kind = 'sign-in';
  readonly #ctx: ClientContext;
  readonly #bffOrigin: string;
  readonly #address: string;

  constructor(ctx: ClientContext, address: string) {
    super();
    this.#ctx = ctx;
    this.#bffOrigin = new URL(ctx.bffUrl).origin;
    this.#address = address;
  }

  override async request(url: string, init?: HttpInit): Promise<HttpResult> {
    const toBff = new URL(url).origin === this.#bffOrigin;
    const headers = new Headers(init?.headers);
    if (toBff) headers.set('x-forwarded-for', this.#address);
    try {
      const result = await super.request(url, { ...init, headers, ...this.#transport() });
      if (toBff) this.#ctx.tally.answer(this.kind, result.status);
      return result;
    } catch (err) {
      if (toBff) this.#ctx.tally.answer(this.kind, 'error', undefined, `${url}: ${String(err)}`);
      throw err;
    }
  }

  /**
   * One request to the BFF outside the jar (neither its cookies nor the answer's Set-Cookie touch
   * it), counted under `kind` and checked against `expected`.
   */
  async bare(kind: string, path: string, init: RequestInit, expected: readonly number[]): Promise<number | 'error'> {
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-for', this.#address);
    try {
      const res = await fetch(`${this.#ctx.bffUrl}${path}`, { ...init, headers, redirect: 'manual', ...this.#transport() });
      await res.arrayBuffer();
      this.#ctx.tally.answer(kind, res.status, expected, `${init.method ?? 'GET'} ${path.slice(0, 80)}`);
      return res.status;
    } catch (err) {
      this.#ctx.tally.answer(kind, 'error', expected, `${init.method ?? 'GET'} ${path.slice(0, 80)}: ${String(err)}`);
      return 'error';
    }
  }

  /** The Cookie header this browser sends the BFF. */
  cookies(): Promise<string> {
    return this.jar.getCookieString(this.#ctx.bffUrl);
  }

  get address(): string {
    return this.#address;
  }

  #transport(): RequestInit {
    return { dispatcher: this.#ctx.pool, signal: AbortSignal.timeout(this.#ctx.timeoutMs) } as RequestInit;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Raw sockets

export interface RawOptions {
  /** Leave (destroy the socket) this long after writing, without waiting for an answer. */
  leaveAfterMs?: number;
  timeoutMs?: number;
}

/**
 * Writes `bytes` on a new connection to 127.0.0.1:`port`, then waits for the status line of the
 * answer (resolves its code, or 'closed' when the server closed without one), or leaves after
 * `leaveAfterMs` (resolves 'left').
 */
export function raw(port: number, bytes: string | Buffer, opts: RawOptions = {}): Promise<number | 'closed' | 'left'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    let done = false;
    const finish = (result: number | 'closed' | 'left') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish('closed'), opts.timeoutMs ?? 15_000);
    socket.once('connect', () => {
      socket.write(bytes);
      if (opts.leaveAfterMs !== undefined) setTimeout(() => finish('left'), opts.leaveAfterMs);
    });
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      if (m) finish(Number(m[1]));
      else if (got.length > 64) finish('closed');
    });
    socket.once('error', () => finish('closed'));
    socket.once('close', () => finish('closed'));
  });
}
