import { hash } from 'node:crypto';
import { LatchError } from '../errors.ts';

/**
 * The small key-value surface the session layer shares between instances:
 * the deny-list, one-time markers (logout-token jti, consumed login state),
 * refresh locks and results, and (optionally) server-side sessions.
 *
 * Two implementations: `MemoryStore` (one process, the default) and
 * `RedisStore` (several instances). Every method of a remote store that
 * cannot be reached rejects with `storeUnavailable()` (503
 * LATCH_STORE_UNAVAILABLE), never a raw client error.
 */
export interface KeyValueStore {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | null>;
  /** One round trip for several keys; missing ones are null. */
  mget(keys: readonly string[]): Promise<Array<string | null>>;
  /**
   * mget() answered at once, for stores that hold the data in this process (memory): lets the
   * deny-list check on every session read skip a promise per request. Remote stores leave it out.
   * The fast-path family's twin (session/sessions.ts): the same answer as mget(), or none.
   */
  mgetNow?(keys: readonly string[]): Array<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Sets only when the key is absent (SET NX PX). True when this call set it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Stores a number, keeping the larger of the old and the new value. */
  setMax(key: string, value: number, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
  /** Deletes the key only while it still holds `value` (a lock owner's release). */
  delIfEquals(key: string, value: string): Promise<boolean>;
  /** Resolves when the store can serve (connected); rejects with storeUnavailable otherwise. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export const storeUnavailable = (cause?: unknown) =>
  new LatchError('LATCH_STORE_UNAVAILABLE', {
    cause,
    headers: { 'Retry-After': '1' },
  });

/** A short, fixed-length key part for values we do not control (sub, provider sid, state, jti, tokens). */
export function digest(value: string): string {
  // crypto.hash (one shot): the same SHA-256, without a Hash object; the deny-list runs it on every read.
  return hash('sha256', value, 'base64url').slice(0, 32);
}
