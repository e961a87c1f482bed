import { createHash } from 'node:crypto';
import * as Iron from '@hapi/iron';
import { LRUCache } from 'lru-cache';

/**
 * iron-session 8 (which sealed Latch's cookies before) appends its format version, `~2`, to each
 * seal, and reads a seal without it as version 1 (the value under `persistent`). Both are kept, so
 * cookies sealed by either library open with the other, in both directions (test/bff/sealer.test.ts).
 */
const IRON_SESSION_VERSION = 2;

/**
 * Default bound of the unsealed-value cache, bytes of heap (about twice the sealed string's length per
 * entry: some 4,000 sessions of 3 KB cookies). RSS grows by about that much when it is full.
 */
export const DEFAULT_UNSEAL_CACHE_BYTES = 24 * 1024 * 1024;

export interface SealerOptions {
  /** About how many bytes `unsealCached()` may keep (LRU); 0 turns the cache off. default DEFAULT_UNSEAL_CACHE_BYTES */
  cacheBytes?: number;
}

interface Opened {
  /** The seal that opened to `value`. */
  sealed: string;
  value: object;
  /** The seal's own expiry, epoch ms. */
  expiresAt: number;
  /** Heap bytes, about. */
  size: number;
}

/**
 * Seals and opens values with iron (Fe26.2) through @hapi/iron, its reference implementation, on
 * node:crypto (several times cheaper per seal than iron-session's WebCrypto path, see docs/bench.md),
 * in iron-session's format (above). Several passwords, newest first: the newest seals, every one
 * opens. Password ids are derived from the passwords themselves, so adding a key never re-labels the
 * old ones.
 */
export class Sealer {
  readonly #passwords: Record<string, string>;
  readonly #current: { id: string; secret: string };
  readonly #currentId: string;
  readonly #opened: LRUCache<string, Opened> | undefined;

  constructor(secrets: readonly string[], options: SealerOptions = {}) {
    if (secrets.length === 0) throw new Error('Sealer needs at least one secret');
    this.#passwords = {};
    for (const secret of secrets) this.#passwords[passwordId(secret)] = secret;
    this.#currentId = passwordId(secrets[0]!);
    this.#current = { id: this.#currentId, secret: secrets[0]! };
    const cacheBytes = options.cacheBytes ?? DEFAULT_UNSEAL_CACHE_BYTES;
    // An entry holds a 45-character key, the seal, and what the seal opened to (about as large again).
    this.#opened = cacheBytes > 0 ? new LRUCache<string, Opened>({ maxSize: cacheBytes, sizeCalculation: (value) => value.size }) : undefined;
  }

  async seal(data: object, ttlSeconds: number): Promise<string> {
    const sealed = await Iron.seal(data, this.#current, { ...Iron.defaults, ttl: ttlSeconds * 1000 });
    return `${sealed}~${IRON_SESSION_VERSION}`;
  }

  /**
   * The data, or null for anything that does not open: tampered, expired (iron's own expiry, with its
   * 60 s allowance for clock skew), unknown key, garbage. `ttlSeconds` is not consulted: a seal carries
   * its expiry.
   */
  async unseal<T extends object>(sealed: string, _ttlSeconds?: number): Promise<T | null> {
    if (!sealed.startsWith('Fe26.2*')) return null;
    // As iron-session reads it: the seal, then its format version after a `~`.
    const [body, version] = sealed.split('~');
    try {
      const opened: unknown = await Iron.unseal(body!, this.#passwords, Iron.defaults);
      const data = version !== undefined && Number.parseInt(version, 10) === IRON_SESSION_VERSION ? opened : (opened as { persistent?: unknown } | null)?.persistent;
      return data !== null && typeof data === 'object' && Object.keys(data).length > 0 ? (data as T) : null;
    } catch {
      return null;
    }
  }

  /**
   * unseal(), remembering what opened, in a bounded LRU. An entry is found by the seal's last field (its
   * HMAC, 43 characters, with iron-session's `~2`) and used only when the whole string is the one that
   * opened: the HMAC covers every other part, so a seal's MAC names it, and the string comparison keeps
   * a forged seal that reuses a real MAC from ever being answered from memory. (Hashing the whole 2.6 KB
   * seal for a key cost more than the rest of a cached read.) A Sealer's passwords never change, so the
   * same string always opens to the same value; only time can change the answer, so a remembered value
   * is used only while the seal's own expiry lies ahead, after which the string is opened again (and
   * refused). Nothing that fails to open is remembered. The values are deep-frozen: every reader of the
   * same cookie shares one. For values read again and again (session cookies and records); one-time
   * values use unseal().
   */
  async unsealCached<T extends object>(sealed: string, ttlSeconds: number): Promise<T | null> {
    const cache = this.#opened;
    if (!cache) return this.unseal<T>(sealed, ttlSeconds);
    const remembered = this.openedBefore<T>(sealed);
    if (remembered) return remembered;
    const value = await this.unseal<T>(sealed, ttlSeconds);
    if (value) {
      const expiresAt = sealExpiry(sealed);
      // `sealed` may be a slice of the request's Cookie header, which it then keeps: about as large.
      if (expiresAt > Date.now()) cache.set(cacheKey(sealed), { sealed, value: deepFreeze(value), expiresAt, size: 2 * sealed.length + 256 });
    }
    return value;
  }

  /**
   * What unsealCached() remembers for this exact seal, while its expiry lies ahead; undefined
   * otherwise (call unsealCached()). Synchronous: a warm read needs no promise for it.
   */
  openedBefore<T extends object>(sealed: string): T | undefined {
    const cache = this.#opened;
    if (!cache) return undefined;
    const key = cacheKey(sealed);
    const hit = cache.get(key);
    if (!hit || hit.sealed !== sealed) return undefined;
    if (hit.expiresAt > Date.now()) return hit.value as T;
    cache.delete(key);
    return undefined;
  }

  /** Whether a seal was made with an older key (and should be resealed with the newest). */
  isStale(sealed: string): boolean {
    // Fe26.2*<password id>*<salt>*...: the id is the second field.
    const start = sealed.indexOf('*') + 1;
    if (start === 0) return true;
    const end = sealed.indexOf('*', start);
    return sealed.slice(start, end < 0 ? undefined : end) !== this.#currentId;
  }

  /** The id iron writes for a secret (not secret itself): lets tests and tools tell keys apart. */
  static passwordId(secret: string): string {
    return passwordId(secret);
  }
}

/** A seal's cache key: its last field, the HMAC (with iron-session's `~2`). */
function cacheKey(sealed: string): string {
  return sealed.slice(sealed.lastIndexOf('*') + 1);
}

/** The expiry iron wrote in a seal (`Fe26.2*id*salt*iv*data*<expiry ms>*…`), or 0 for none. */
function sealExpiry(sealed: string): number {
  const field = sealed.split('*', 6)[5];
  return field && /^\d+$/.test(field) ? Number(field) : 0;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** A stable, numeric iron password id: not secret, as iron writes it in the clear. */
function passwordId(secret: string): string {
  return String(createHash('sha256').update(secret).digest().readUInt32BE(0));
}
