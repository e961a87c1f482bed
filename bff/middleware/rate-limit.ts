import type { Context } from 'koa';
import { LatchError } from '../errors.ts';

export interface FixedWindowOptions {
  /** Requests allowed per key per window. */
  max: number;
  windowMs: number;
  /**
   * Keys tracked per window at most. Beyond it new keys are let through
   * (and the overflow logged by the caller): a flood of distinct keys must
   * not exhaust memory, nor lock everyone out.
   */
  maxKeys?: number;
  now?: () => number;
}

export interface LimitDecision {
  allowed: boolean;
  /** Requests left in this window for the key. */
  remaining: number;
  /** Seconds until the window resets. */
  retryAfterS: number;
  /** The key table was full and this key was not counted. */
  overflow?: boolean;
}

/**
 * A fixed-window counter in memory: windows are aligned on multiples of
 * `windowMs`, and the whole table is dropped when a window ends, so memory
 * is bounded by the keys seen in one window. Per process: with several
 * instances each one counts for itself (the limit is per instance).
 */
export class FixedWindowLimiter {
  readonly max: number;
  readonly windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  #window = -1;
  #counts = new Map<string, number>();

  constructor(options: FixedWindowOptions) {
    this.max = options.max;
    this.windowMs = options.windowMs;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /** Counts one request for `key` and says whether it may go on. */
  hit(key: string): LimitDecision {
    const now = this.#now();
    const window = Math.floor(now / this.windowMs);
    if (window !== this.#window) {
      this.#window = window;
      this.#counts = new Map();
    }
    const retryAfterS = Math.max(1, Math.ceil(((window + 1) * this.windowMs - now) / 1000));
    const count = (this.#counts.get(key) ?? 0) + 1;
    if (count === 1 && this.#counts.size >= this.#maxKeys) {
      return { allowed: true, remaining: 0, retryAfterS, overflow: true };
    }
    this.#counts.set(key, count);
    return { allowed: count <= this.max, remaining: Math.max(0, this.max - count), retryAfterS };
  }
}

export const rateLimited = (retryAfterS: number) =>
  new LatchError('LATCH_RATE_LIMITED', {
    headers: { 'Retry-After': String(retryAfterS) },
  });

export interface RateLimitOptions {
  /**
   * Whether a request counts: ask the route it will reach (RouteTable.route and the route's traits),
   * never its raw path, which has other spellings the routes accept (`/login/`). default: every request
   */
  applies?: (ctx: Context) => boolean;
  /** Called once per window when the key table overflows. */
  onOverflow?: () => void;
}

/**
 * Throws 429 LATCH_RATE_LIMITED with Retry-After once a client IP exceeds the limiter's budget
 * (`ctx.ip`: with LATCH_TRUST_PROXY the X-Forwarded-For client, not the proxy). A plain check, run by
 * the app's edge middleware before the routes.
 */
export function rateLimit(limiter: FixedWindowLimiter, options: RateLimitOptions = {}): (ctx: Context) => void {
  const applies = options.applies;
  let overflowWindow = -1;
  return function limitRate(ctx: Context): void {
    if (applies && !applies(ctx)) return;
    const decision = limiter.hit(ctx.ip);
    if (decision.overflow) {
      const window = Math.floor(Date.now() / limiter.windowMs);
      if (window !== overflowWindow) {
        overflowWindow = window;
        options.onOverflow?.();
      }
    }
    if (!decision.allowed) throw rateLimited(decision.retryAfterS);
  };
}
