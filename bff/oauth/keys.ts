/**
 * An authorization server's signing keys (its JWKS), for every signature the BFF checks: ID tokens,
 * logout tokens, signed userinfo (providers/oidc.ts) and the access tokens of resource/verify.ts.
 *
 * Why not jose's createRemoteJWKSet: it refetches for an unknown `kid` only when 30 s (its cooldown)
 * have passed since the last fetch, and never when a known `kid` fails to verify. A server that
 * switches keys abruptly then breaks every sign-in for up to 30 s, and a refresh in that window ends
 * the session; and a readiness probe that calls `reload()` restarts the cooldown. Here:
 *
 * - a token whose `kid` is unknown, or whose signature fails against every cached key that could
 *   have made it, fetches the set again **at once** and is checked once more;
 * - fetches are single-flight and at least `floorMs` (1 s) apart, start to start: a stream of tokens
 *   with made-up kids costs one fetch a second, however many there are. A miss inside the floor
 *   waits for the next fetch (at most 1 s) instead of being refused, so a rotation right after any
 *   fetch still verifies;
 * - a fetch that fails (5xx, HTML, not a key set, timeout) is a KeySetUnavailable, never a token
 *   fault: the caller answers 502/503/504, and a refresh keeps the session;
 * - the set is used for `maxAgeMs` (10 minutes, jose's default) and then fetched before use. A set
 *   that cannot be refetched by then is not used (a key the server withdrew must stop working);
 * - `ready()` loads the set when it has none, it is too old, or the last fetch failed, and says
 *   whether it holds a key for the pinned algorithm. It never refetches a good set, so probes
 *   neither hide a stale set nor delay the refetch a rotation needs.
 */
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** Between two fetches of one set, start to start. */
export const KEY_REFETCH_FLOOR_MS = 1000;
/** A set older than this is fetched again before it is used. */
export const KEY_SET_MAX_AGE_MS = 10 * 60_000;
/** A JWKS is a few kilobytes; a megabyte is a misconfigured endpoint, not a key set. */
const MAX_KEY_SET_BYTES = 1024 * 1024;

export type KeySetFailure = 'timeout' | 'unreachable' | 'status' | 'not-json' | 'not-a-key-set' | 'no-usable-key';

/** The key set could not be fetched or used: the server's fault, never the token's. */
export class KeySetUnavailable extends Error {
  readonly reason: KeySetFailure;
  constructor(reason: KeySetFailure, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'KeySetUnavailable';
    this.reason = reason;
  }
}

export interface RemoteKeySetOptions {
  /** Per fetch, ms. */
  timeoutMs: number;
  /** default KEY_REFETCH_FLOOR_MS */
  floorMs?: number;
  /** default KEY_SET_MAX_AGE_MS */
  maxAgeMs?: number;
  /** Called after each fetch with its duration (metrics). */
  observe?: (ms: number, ok: boolean) => void;
}

interface Loaded {
  getKey: ReturnType<typeof createLocalJWKSet>;
  /** Epoch ms of the fetch that loaded it. */
  at: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** jose's answers that mean "none of these keys made this signature": worth one refetch. */
function isKeyMiss(err: unknown): boolean {
  return err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWSSignatureVerificationFailed;
}

export class RemoteKeySet {
  readonly url: URL;
  readonly #timeoutMs: number;
  readonly #floorMs: number;
  readonly #maxAgeMs: number;
  readonly #observe: ((ms: number, ok: boolean) => void) | undefined;
  #loaded: Loaded | undefined;
  /** Start of the last fetch, epoch ms. */
  #lastStart = -Infinity;
  #lastFailed = false;
  #inflight: { promise: Promise<void>; startedAt: number } | undefined;
  /** The next fetch, waiting for the floor or for the one in flight. */
  #queued: Promise<void> | undefined;
  #fetches = 0;

  constructor(url: URL, options: RemoteKeySetOptions) {
    this.url = url;
    this.#timeoutMs = options.timeoutMs;
    this.#floorMs = options.floorMs ?? KEY_REFETCH_FLOOR_MS;
    this.#maxAgeMs = options.maxAgeMs ?? KEY_SET_MAX_AGE_MS;
    this.#observe = options.observe;
  }

  /** How many fetches were started (tests and metrics). */
  get fetches(): number {
    return this.#fetches;
  }

  /**
   * Runs `attempt` (jose's jwtVerify, say) with a key resolver over the cached set. When no cached key
   * could have made the signature (unknown kid, or every candidate fails), the set is fetched again
   * (single flight, floor) and `attempt` runs once more. Token faults are rethrown as jose threw them;
   * fetch faults are KeySetUnavailable.
   */
  async verify<T>(attempt: (getKey: JWTVerifyGetKey) => Promise<T>): Promise<T> {
    const began = Date.now();
    let keys = await this.#current();
    for (let refetched = false; ; ) {
      try {
        return await tryEveryCandidate(keys.getKey, attempt);
      } catch (err) {
        if (refetched || !isKeyMiss(err)) throw err;
        // Another request may have refetched since we took `keys`: try its set before fetching again.
        if (this.#loaded === keys) {
          await this.#refetch(began);
          refetched = true;
        }
        keys = this.#loaded!;
      }
    }
  }

  /**
   * Readiness: loads the set when there is none, it is older than the maximum age, or the last fetch
   * failed; then checks that it holds a key for `alg`. A good set is never refetched here.
   */
  async ready(alg: string): Promise<void> {
    if (!this.#loaded || this.#stale() || this.#lastFailed) await this.#refetch(Date.now());
    try {
      await this.#loaded!.getKey({ alg });
    } catch (err) {
      if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return;
      throw new KeySetUnavailable('no-usable-key', `${this.url.href} holds no usable ${alg} signing key`, err);
    }
  }

  #stale(): boolean {
    return Date.now() - this.#loaded!.at >= this.#maxAgeMs;
  }

  async #current(): Promise<Loaded> {
    if (!this.#loaded || this.#stale()) await this.#refetch(Date.now());
    return this.#loaded!;
  }

  /**
   * A fetch that starts at or after `notBefore` (so it can see keys published since), shared with every
   * caller that can use it, and no sooner than the floor after the previous one.
   */
  #refetch(notBefore: number): Promise<void> {
    if (this.#inflight && this.#inflight.startedAt >= notBefore) return this.#inflight.promise;
    this.#queued ??= (async () => {
      // Yield first, so that `finally` below runs after `#queued` is assigned, never before.
      await null;
      try {
        if (this.#inflight) await this.#inflight.promise.catch(() => undefined);
        const wait = this.#lastStart + this.#floorMs - Date.now();
        if (wait > 0) await sleep(wait);
      } finally {
        this.#queued = undefined;
      }
      return this.#start();
    })();
    return this.#queued;
  }

  #start(): Promise<void> {
    const startedAt = Date.now();
    this.#lastStart = startedAt;
    this.#fetches++;
    const promise = this.#load(startedAt).finally(() => {
      if (this.#inflight?.promise === promise) this.#inflight = undefined;
    });
    this.#inflight = { promise, startedAt };
    return promise;
  }

  async #load(startedAt: number): Promise<void> {
    const began = performance.now();
    try {
      const jwks = await this.#fetch();
      let getKey: Loaded['getKey'];
      try {
        getKey = createLocalJWKSet(jwks);
      } catch (err) {
        throw new KeySetUnavailable('not-a-key-set', `${this.url.href} did not answer a JSON Web Key Set`, err);
      }
      // Fetches never overlap (#refetch waits for the one in flight), so this is the newest set.
      this.#loaded = { getKey, at: startedAt };
      this.#lastFailed = false;
      this.#observe?.(performance.now() - began, true);
    } catch (err) {
      this.#lastFailed = true;
      this.#observe?.(performance.now() - began, false);
      throw err;
    }
  }

  async #fetch(): Promise<JSONWebKeySet> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        headers: { accept: 'application/jwk-set+json, application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new KeySetUnavailable(timeout ? 'timeout' : 'unreachable', `${this.url.href} ${timeout ? 'did not answer in time' : 'cannot be reached'}`, err);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new KeySetUnavailable(timeout ? 'timeout' : 'unreachable', `${this.url.href} broke off its answer`, err);
    }
    if (response.status !== 200) throw new KeySetUnavailable('status', `${this.url.href} answered ${response.status}`);
    if (text.length > MAX_KEY_SET_BYTES) throw new KeySetUnavailable('not-a-key-set', `${this.url.href} answered more than ${MAX_KEY_SET_BYTES} bytes`);
    try {
      return JSON.parse(text) as JSONWebKeySet;
    } catch (err) {
      throw new KeySetUnavailable('not-json', `${this.url.href} did not answer JSON (${response.headers.get('content-type') ?? 'no content type'})`, err);
    }
  }
}

/**
 * jose resolves one key per token; when several keys fit (no `kid`, and more than one key of the
 * algorithm's type), it throws JWKSMultipleMatchingKeys with the candidates. Each is tried in turn
 * (OpenID's kid-absent-multiple-jwks case); none verifying is a signature failure like any other.
 */
async function tryEveryCandidate<T>(getKey: JWTVerifyGetKey, attempt: (getKey: JWTVerifyGetKey) => Promise<T>): Promise<T> {
  try {
    return await attempt(getKey);
  } catch (err) {
    if (!(err instanceof joseErrors.JWKSMultipleMatchingKeys)) throw err;
    for await (const key of err) {
      try {
        return await attempt(() => key);
      } catch (inner) {
        if (!(inner instanceof joseErrors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new joseErrors.JWSSignatureVerificationFailed('no key in the set verifies the signature', { cause: err });
  }
}
