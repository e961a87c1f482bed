import type { KeyValueStore } from '../store.ts';

/** How often expired entries nobody reads again are dropped, ms. */
const SWEEP_MS = 60_000;

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * The default store: a Map with per-key expiry, for one process. Expired
 * entries are dropped when read and by a sweep every SWEEP_MS (an unref'd
 * timer, so it never keeps the process alive). Nothing is shared with other
 * processes: run Redis when you run several instances.
 */
export class MemoryStore implements KeyValueStore {
  readonly kind = 'memory' as const;
  readonly #entries = new Map<string, Entry>();
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #now = Date.now;

  constructor() {
    this.#timer = setInterval(() => this.#sweep(), SWEEP_MS);
    this.#timer.unref();
  }

  /** Drops every expired entry. */
  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }

  #read(key: string): string | null {
    const entry = this.#entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return null;
    }
    return entry.value;
  }

  async get(key: string): Promise<string | null> {
    return this.#read(key);
  }

  async mget(keys: readonly string[]): Promise<Array<string | null>> {
    return this.mgetNow(keys);
  }

  mgetNow(keys: readonly string[]): Array<string | null> {
    return keys.map((key) => this.#read(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.#entries.set(key, { value, expiresAt: this.#now() + Math.max(1, ttlMs) });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.#read(key) !== null) return false;
    this.#entries.set(key, { value, expiresAt: this.#now() + Math.max(1, ttlMs) });
    return true;
  }

  async setMax(key: string, value: number, ttlMs: number): Promise<void> {
    const current = Number(this.#read(key));
    if (Number.isFinite(current) && current >= value) return;
    this.#entries.set(key, { value: String(value), expiresAt: this.#now() + Math.max(1, ttlMs) });
  }

  async del(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async delIfEquals(key: string, value: string): Promise<boolean> {
    if (this.#read(key) !== value) return false;
    this.#entries.delete(key);
    return true;
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#entries.clear();
  }
}
