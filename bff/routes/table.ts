import type { Context, Middleware, Next } from 'koa';
import { LatchError } from '../errors.ts';

/** A route's path: exact (a trailing slash is allowed too), or a pattern tested against the whole path. */
export type RoutePath = string | RegExp;

/**
 * What a route declares about itself where it registers, and nowhere else: everything that treats
 * routes differently (the edge's checks, the error answers, the site resolver, the metrics) asks the
 * table about the route a request reaches (`route(ctx)`, `lookup()`), never about its raw path:
 * `/login/` is the same route as `/login`, and so gets the same treatment.
 */
export interface RouteTraits {
  /** A page a browser navigates to: its errors (on GET) are HTML pages, not JSON (middleware/errors.ts). */
  readonly navigation?: boolean;
  /** Counted by the per-client sign-in rate limit (LATCH_RATE_LIMIT): /login and /callback. */
  readonly rateLimited?: boolean;
  /**
   * State-changing, called by pages with fetch: the table's CSRF check (middleware/security.ts) runs
   * first, as the route's own first handler, so a refusal is the route's answer (the metrics name it).
   */
  readonly csrf?: boolean;
  /** Completes a sign-in: counted by `latch_logins_total` (metrics.ts). */
  readonly signIn?: boolean;
  /** Answered on any host, not only the sites' (sites.ts): probes, and the provider's back-channel logout. */
  readonly anyHost?: boolean;
}

/** A registered route, as `lookup` reports it. */
export interface RouteInfo {
  readonly path: RoutePath;
  readonly traits: RouteTraits;
}

interface Route extends RouteInfo {
  /** Upper-case methods, or null for any. */
  readonly methods: ReadonlySet<string> | null;
  readonly handler: Middleware;
}

const NO_TRAITS: RouteTraits = Object.freeze({});

const GET = new Set(['GET', 'HEAD']);
const POST = new Set(['POST']);

/**
 * The BFF's routes. Each route file registers its handlers here (`get`, `post`, `all`), and the app
 * runs `middleware()` after the edge. What it does, and no more:
 *
 * - exact paths by one Map lookup (`/me` and `/me/` alike), then the patterns in the order given;
 * - GET answers HEAD too; a route's handlers are composed once, when it is registered;
 * - a known path with another method: 405 LATCH_BAD_REQUEST with Allow (OPTIONS without a CORS
 *   preflight: 204 with Allow); an unknown path goes on to `next` (the edge answers 404);
 * - the matched route (never the raw path) for the metrics: `matchedRoute(ctx)`;
 * - each route's traits (`{ rateLimited: true }`, given before the handlers), and `route(ctx)`: the
 *   route a request will reach, without running it, found once for the checks before routing and
 *   for the table itself (`lookup()` does the same for a path and method).
 *
 * A table of our own rather than @koa/router: that router matches every route's regular expression
 * and composes a fresh middleware chain on every request, which on a warm `/me` cost more than the
 * edge's checks together (docs/bench.md). The BFF needs none of its features beyond these.
 */
export interface RouteTableOptions {
  /** The check run first on every route that declares `csrf`: throws to refuse the request. */
  csrf?: (ctx: Context) => void;
}

export class RouteTable {
  readonly #exact = new Map<string, Route[]>();
  readonly #patterns: Route[] = [];
  readonly #csrf: Middleware | undefined;

  constructor(options: RouteTableOptions = {}) {
    const check = options.csrf;
    this.#csrf = check && ((ctx, next) => {
      check(ctx);
      return next();
    });
  }

  get(path: RoutePath, ...handlers: RouteArgs): this {
    return this.#add(path, GET, handlers);
  }

  post(path: RoutePath, ...handlers: RouteArgs): this {
    return this.#add(path, POST, handlers);
  }

  /** Any method: the handler decides (the API proxy answers the methods it forwards). */
  all(path: RoutePath, ...handlers: RouteArgs): this {
    return this.#add(path, null, handlers);
  }

  #add(path: RoutePath, methods: ReadonlySet<string> | null, args: RouteArgs): this {
    const [first, ...rest] = args;
    const traits = typeof first === 'function' || first === undefined ? NO_TRAITS : Object.freeze({ ...first });
    const handlers = (typeof first === 'function' ? args : rest) as Middleware[];
    if (handlers.length === 0) throw new Error(`route ${String(path)}: no handler`);
    if (traits.csrf) {
      if (!this.#csrf) throw new Error(`route ${String(path)}: declares csrf, but the table was given no CSRF check`);
      handlers.unshift(this.#csrf);
    }
    const route: Route = { path, traits, methods, handler: chain(handlers) };
    if (typeof path === 'string') {
      if (path !== '/' && path.endsWith('/')) throw new Error(`route ${path}: register it without the trailing slash`);
      const routes = this.#exact.get(path);
      if (routes) routes.push(route);
      else this.#exact.set(path, [route]);
    } else {
      this.#patterns.push(route);
    }
    return this;
  }

  /** The routes registered for `path`, in order. */
  at(path: string): readonly RouteInfo[] {
    return this.#routesAt(path);
  }

  #routesAt(path: string): readonly Route[] {
    const exact = this.#exact.get(path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);
    if (exact) return exact;
    const found: Route[] = [];
    for (const route of this.#patterns) if ((route.path as RegExp).test(path)) found.push(route);
    return found;
  }

  /**
   * The route a request for `path` with `method` reaches (exactly as `middleware()` would choose it),
   * without running it; undefined when none does (an unknown path: 404; another method: 405).
   */
  lookup(path: string, method: string): RouteInfo | undefined {
    return answering(this.#routesAt(path), method);
  }

  /**
   * The route this request reaches (lookup() for its path and method), found once and kept on
   * `ctx.state.latchRoute`: the edge asks first, once the site's mount is off the path, and the
   * table's middleware then runs what it found. undefined when no route takes the request.
   */
  route(ctx: Context): RouteInfo | undefined {
    let found = ctx.state.latchRoute;
    if (found === undefined) found = ctx.state.latchRoute = answering(this.#routesAt(ctx.path), ctx.method) ?? null;
    return found ?? undefined;
  }

  middleware(): Middleware {
    return (ctx: Context, next: Next) => {
      const route = this.route(ctx) as Route | undefined;
      if (route) {
        ctx.state.latchMatched = route;
        return route.handler(ctx, next);
      }
      const routes = this.#routesAt(ctx.path);
      if (routes.length === 0) return next();
      const method = ctx.method;
      ctx.state.latchMatched = routes[0]!;
      const allow = [...new Set(routes.flatMap((route) => [...route.methods!]))].join(', ');
      ctx.set('Allow', allow);
      if (method === 'OPTIONS') {
        ctx.status = 204;
        return Promise.resolve();
      }
      throw new LatchError('LATCH_METHOD_NOT_ALLOWED', { headers: { Allow: allow } });
    };
  }
}

/** The first of a path's routes that takes `method`. */
function answering(routes: readonly Route[], method: string): Route | undefined {
  for (const route of routes) if (route.methods === null || route.methods.has(method)) return route;
  return undefined;
}

/** A route's handlers, optionally after its traits: `get('/login', { rateLimited: true }, handler)`. */
type RouteArgs = [RouteTraits, ...Middleware[]] | Middleware[];

/** One middleware that runs `handlers` in turn, each one's `next` being the one after it. */
function chain(handlers: readonly Middleware[]): Middleware {
  const last = handlers.at(-1)!;
  return handlers.slice(0, -1).reduceRight<Middleware>((rest, handler) => (ctx, next) => handler(ctx, () => rest(ctx, next)), last);
}

/** The route that answered (or refused the method of) this request; undefined when none matched. */
export function matchedRoute(ctx: Context): RouteInfo | undefined {
  return ctx.state.latchMatched;
}
