import { createHash } from 'node:crypto';
import { sealData, unsealData } from 'iron-session';
import { LRUCache } from 'lru-cache';

/** Default bound of the unsealed-value cache, bytes (roughly: twice the sealed string per entry). */
export const DEFAULT_UNSEAL_CACHE_BYTES = 32 * 1024 * 1024;

export interface SealerOptions {
  /** About how many bytes `unsealCached()` may keep (LRU); 0 turns the cache off. default DEFAULT_UNSEAL_CACHE_BYTES */
  cacheBytes?: number;
}

interface Opened {
  value: object;
  /** The seal's own expiry, epoch ms. */
  expiresAt: number;
}

/**
 * Seals and opens values with iron (Fe26.2, via iron-session). Several
 * passwords, newest first: the newest seals, every one opens. Password ids
 * are derived from the passwords themselves, so adding a key never re-labels
 * the old ones.
 */
export class Sealer {
  readonly #passwords: Record<string, string>;
  readonly #current: { [id: string]: string };
  readonly #currentId: string;
  readonly #opened: LRUCache<string, Opened> | undefined;

  constructor(secrets: readonly string[], options: SealerOptions = {}) {
    if (secrets.length === 0) throw new Error('Sealer needs at least one secret');
    this.#passwords = {};
    for (const secret of secrets) this.#passwords[passwordId(secret)] = secret;
    this.#currentId = passwordId(secrets[0]!);
    this.#current = { [this.#currentId]: secrets[0]! };
    const cacheBytes = options.cacheBytes ?? DEFAULT_UNSEAL_CACHE_BYTES;
    // Each entry holds the sealed string (the key) and what it opened to, which is a little smaller.
    this.#opened = cacheBytes > 0 ? new LRUCache<string, Opened>({ maxSize: cacheBytes, sizeCalculation: (_value, key) => 2 * key.length + 512 }) : undefined;
  }

  seal(data: object, ttlSeconds: number): Promise<string> {
    return sealData(data as Record<string, unknown>, { password: this.#current, ttl: ttlSeconds });
  }

  /** The data, or null for anything that does not open: tampered, expired, unknown key, garbage. */
  async unseal<T extends object>(sealed: string, ttlSeconds: number): Promise<T | null> {
    if (!sealed.startsWith('Fe26.2*')) return null;
    try {
      const data = await unsealData<T>(sealed, { password: this.#passwords, ttl: ttlSeconds });
      return data && Object.keys(data).length > 0 ? data : null;
    } catch {
      return null;
    }
  }

  /**
   * unseal(), remembering what opened, keyed by the exact sealed string (a bounded LRU). The same string
   * always opens to the same value: iron's HMAC covers every other part of it, and a Sealer's passwords
   * never change. Only time can change the answer, so a remembered value is used only while the seal's
   * own expiry lies ahead; after that the string is opened again (and refused). Nothing that fails to
   * open is remembered. The values are deep-frozen: every reader of the same cookie shares one.
   * For values read again and again (session cookies and records); one-time values use unseal().
   */
  async unsealCached<T extends object>(sealed: string, ttlSeconds: number): Promise<T | null> {
    const cache = this.#opened;
    if (!cache) return this.unseal<T>(sealed, ttlSeconds);
    const hit = cache.get(sealed);
    if (hit) {
      if (hit.expiresAt > Date.now()) return hit.value as T;
      cache.delete(sealed);
    }
    const value = await this.unseal<T>(sealed, ttlSeconds);
    if (value) {
      const expiresAt = sealExpiry(sealed);
      if (expiresAt > Date.now()) cache.set(sealed, { value: deepFreeze(value), expiresAt });
    }
    return value;
  }

  /** Whether a seal was made with an older key (and should be resealed with the newest). */
  isStale(sealed: string): boolean {
    // Fe26.2*<password id>*<salt>*...: the id is the second field.
    return sealed.split('*', 2)[1] !== this.#currentId;
  }

  /** The id iron writes for a secret (not secret itself): lets tests and tools tell keys apart. */
  static passwordId(secret: string): string {
    return passwordId(secret);
  }
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
