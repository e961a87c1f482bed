import { ConfigError } from '../errors.ts';

/** The environment: process.env, or a record a test or an embedding application gives. */
export type Env = Readonly<Record<string, string | undefined>>;

/** One thing wrong with the configuration, named by its variable (or a place inside one: `LATCH_SITES[2].baseUrl`). */
export interface ConfigProblem {
  readonly variable: string;
  readonly problem: string;
}

/** The one setting every URL check depends on, so the root reader reads it before anything else. */
const INSECURE_HTTP = 'LATCH_ALLOW_INSECURE_HTTP';

/**
 * The one reader of the environment: each section of the configuration (bff/config/*.ts) reads its
 * variables through it, and it collects every problem instead of stopping at the first, so that one
 * ConfigError names them all. A value that fails a check reads as its default (or undefined), so the
 * sections go on and find the other problems.
 *
 * Names are relative to the reader's prefix. The root reader's prefix is empty: it reads `PORT` and
 * `LATCH_BASE_URL` as they are. `under(prefix)` gives a reader of one group of variables that reports
 * into the same list: the provider's (`LATCH_`, so `ISSUER` is `LATCH_ISSUER`), an API route's
 * (`LATCH_API_ROUTE_ORDERS_`). A section that reads through such a reader, and names other variables
 * in its messages with `name()`, can be read again under another prefix unchanged.
 */
export class EnvReader {
  readonly #env: Env;
  readonly #prefix: string;
  readonly #problems: ConfigProblem[];
  /** LATCH_ALLOW_INSECURE_HTTP: `url()` accepts http:// (development only). The same for every prefix. */
  readonly allowInsecureHttp: boolean;

  private constructor(env: Env, prefix: string, problems: ConfigProblem[], allowInsecureHttp: boolean | undefined) {
    this.#env = env;
    this.#prefix = prefix;
    this.#problems = problems;
    this.allowInsecureHttp = allowInsecureHttp ?? this.bool(INSECURE_HTTP);
  }

  /** The root reader of `env`. It reads LATCH_ALLOW_INSECURE_HTTP at once: the URL checks of every section need it. */
  static of(env: Env): EnvReader {
    return new EnvReader(env, '', [], undefined);
  }

  /** A reader of the names under `prefix` (added to this reader's), reporting into the same problems. */
  under(prefix: string): EnvReader {
    return new EnvReader(this.#env, this.#prefix + prefix, this.#problems, this.allowInsecureHttp);
  }

  /**
   * A reader of the same environment in which the variable `fullName` (its full name) reads as
   * `map` of its value, reporting into the same problems: a templated issuer (`{tenant}`) checked as
   * the URL one tenant makes of it.
   */
  withValue(fullName: string, map: (value: string) => string): EnvReader {
    const value = this.#env[fullName];
    return new EnvReader(value === undefined ? this.#env : { ...this.#env, [fullName]: map(value) }, this.#prefix, this.#problems, this.allowInsecureHttp);
  }

  /** The full name of `name`: what the operator sets, and what problems and messages say. */
  name(name: string): string {
    return this.#prefix + name;
  }

  fail(name: string, problem: string): void {
    this.#problems.push({ variable: this.name(name), problem });
  }

  /** How many problems every reader of this environment has found so far. */
  get problemCount(): number {
    return this.#problems.length;
  }

  /** Throws one ConfigError naming every problem found, if there is any. */
  throwIfProblems(): void {
    if (this.#problems.length > 0) throw new ConfigError(this.#problems);
  }

  /** The value, trimmed; undefined when unset or blank. */
  str(name: string): string | undefined {
    const value = this.#env[this.name(name)]?.trim();
    return value ? value : undefined;
  }

  /** The value; '' (and a problem) when unset or blank. */
  required(name: string): string {
    const value = this.str(name);
    if (value === undefined) this.fail(name, 'is required');
    return value ?? '';
  }

  /** `true`/`1` or `false`/`0`; unset is false. */
  bool(name: string): boolean {
    const value = this.str(name);
    if (value === undefined) return false;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    this.fail(name, `must be true or false, got "${value}"`);
    return false;
  }

  /** A whole number from `min` to `max`; `fallback` when unset or out of range. */
  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.str(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.fail(name, `must be a whole number from ${min} to ${max}, got "${value}"`);
      return fallback;
    }
    return n;
  }

  /** One of `choices`; `fallback` when unset, undefined (and a problem) when it is something else. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T | undefined {
    const value = this.str(name) ?? fallback;
    if ((choices as readonly string[]).includes(value)) return value as T;
    this.fail(name, `must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}, got "${value}"`);
    return undefined;
  }

  /** A comma-separated list, each item trimmed, blanks dropped. */
  list(name: string): string[] {
    return splitList(this.str(name));
  }

  /**
   * `value` as an https:// URL (http:// too with LATCH_ALLOW_INSECURE_HTTP), else undefined and a
   * problem under `name`. undefined stays undefined without a problem: required-ness is the caller's.
   */
  url(name: string, value: string | undefined): URL | undefined {
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      this.fail(name, `must be an absolute URL, got "${value}"`);
      return undefined;
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      this.fail(name, 'must be an https:// URL');
      return undefined;
    }
    if (parsed.protocol === 'http:' && !this.allowInsecureHttp) {
      this.fail(name, `must use https:// (set ${INSECURE_HTTP}=true for local development only)`);
      return undefined;
    }
    return parsed;
  }

  /** The items that are bare origins (scheme://host[:port], a trailing slash allowed), each other one a problem under `name`. */
  origins(name: string, items: readonly string[]): string[] {
    const out: string[] = [];
    for (const item of items) {
      const parsed = this.url(name, item);
      if (!parsed) continue;
      if (parsed.origin !== item.replace(/\/$/, '')) {
        this.fail(name, `"${item}" must be a bare origin such as https://www.example.com`);
        continue;
      }
      out.push(parsed.origin);
    }
    return out;
  }
}

/** A comma-separated list, each item trimmed, blanks dropped. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
