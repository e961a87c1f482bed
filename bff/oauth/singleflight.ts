/**
 * One promise in flight per key: concurrent callers with the same key share
 * it. The entry is dropped when it settles, so a failure is not cached.
 */
export class SingleFlight<T> {
  readonly #inflight = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.#inflight.get(key);
    if (existing) return existing;
    const promise = work().finally(() => {
      this.#inflight.delete(key);
    });
    this.#inflight.set(key, promise);
    return promise;
  }

  get size(): number {
    return this.#inflight.size;
  }
}
