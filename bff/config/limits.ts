import type { EnvReader } from './env.ts';

/** What one client or one request may take (README: "Limits"). */
export interface LimitsSection {
  /** LATCH_RATE_LIMIT / LATCH_RATE_LIMIT_WINDOW: requests per IP per window on /login and /callback (0: off). */
  readonly rateLimit: { readonly max: number; readonly windowSeconds: number };
  /** LATCH_MAX_HEADER_BYTES: larger request heads get 431 LATCH_HEADERS_TOO_LARGE. */
  readonly maxHeaderBytes: number;
  /** LATCH_MAX_BODY_BYTES: larger request bodies get 413 LATCH_BODY_TOO_LARGE. */
  readonly maxBodyBytes: number;
  /**
   * LATCH_REQUEST_TIMEOUT_MS: a request, its body included, must arrive within this long (408 or a closed
   * connection otherwise): Node's requestTimeout in bff/server.ts, and the deadline of every body read.
   */
  readonly requestTimeoutMs: number;
  /** LATCH_EVENTS_MAX_STREAMS: `GET /events` streams one instance holds open at most; more get 429 LATCH_RATE_LIMITED. */
  readonly maxEventStreams: number;
}

/** The limits section: LATCH_REQUEST_TIMEOUT_MS, LATCH_RATE_LIMIT(_WINDOW), LATCH_MAX_HEADER_BYTES, LATCH_MAX_BODY_BYTES. */
export function readLimits(env: EnvReader): LimitsSection {
  return {
    requestTimeoutMs: env.int('LATCH_REQUEST_TIMEOUT_MS', 30_000, 1000, 3_600_000),
    rateLimit: { max: env.int('LATCH_RATE_LIMIT', 100, 0, 1_000_000), windowSeconds: env.int('LATCH_RATE_LIMIT_WINDOW', 60, 1, 24 * 60 * 60) },
    maxHeaderBytes: env.int('LATCH_MAX_HEADER_BYTES', 16 * 1024, 4096, 256 * 1024),
    maxBodyBytes: env.int('LATCH_MAX_BODY_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    // An open stream costs at most 32 KB of heap (2,000 streams measured with their clients in the same
    // process: 32 KB each for both sides; the server's part is less): 5,000 of them, under 160 MB.
    maxEventStreams: env.int('LATCH_EVENTS_MAX_STREAMS', 5000, 1, 1_000_000),
  };
}
