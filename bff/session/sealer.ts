import { createHash, createHmac } from 'node:crypto';
import * as Iron from '@hapi/iron';
import { LRUCache } from 'lru-cache';

/**
 * iron-session 8 (which sealed Latch's cookies before) appends its format version, `~2`, to each
 * seal, and reads a seal without it as version 1 (the value under `persistent`). Both are kept, so
 * cookies sealed by either library open with the other, in both directions (test/bff/session/sealer.test.ts).
 * Exactly these two forms open: the suffix lies outside the MAC, and iron-session reads it with
 * parseInt (`~2x1`, `~2x2`… all read as 2), so any looser reading would turn one valid cookie into any
 * number of distinct strings that open, each a new entry in the cache below.
 */
const IRON_SESSION_SUFFIX = '~2';

/**
 * Default bound of the unsealed-value cache, bytes of heap as retainedBytes() counts them (some 5,000
 * sessions of 2.6 KB cookies). The heap grows by about that much when it is full
 * (test/bff/session/sealer.test.ts measures it).
 */
export const DEFAULT_UNSEAL_CACHE_BYTES = 24 * 1024 * 1024;

export interface SealerOptions {
  /** About how many bytes `unsealCached()` may keep (LRU); 0 turns the cache off. default DEFAULT_UNSEAL_CACHE_BYTES */
  cacheBytes?: number;
}

interface Opened {
  /** The seal that opened to `value`: a copy of its own, never a slice of the request's Cookie header. */
  sealed: string;
  value: object;
  /** The seal's own expiry, epoch ms. */
  expiresAt: number;
  /** Heap bytes this entry keeps alive, about (retainedBytes()). */
  size: number;
}

/**
 * Seals and opens values with iron (Fe26.2) through @hapi/iron, its reference implementation, on
 * node:crypto (several times cheaper per seal than iron-session's WebCrypto path, see docs/bench.md),
 * in iron-session's format (above). Several passwords, newest first: the newest seals, every one
 * opens. Password ids are derived from the passwords themselves, so adding a key never re-labels the
 * old ones: keyed (passwordId()), so that the id, which every cookie shows, is no fingerprint of the
 * secret. Seals with the id Latch wrote before (legacyPasswordId()) still open, and are stale.
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
    // Cookies sealed before the ids were keyed: opened with the same secret (a keyed id wins a clash).
    for (const secret of secrets) this.#passwords[legacyPasswordId(secret)] ??= secret;
    this.#currentId = passwordId(secrets[0]!);
    this.#current = { id: this.#currentId, secret: secrets[0]! };
    const cacheBytes = options.cacheBytes ?? DEFAULT_UNSEAL_CACHE_BYTES;
    this.#opened = cacheBytes > 0 ? new LRUCache<string, Opened>({ maxSize: cacheBytes, sizeCalculation: (value) => value.size }) : undefined;
  }

  async seal(data: object, ttlSeconds: number): Promise<string> {
    const sealed = await Iron.seal(data, this.#current, { ...Iron.defaults, ttl: ttlSeconds * 1000 });
    return sealed + IRON_SESSION_SUFFIX;
  }

  /**
   * The data, or null for anything that does not open: tampered, expired (iron's own expiry, with its
   * 60 s allowance for clock skew), unknown key, garbage. A seal carries its own expiry (seal()'s TTL).
   */
  async unseal<T extends object>(sealed: string): Promise<T | null> {
    if (!sealed.startsWith('Fe26.2*')) return null;
    // The seal, then iron-session's `~2`, or nothing (version 1); any other tail is refused (above).
    const tilde = sealed.indexOf('~');
    const v2 = tilde >= 0;
    if (v2 && sealed.slice(tilde) !== IRON_SESSION_SUFFIX) return null;
    const body = v2 ? sealed.slice(0, tilde) : sealed;
    try {
      const opened: unknown = await Iron.unseal(body, this.#passwords, Iron.defaults);
      const data = v2 ? opened : (opened as { persistent?: unknown } | null)?.persistent;
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
   *
   * Only canonical seals open (unseal(), above), so one valid cookie is one entry. An entry keeps a copy
   * of the seal of its own: the string a request hands in is usually a slice of its whole Cookie header
   * (up to 16 KB, or 32 KB as bff/server.ts admits), which V8 would otherwise keep alive with it. Each
   * entry is counted at what it keeps (retainedBytes()).
   */
  async unsealCached<T extends object>(sealed: string): Promise<T | null> {
    const cache = this.#opened;
    if (!cache) return this.unseal<T>(sealed);
    const remembered = this.unsealCachedNow<T>(sealed);
    if (remembered) return remembered;
    const value = await this.unseal<T>(sealed);
    if (value) {
      const expiresAt = sealExpiry(sealed);
      if (expiresAt > Date.now()) {
        const copy = detached(sealed);
        cache.set(cacheKey(copy), { sealed: copy, value: deepFreeze(value), expiresAt, size: ENTRY_BYTES + stringBytes(copy) + retainedBytes(value) });
      }
    }
    return value;
  }

  /** What the cache of opened seals holds: entries, and the heap bytes they keep as counted. */
  cacheStats(): { entries: number; bytes: number } {
    return { entries: this.#opened?.size ?? 0, bytes: this.#opened?.calculatedSize ?? 0 };
  }

  /**
   * unsealCached() answered at once: the value it remembers for this exact seal (the same frozen
   * object), while the seal's expiry lies ahead; undefined otherwise (call unsealCached()). The
   * synchronous twin of the fast-path family (session/sessions.ts): a warm read needs no promise for it.
   */
  unsealCachedNow<T extends object>(sealed: string): T | undefined {
    const cache = this.#opened;
    if (!cache) return undefined;
    const key = cacheKey(sealed);
    const hit = cache.get(key);
    if (!hit || hit.sealed !== sealed) return undefined;
    if (hit.expiresAt > Date.now()) return hit.value as T;
    cache.delete(key);
    return undefined;
  }

  /** Whether a seal was made with an older key, or under the legacy id (and should be resealed with the newest). */
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

  /** The id Latch wrote for a secret before ids were keyed (seals carrying it still open). */
  static legacyPasswordId(secret: string): string {
    return legacyPasswordId(secret);
  }
}

/** A seal's cache key: its last field, the HMAC (with iron-session's `~2`). A slice of `sealed`, which it keeps. */
function cacheKey(sealed: string): string {
  return sealed.slice(sealed.lastIndexOf('*') + 1);
}

/**
 * A copy of `s` that shares no memory with the string it came from. V8 makes a slice of a long string
 * a view into it (a SlicedString), and a cookie's value is a slice of the Cookie header; a round trip
 * through bytes gives a flat string of its own. Seals are ASCII, so latin1 is exact.
 */
function detached(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/**
 * Heap bytes of an entry besides its seal and value: the key (a sliced string, 20 bytes on 64-bit
 * V8 with pointer compression), the entry object, and the LRU's own per-entry bookkeeping (a Map
 * slot and its index arrays); measured with the rest in test/bff/session/sealer.test.ts.
 */
const ENTRY_BYTES = 160;

/** A string's heap bytes: a 12-byte header, then one byte a character (two if any is beyond latin1), in 4-byte words. */
function stringBytes(s: string): number {
  // eslint-disable-next-line no-control-regex
  const width = /[^\u0000-\u00ff]/.test(s) ? 2 : 1;
  return 12 + Math.ceil((s.length * width) / 4) * 4;
}

/**
 * About how many heap bytes an opened value keeps (it came from JSON.parse: plain objects, arrays,
 * strings, numbers, booleans): strings at their size, objects and arrays at a header plus a slot
 * per member, numbers that are not small integers as a heap number. Property names are shared
 * (internalized) and not counted.
 */
function retainedBytes(value: unknown): number {
  if (typeof value === 'string') return stringBytes(value);
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 2 ** 30 ? 0 : 12;
  if (value === null || typeof value !== 'object') return 0;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + retainedBytes(item), 16 + 4 * value.length);
  let sum = 12;
  for (const key in value) sum += 8 + retainedBytes((value as Record<string, unknown>)[key]);
  return sum;
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

/**
 * A stable, numeric iron password id (numeric, as iron-session wants its ids), written in the clear in
 * every seal: the first 4 bytes of HMAC-SHA256 keyed with the secret over a label of Latch's own. Keyed,
 * so it is no fingerprint of the secret: it matches no SHA-256 of it kept anywhere else (a key id of
 * another product, a table of hashed leaked secrets). A guess at the secret can still be checked
 * against it, as against any seal's own MAC: against guessing, the secret's strength is the defence
 * (bff/secret-strength.ts).
 */
function passwordId(secret: string): string {
  return String(createHmac('sha256', secret).update('latch/iron-password-id/v2').digest().readUInt32BE(0));
}

/** The id before it was keyed: the first 4 bytes of SHA-256 of the secret, an unkeyed fingerprint. */
function legacyPasswordId(secret: string): string {
  return String(createHash('sha256').update(secret).digest().readUInt32BE(0));
}
