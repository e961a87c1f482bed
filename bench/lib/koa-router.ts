/**
 * The BFF's routes on @koa/router instead of its route table (bff/routes/table.ts), for the bench's
 * side-by-side figures (bench/servers/bff-koa-router.ts over HTTP, bench/in-process.ts without the
 * network): createBff's own app (configuration, edge, session manager, provider, every route with the
 * same deps), its last middleware, the route table, replaced by a @koa/router instance on which the same
 * route functions registered the same handlers (`routes()` and `allowedMethods()`). No change to bff/
 * is needed: createBff exposes its deps as `app.latch`, and each route function takes any object with
 * get/post/all.
 *
 * The edge still asks createBff's route table which routes are rate limited (`lookup`): that table is
 * built whatever routes the requests, and the check is the same in both.
 */
import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Bff } from '../../bff/app.ts';
import { backchannelRoute } from '../../bff/routes/backchannel.ts';
import { callbackRoute } from '../../bff/routes/callback.ts';
import type { RouteDeps } from '../../bff/routes/deps.ts';
import { handoffRoute } from '../../bff/routes/handoff.ts';
import { healthRoute } from '../../bff/routes/health.ts';
import { loginRoute } from '../../bff/routes/login.ts';
import { logoutEndRoute } from '../../bff/routes/logout-end.ts';
import { logoutRoute } from '../../bff/routes/logout.ts';
import { meRoute } from '../../bff/routes/me.ts';
import { metricsRoute } from '../../bff/routes/metrics.ts';
import { passwordRoute } from '../../bff/routes/password.ts';
import { proxyRoute } from '../../bff/routes/proxy.ts';
import { readyRoute } from '../../bff/routes/ready.ts';
import type { RoutePath, RouteTable, RouteTraits } from '../../bff/routes/table.ts';
import { widgetAssetRoute } from '../../bff/routes/widget-asset.ts';

/** The routes createBff registers (bff/app.ts), in its order. */
const ROUTES: Array<(router: RouteTable, deps: RouteDeps) => void> = [
  loginRoute, callbackRoute, meRoute, logoutRoute, logoutEndRoute, handoffRoute, healthRoute, backchannelRoute, passwordRoute, readyRoute, metricsRoute, widgetAssetRoute, proxyRoute,
];

type Handlers = [RouteTraits, ...Middleware[]] | Middleware[];

/** `app` (from createBff, without LATCH_METRICS and LATCH_TRACING, before its callback() is taken) with its routes on @koa/router. */
export function routeThroughKoaRouter(app: Bff): Bff {
  if (app.latch.metrics || app.latch.tracing) throw new Error('routeThroughKoaRouter: build the app without LATCH_METRICS and LATCH_TRACING (their middleware would sit where the router is swapped)');
  // createBff's middleware is [edge, route table] without metrics and tracing: the table is swapped.
  if (app.middleware.length !== 2) throw new Error(`routeThroughKoaRouter: createBff built ${app.middleware.length} middleware, expected 2 (edge, routes)`);
  const router = new Router();
  /** The route table's registration API on @koa/router: a leading traits object is dropped (the edge reads it from createBff's own table). */
  const handlers = (args: Handlers): Middleware[] => (typeof args[0] === 'function' ? args : args.slice(1)) as Middleware[];
  const onKoaRouter = {
    get(path: RoutePath, ...args: Handlers) {
      router.get(path, ...handlers(args));
      return onKoaRouter;
    },
    post(path: RoutePath, ...args: Handlers) {
      router.post(path, ...handlers(args));
      return onKoaRouter;
    },
    all(path: RoutePath, ...args: Handlers) {
      router.all(path, ...handlers(args));
      return onKoaRouter;
    },
  };
  for (const route of ROUTES) route(onKoaRouter as unknown as RouteTable, app.latch);
  app.middleware.splice(1, 1, router.routes() as Middleware, router.allowedMethods() as Middleware);
  return app;
}
